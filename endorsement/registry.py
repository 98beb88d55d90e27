"""The public registry: rendered from the database into a snapshot, never patched in place.

`registry_refresh()` is what the Celery task `refresh_registry` runs; pages and `/registry.json`
read only the newest `RegistrySnapshot`. Rendering the same database twice gives the same digest,
and an unchanged digest writes no new row.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from endorsement.models import ApplicationState, Endorsement, RegistrySnapshot

KEEP_SNAPSHOTS = 20


def _entry(endorsement: Endorsement) -> dict[str, Any]:
    programme, organisation = endorsement.programme, endorsement.organisation
    snapshot = endorsement.application.snapshot or {}
    return {
        "id": str(programme.public_id),
        "url": settings.SITE_URL + reverse("registry:programme", args=[programme.public_id]),
        "programme": {
            "name_en": snapshot.get("name_en", programme.name_en),
            "name_ja": snapshot.get("name_ja", programme.name_ja),
            "description_en": snapshot.get("description_en", ""),
            "description_ja": snapshot.get("description_ja", ""),
            "learning_outcomes": snapshot.get("learning_outcomes", []),
            "criteria_narrative": snapshot.get("criteria_narrative", ""),
            "assessment_method": snapshot.get("assessment_method", ""),
            "level": snapshot.get("level", ""),
            "level_framework": snapshot.get("level_framework", ""),
            "learning_hours": snapshot.get("learning_hours"),
            "credential_pattern": snapshot.get("credential_pattern", ""),
            "achievement_type": snapshot.get("achievement_type", ""),
            "participation_form": snapshot.get("participation_form", ""),
            "language": snapshot.get("language", ""),
            "tags": snapshot.get("tags", []),
            "alignments": snapshot.get("alignments", []),
        },
        "organisation": {
            "slug": organisation.slug,
            "name": organisation.name,
            "name_ja": organisation.name_ja,
            "kind": organisation.kind,
            "country": organisation.country,
        },
        "endorsement": {
            "state": endorsement.state,
            "endorsed_on": endorsement.valid_from.date().isoformat(),
            "valid_from": endorsement.valid_from.isoformat(),
            "valid_until": endorsement.valid_until.isoformat(),
            "comment": endorsement.comment,
            "criteria_table": {
                "code": endorsement.application.criteria_table.code,
                "version": endorsement.application.criteria_table.version,
            },
        },
    }


def registry_entries() -> list[dict[str, Any]]:
    """Every endorsement whose application was published, whatever its standing, newest first."""
    endorsements = (
        Endorsement.objects.filter(application__state=ApplicationState.PUBLISHED)
        .select_related("programme", "organisation", "application__criteria_table")
        .order_by("-valid_from", "pk")
    )
    return [_entry(e) for e in endorsements]


def _digest(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(
        json.dumps(entries, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


@transaction.atomic
def registry_refresh() -> RegistrySnapshot:
    """Render the registry from the database; write a snapshot only when it changed."""
    entries = registry_entries()
    digest = _digest(entries)
    latest = RegistrySnapshot.objects.select_for_update().order_by("-id").first()
    if latest is not None and latest.digest == digest:
        return latest
    snapshot = RegistrySnapshot.objects.create(digest=digest, entries=entries)
    stale = RegistrySnapshot.objects.order_by("-id").values_list("pk", flat=True)[KEEP_SNAPSHOTS:]
    RegistrySnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot


def registry_latest() -> RegistrySnapshot | None:
    return RegistrySnapshot.objects.order_by("-id").first()
