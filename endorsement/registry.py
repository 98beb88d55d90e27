"""The public registry: rendered from the database into a snapshot, never patched in place.

`registry_refresh()` is what the Celery task `refresh_registry` runs, and the only code here that
reads the workflow's tables. It renders one entry per published programme (its newest published
endorsement, the earlier ones listed beside it, issuance figures, links and a folded search text)
and one entry per member organisation. Rendering the same database twice gives the same digest, and
an unchanged digest writes no new row.

Pages and open data read only the newest `RegistrySnapshot`, through `registry_current()`: one small
query (`SELECT id, digest, generated_at`) per request; the parsed snapshot, its sort orders and its
serialised open-data bodies are kept in the process until a newer snapshot appears.

When the snapshot is refreshed:
- on every change of an endorsement's standing and on publication (endorsement.services);
- when badges are issued or revoked (`registry_changed`, called by badges.awards): the issuance
  counts changed. With a broker, one refresh per `REFRESH_DELAY_SECONDS` window, however many
  awards (a batch of 2,000 costs one or two renders, not 2,000); with no broker (eager tasks)
  nothing can run later, so the refresh runs after each commit (after each chunk of a batch);
- when an issuance report is filed (endorsement.reports) and when an organisation's membership
  changes (institutions.services): `registry_refresh_on_commit`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from badges.models import Award
from config.tasking import enqueue_on_commit, task_named
from endorsement.models import (
    ApplicationState,
    Endorsement,
    EndorsementState,
    IssuanceReport,
    QualityReview,
    QualityReviewState,
    RegistrySnapshot,
    ReportStatus,
)
from institutions.keys import organisation_did
from institutions.models import MembershipState, Organisation
from pathways.registry import pathway_entries, pathways_by_programme

# Snapshots kept (the newest serves; older ones are history). At 10,000 programmes a snapshot is
# about 25 MB of JSON, so keep few.
KEEP_SNAPSHOTS = 5
log = logging.getLogger(__name__)
# With a broker: after an award is issued or revoked, refresh at most once per this many seconds.
REFRESH_DELAY_SECONDS = int(getattr(settings, "REGISTRY_REFRESH_DELAY_SECONDS", 30))
_PENDING_KEY = "endorsement:registry-refresh-pending"
# Memberships that make an organisation appear in the registry with a page of its own.
LISTED_MEMBERSHIPS = [MembershipState.ACTIVE, MembershipState.SUSPENDED, MembershipState.WITHDRAWN]
_ZERO = uuid.UUID(int=0)


def fold(text: str) -> str:
    """Comparable text: NFKC (full-width to half-width, for Japanese input) and case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _url(name: str, sample: Any = _ZERO):
    """A fast URL maker for one route: reverse once, then substitute (10,000 reverses cost ~0.5 s)."""
    template = settings.SITE_URL + reverse(name, args=[sample])
    marker = str(sample)
    return lambda value: template.replace(marker, str(value))


# --- Rendering (the only part that queries) -------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


ENDORSEMENT_COLUMNS = (
    "pk", "public_id", "programme_id", "organisation_id", "state", "valid_from", "valid_until", "published_at",
    "state_changed_at", "comment", "signed", "application__snapshot", "application__criteria_table__code",
    "application__criteria_table__version", "programme__public_id", "programme__name_en", "programme__name_ja",
    "version",
)


def _achievement_of(row: dict[str, Any], achievement_url, version_url) -> str:
    # Version 1 keeps the programme's own Achievement URL (badges.achievements.achievement_id).
    public_id = row["programme__public_id"]
    if row["version"] <= 1:
        return achievement_url(public_id)
    return version_url(public_id).replace("/v2.json", f"/v{row['version']}.json")


