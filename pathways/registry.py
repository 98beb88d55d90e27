"""The pathways of the public registry: one entry per pathway with a published endorsement.

Rendered by endorsement.registry.registry_refresh into the same snapshot as the programmes (its
`pathways` list), from the frozen snapshot the newest published endorsement was granted on; each
component carries its own endorsement standing as it is now (a component programme's newest
published endorsement), so that a reader sees at once when a part has lost its own.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.urls import reverse

from endorsement.models import ApplicationState, Endorsement, EndorsementState
from institutions.keys import organisation_did
from pathways.achievements import component_url, pathway_achievement_id
from pathways.models import Pathway


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def programme_standings(public_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Each programme's newest published endorsement: its state and period (an empty dict for none)."""
    rows = (Endorsement.objects.filter(programme__public_id__in=public_ids,
                                       application__state=ApplicationState.PUBLISHED)
            .order_by("programme_id", "-valid_from", "-pk")
            .values("programme__public_id", "state", "valid_until", "public_id", "credential__id"))
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = str(row["programme__public_id"])
        if key in found or row["state"] == EndorsementState.SCHEDULED:
            continue
        found[key] = {"state": row["state"], "valid_until": _iso(row["valid_until"]),
                      "endorsementCredential": settings.SITE_URL + reverse("endorsement-credential",
                                                                           args=[row["public_id"]])}
    return found


def pathway_entries() -> list[dict[str, Any]]:
    """One entry per pathway with a published endorsement, newest endorsed first."""
    rows = (Endorsement.objects.filter(pathway__isnull=False, application__state=ApplicationState.PUBLISHED)
            .exclude(state=EndorsementState.SCHEDULED)
            .select_related("pathway__organisation", "application__criteria_table")
            .order_by("pathway_id", "-valid_from", "-pk"))
    newest: dict[int, Endorsement] = {}
    for endorsement in rows:
        newest.setdefault(endorsement.pathway_id, endorsement)
    snapshots = {pk: e.application.snapshot or {} for pk, e in newest.items()}
    programme_ids = {c["programme"]["public_id"] for s in snapshots.values() for c in s.get("components", [])
                     if c.get("programme")}
    standings = programme_standings(programme_ids)
    entries = []
    for pk, endorsement in sorted(newest.items(), key=lambda pair: (pair[1].valid_from, pair[0]), reverse=True):
        entries.append(_entry(endorsement.pathway, endorsement, snapshots[pk], standings))
    return entries


def _entry(pathway: Pathway, endorsement: Endorsement, content: dict[str, Any],
           standings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    public_id = str(pathway.public_id)
    page = settings.SITE_URL + reverse("registry:pathway", args=[pathway.public_id])
    organisation = pathway.organisation
    components = []
    for component in content.get("components", []):
        item = {key: component.get(key) for key in ("code", "name_en", "name_ja", "description_en", "description_ja",
                                                     "hours", "is_capstone")}
        item["achievement"] = component_url(component)
        if component.get("programme"):
            programme = component["programme"]
            item["programme"] = {
                **programme, "url": settings.SITE_URL + reverse("registry:programme", args=[programme["public_id"]]),
            }
            item["endorsement"] = standings.get(programme["public_id"]) or None
        else:
            item["external"] = component.get("external")
            item["endorsement"] = None
        components.append(item)
    table = endorsement.application.criteria_table
    credential_url = (settings.SITE_URL + reverse("endorsement-credential", args=[endorsement.public_id])
                      if endorsement.credential else None)
    achievement = pathway_achievement_id(pathway, endorsement.version) + ".json"
    body = {key: content.get(key) for key in ("name_en", "name_ja", "description_en", "description_ja",
                                             "learning_outcomes", "level", "level_framework", "learning_hours",
                                             "assessment_of_whole", "stackability", "language")}
    body["components"] = components
    body["rules"] = content.get("rules", [])
    org = {"slug": organisation.slug, "name": organisation.name, "name_ja": organisation.name_ja,
           "did": organisation_did(organisation),
           "url": (settings.SITE_URL + reverse("registry:organisation", args=[organisation.slug])
                   if not organisation.is_certification_body else settings.SITE_URL + "/")}
    search = [body["name_en"], body["name_ja"], body["description_en"], body["description_ja"],
              *(body["learning_outcomes"] or []), organisation.name, organisation.name_ja,
              *(c.get("name_en") or "" for c in components), *(c.get("name_ja") or "" for c in components),
              *((c.get("programme") or {}).get("name_en") or "" for c in components),
              *((c.get("programme") or {}).get("name_ja") or "" for c in components)]
    return {
        "id": public_id,
        "url": page,
        "pathway": body,
        "organisation": org,
        "endorsement": {
            "id": str(endorsement.public_id), "state": endorsement.state, "version": endorsement.version,
            "achievement": achievement,
            "valid_from": endorsement.valid_from.isoformat(), "valid_until": endorsement.valid_until.isoformat(),
            "published_at": _iso(endorsement.published_at), "state_changed_at": _iso(endorsement.state_changed_at),
            "criteria_table": {"code": table.code, "version": table.version} if table else None,
            "endorsementCredential": credential_url,
        },
        "links": {"registry_page": page, "achievement": achievement, "endorsementCredential": credential_url},
        "search_text": fold("\n".join(str(p) for p in search if p)),
    }


def pathways_by_programme(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each programme id, the pathways (id, url, names) it is a component of."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        for component in entry["pathway"]["components"]:
            programme = component.get("programme")
            if programme:
                found.setdefault(programme["public_id"], []).append({
                    "id": entry["id"], "url": entry["url"], "name_en": entry["pathway"]["name_en"],
                    "name_ja": entry["pathway"]["name_ja"]})
    return found