def _endorsement_part(row: dict[str, Any], credential_url, awards: dict[int, int], achievement=None) -> dict[str, Any]:
    code = row["application__criteria_table__code"]
    return {
        "id": str(row["public_id"]),
        "state": row["state"],
        "version": row["version"],
        "achievement": achievement(row) if achievement else None,
        "endorsed_on": row["valid_from"].date().isoformat(),
        "valid_from": row["valid_from"].isoformat(),
        "valid_until": row["valid_until"].isoformat(),
        "published_at": _iso(row["published_at"]),
        "state_changed_at": _iso(row["state_changed_at"]),
        "comment": row["comment"],
        "criteria_table": {"code": code, "version": row["application__criteria_table__version"]} if code else None,
        "endorsementCredential": credential_url(row["public_id"]) if row["signed"] else None,
        "badges_issued_here": awards.get(row["pk"], 0),
    }


def _search_text(programme: dict[str, Any], organisation: dict[str, Any]) -> str:
    parts = [
        programme["name_en"], programme["name_ja"], programme["description_en"], programme["description_ja"],
        *programme["learning_outcomes"], *programme["tags"], organisation["name"], organisation["name_ja"],
    ]
    return fold("\n".join(str(p) for p in parts if p))


def _programme_part(snapshot: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    hours = snapshot.get("learning_hours")
    return {
        "name_en": snapshot.get("name_en", row["programme__name_en"]) or "",
        "name_ja": snapshot.get("name_ja", row["programme__name_ja"]) or "",
        "description_en": snapshot.get("description_en") or "",
        "description_ja": snapshot.get("description_ja") or "",
        "learning_outcomes": [str(o) for o in snapshot.get("learning_outcomes") or []],
        "criteria_narrative": snapshot.get("criteria_narrative") or "",
        "assessment_method": snapshot.get("assessment_method") or "",
        "level": snapshot.get("level") or "",
        "level_framework": snapshot.get("level_framework") or "",
        "learning_hours": str(hours) if hours not in (None, "") else None,
        "credential_pattern": snapshot.get("credential_pattern") or "",
        "achievement_type": snapshot.get("achievement_type") or "",
        "participation_form": snapshot.get("participation_form") or "",
        "language": snapshot.get("language") or "",
        "tags": [str(t) for t in snapshot.get("tags") or []],
        "alignments": list(snapshot.get("alignments") or []),
    }


def _organisation_ref(organisation: Organisation, org_url) -> dict[str, Any]:
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "name_ja": organisation.name_ja,
        "kind": organisation.kind,
        "country": organisation.country,
        "did": organisation_did(organisation),
        "url": org_url(organisation.slug),
    }


def _reports_by_programme() -> dict[int, list[dict[str, Any]]]:
    reports: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # Only filed reports: a corrected revision or a withdrawn report no longer counts.
    rows = IssuanceReport.objects.filter(status=ReportStatus.FILED).order_by(
        "period_start", "period_end", "platform", "pk").values(
        "programme_id", "endorsement__public_id", "period_start", "period_end", "platform", "count", "note",
        "reported_at", "revision",
    )
    for row in rows:
        reports[row["programme_id"]].append({
            "endorsement": str(row["endorsement__public_id"]),
            "period_start": row["period_start"].isoformat(),
            "period_end": row["period_end"].isoformat(),
            "platform": row["platform"],
            "count": row["count"],
            "note": row["note"],
            "reported_at": row["reported_at"].isoformat(),
            "revision": row["revision"],
        })
    return reports


def _conditions_by_endorsement() -> dict[int, dict[str, str]]:
    """Conditions a quality review set, still to be met: {"text", "due"} by endorsement (one query)."""
    rows = QualityReview.objects.filter(state=QualityReviewState.CONDITIONS).values(
        "endorsement_id", "conditions", "conditions_due")
    return {r["endorsement_id"]: {"text": r["conditions"], "due": r["conditions_due"].isoformat()} for r in rows}


def _award_counts() -> dict[int, int]:
    """Badges issued by this server and not revoked, per endorsement (one aggregate query)."""
    rows = Award.objects.filter(revoked_at__isnull=True).values("endorsement_id").annotate(n=Count("pk"))
    return {row["endorsement_id"]: row["n"] for row in rows.order_by()}


def _award_months() -> dict[int, dict[str, int]]:
    """Badges issued by this server and not revoked, per programme and calendar month ("YYYY-MM"),
    for the registry page's chart (endorsement/figures.py). One aggregate query."""
    rows = (
        Award.objects.filter(revoked_at__isnull=True)
        .annotate(month=TruncMonth("issued_at", tzinfo=timezone.get_default_timezone()))
        .values("programme_id", "month").annotate(n=Count("pk")).order_by()
    )
    months: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        months[row["programme_id"]][f"{row['month']:%Y-%m}"] = row["n"]
    return {pk: dict(sorted(by_month.items())) for pk, by_month in months.items()}


def _endorser() -> dict[str, Any] | None:
    body = Organisation.objects.filter(is_certification_body=True).first()
    if body is None:
        return None
    return {"name": body.name, "name_ja": body.name_ja, "did": organisation_did(body)}


def registry_entries() -> list[dict[str, Any]]:
    """One entry per programme with a published endorsement: the newest such endorsement is the
    programme's `endorsement`, earlier ones are `previous_endorsements`. Newest endorsed first.
    Six queries whatever the size; rows are read as dicts (no model instances: at 10,000 entries
    building models cost more than everything else)."""
    rows = (
        # Programmes only: pathways have a list of their own (pathways.registry).
        Endorsement.objects.filter(application__state=ApplicationState.PUBLISHED, programme__isnull=False)
        # Whether the credential is signed, not the credential (several kB each).
        .annotate(signed=ExpressionWrapper(Q(credential__isnull=False), output_field=BooleanField()))
        .order_by("programme_id", "-valid_from", "-pk")
        .values(*ENDORSEMENT_COLUMNS)
    )
    awards, reports, endorser = _award_counts(), _reports_by_programme(), _endorser()
    award_months = _award_months()
    conditions = _conditions_by_endorsement()
    page_url, achievement_url = _url("registry:programme"), _url("achievement-json")
    template = settings.SITE_URL + reverse("achievement-version-json", args=[_ZERO, 2])
    version_url = lambda value: template.replace(str(_ZERO), str(value))  # noqa: E731

    def achievement(row: dict[str, Any]) -> str:
        return _achievement_of(row, achievement_url, version_url)
    credential_url, org_url = _url("endorsement-credential"), _url("registry:organisation", "slug-x")
    mark_svg, mark_html = _url("registry:mark_svg"), _url("registry:mark_html")

    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["programme_id"]].append(row)
    organisations = {
        o.pk: _organisation_ref(o, org_url)
        for o in Organisation.objects.filter(pk__in={g[0]["organisation_id"] for g in grouped.values()})
    }
    ranked = []
    for group in grouped.values():
        # The current endorsement is the newest that has started; a renewal or change granted but
        # not started yet is shown as `next_endorsement` (and earlier ones as the history).
        upcoming = [e for e in group if e["state"] == EndorsementState.SCHEDULED]
        started = [e for e in group if e["state"] != EndorsementState.SCHEDULED]
        if not started:
            started, upcoming = upcoming[-1:], upcoming[:-1]
        current, earlier = started[0], started[1:]
        public_id = str(current["programme__public_id"])
        content = _programme_part(current["application__snapshot"] or {}, current)
        organisation = organisations[current["organisation_id"]]
        programme_reports = reports.get(current["programme_id"], [])
        endorsement = {**_endorsement_part(current, credential_url, awards, achievement),
                       "conditions": conditions.get(current["pk"]), "endorser": endorser}
        previous = [_endorsement_part(e, credential_url, awards, achievement) for e in earlier]
        following = [_endorsement_part(e, credential_url, awards, achievement) for e in upcoming]
        entry = {
            "id": public_id,
            "url": page_url(public_id),
            "programme": content,
            "organisation": organisation,
            "endorsement": endorsement,
            "previous_endorsements": previous,
            "next_endorsement": following[-1] if following else None,
            "links": {
                "registry_page": page_url(public_id),
                "achievement": endorsement["achievement"],
                "endorsementCredential": endorsement["endorsementCredential"],
                "mark_svg": mark_svg(public_id),
                "mark_html": mark_html(public_id),
            },
            "issuance": {
                "issued_here": sum(e["badges_issued_here"] for e in [endorsement, *previous, *following]),
                "reported_elsewhere": sum(r["count"] for r in programme_reports),
                "reports": programme_reports,
                "issued_here_by_month": award_months.get(current["programme_id"], {}),
            },
            "search_text": _search_text(content, organisation),
        }
        ranked.append(((current["valid_from"], -current["programme_id"]), entry))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in ranked]


def registry_organisations(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per member organisation (active, suspended or withdrawn, and any organisation with
    a published programme), with its profile, membership standing, DID and endorsed programmes."""
    programmes: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        programmes[entry["organisation"]["slug"]].append(entry["id"])
    organisations = Organisation.objects.filter(is_certification_body=False).filter(
        Q(membership__in=LISTED_MEMBERSHIPS) | Q(slug__in=list(programmes))
    ).order_by("slug")
    org_url = _url("registry:organisation", "slug-x")
    did_url = _url("organisation-did", "slug-x")
    result = []
    for organisation in organisations:
        result.append({
            **_organisation_ref(organisation, org_url),
            "description": organisation.description,
            "website": organisation.website,
            "did_document": did_url(organisation.slug),
            "membership": organisation.membership,
            "membership_since": _iso(organisation.membership_changed_at or organisation.applied_at),
            "programmes": programmes.get(organisation.slug, []),
        })
    return result


def _digest(entries: list[dict[str, Any]], organisations: list[dict[str, Any]],
            pathways: list[dict[str, Any]] | None = None) -> str:
    # Keys come out in the order the code (or the stored snapshot) gives them, the same on every run,
    # so no sort_keys; ASCII escapes and no circularity check: about three times faster at 30 MB.
    document = {"entries": entries, "organisations": organisations}
    if pathways:  # without pathways the digest stays what it was before pathways existed
        document["pathways"] = pathways
    return hashlib.sha256(json.dumps(document, separators=(",", ":"), check_circular=False).encode()).hexdigest()


@transaction.atomic
def registry_refresh() -> RegistrySnapshot:
    """Render the registry from the database; write a snapshot only when it changed. Safe to repeat:
    an unchanged registry writes nothing. Keeps the newest KEEP_SNAPSHOTS rows."""
    entries = registry_entries()
    pathways = pathway_entries()
    member_of = pathways_by_programme(pathways)
    for entry in entries:
        if entry["id"] in member_of:
            entry["pathways"] = member_of[entry["id"]]
    organisations = registry_organisations(entries)
    digest = _digest(entries, organisations, pathways)
    latest = RegistrySnapshot.objects.select_for_update().order_by("-id").only("id", "digest").first()
    if latest is not None and latest.digest == digest:
        return latest  # entries deferred: loading 30 MB only to return the digest would double the cost
    snapshot = RegistrySnapshot.objects.create(digest=digest, entries=entries, organisations=organisations,
                                               pathways=pathways)
    # The signed list of endorsed issuers derives from the snapshot (endorsement.trust).
    enqueue_on_commit("endorsement.tasks.sign_trust_list")
    stale = RegistrySnapshot.objects.order_by("-id").values_list("pk", flat=True)[KEEP_SNAPSHOTS:]
    RegistrySnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot


def registry_latest() -> RegistrySnapshot | None:
    return RegistrySnapshot.objects.order_by("-id").first()


# --- When to refresh ------------------------------------------------------------------------------
def registry_refresh_on_commit() -> None:
    """Refresh the registry once this transaction commits (nothing if it rolls back)."""
    enqueue_on_commit("endorsement.tasks.refresh_registry")


def refresh_slot_taken() -> bool:
    """Claim the one delayed refresh of the current window: True for the first caller of a window
    (which schedules it), False while one is pending. The key expires a second before the refresh
    runs, so every change that found the slot taken committed before that refresh reads."""
    return cache.add(_PENDING_KEY, "1", timeout=max(1, REFRESH_DELAY_SECONDS - 1))


def _schedule_refresh() -> None:
    refresh_registry = task_named("endorsement.tasks.refresh_registry")
    if refresh_registry.app.conf.task_always_eager:
        refresh_registry.delay()  # no broker: nothing can run later, so refresh now
        return
    try:
        if refresh_slot_taken():
            refresh_registry.apply_async(countdown=REFRESH_DELAY_SECONDS)
    except Exception:
        # After commit: the change is made and must not fail the request (config.tasking), whether
        # the broker or a Redis cache is down. The slot is given back, so the next change schedules
        # the refresh again.
        with contextlib.suppress(Exception):
            cache.delete(_PENDING_KEY)
        log.exception("could not schedule the registry refresh after commit")


def registry_changed() -> None:
    """Badges were issued or revoked in this transaction: the issuance counts changed. After
    commit, schedule a refresh (debounced with a broker; immediate without one)."""
    transaction.on_commit(_schedule_refresh)


# --- Reading: the parsed newest snapshot, cached in the process -----------------------------------
@dataclass(eq=False)  # hashed by identity: sets of items index the snapshot
class Item:
    """One entry with what searching and sorting need, parsed once per snapshot."""

    entry: dict[str, Any]
    id: str
    search: str
    state: str
    valid_from: datetime
    valid_until: datetime
    hours: float | None
    changed: datetime
    renewal_from: datetime | None = None  # a granted renewal's start, when the entry has one

    def standing(self, now: datetime) -> str:
        """The recorded state, except that an active endorsement past its end shows as expired
        before the hourly expiry task records it — unless its granted renewal has started by then
        (the task will record that too: the programme stays endorsed without a gap)."""
        if self.state == EndorsementState.ACTIVE and self.valid_until <= now:
            if self.renewal_from is not None and self.renewal_from <= now:
                return EndorsementState.ACTIVE
            return EndorsementState.EXPIRED
        return self.state


def _item(entry: dict[str, Any]) -> Item:
    endorsement, programme = entry["endorsement"], entry["programme"]
    hours = programme.get("learning_hours")
    valid_from = parse_datetime(endorsement["valid_from"])
    moments = [valid_from, *(parse_datetime(endorsement[k]) for k in ("published_at", "state_changed_at")
                            if endorsement.get(k))]
    return Item(
        entry=entry, id=entry["id"], search=entry.get("search_text", ""), state=endorsement["state"],
        valid_from=valid_from, valid_until=parse_datetime(endorsement["valid_until"]),
        hours=float(hours) if hours not in (None, "") else None, changed=max(moments),
        renewal_from=parse_datetime(entry["next_endorsement"]["valid_from"]) if entry.get("next_endorsement") else None,
    )


@dataclass
class Registry:
    """The newest snapshot, parsed: items newest endorsed first, lookups, and a per-process memo
    for what is derived from it (sort orders, facets, serialised open-data bodies)."""

    id: int
    digest: str
    generated_at: datetime
    items: list[Item]
    organisations: list[dict[str, Any]]
    pathways: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, Item] = field(init=False)
    organisations_by_slug: dict[str, dict[str, Any]] = field(init=False)
    memo: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {item.id: item for item in self.items}
        self.organisations_by_slug = {o["slug"]: o for o in self.organisations}

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [item.entry for item in self.items]

    def derived(self, key: Any, make) -> Any:
        """`make()` once per snapshot and process (two threads may both make it: harmless)."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = make()
            return value


_current: Registry | None = None
_load_lock = threading.Lock()


def registry_current() -> Registry | None:
    """The newest snapshot, parsed. One small query when the process already holds it; a second
    one to load it when a newer snapshot appeared."""
    global _current
    head = RegistrySnapshot.objects.order_by("-id").values_list("id", "digest", "generated_at").first()
    if head is None:
        return None
    held = _current
    if held is not None and (held.id, held.digest, held.generated_at) == head:
        return held
    with _load_lock:
        held = _current
        if held is not None and (held.id, held.digest, held.generated_at) == head:
            return held
        row = RegistrySnapshot.objects.filter(pk=head[0]).values_list("entries", "organisations", "pathways").first()
        if row is None:  # pruned by a refresh in between: read whatever is newest now
            latest = registry_latest()
            if latest is None:
                return None
            head, row = ((latest.id, latest.digest, latest.generated_at),
                         (latest.entries, latest.organisations, latest.pathways))
        entries, organisations, pathways = row
        _current = Registry(id=head[0], digest=head[1], generated_at=head[2],
                            items=[_item(e) for e in entries], organisations=organisations, pathways=pathways)
        return _current
