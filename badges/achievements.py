"""A programme as an Open Badges 3.0 `Achievement`, dereferenceable at its id URL."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from badges import credentials as vc
from badges.models import Programme
from institutions.keys import issuer_profile


def achievement_id(programme: Programme, version: int = 1) -> str:
    """The Achievement id of one version of a programme. Version 1 keeps the programme's own URL
    (every badge issued before revisions existed carries it); a revised version has a URL of its
    own, so that each id always dereferences to the content badges carrying it were issued with."""
    if version <= 1:
        return settings.SITE_URL + reverse("achievement", args=[programme.public_id])
    return settings.SITE_URL + reverse("achievement-version", args=[programme.public_id, version])


def _text(content: dict[str, Any], field: str) -> str:
    """Prefer the programme's own language, then the other one."""
    first, second = ("ja", "en") if content.get("language") == "ja" else ("en", "ja")
    return content.get(f"{field}_{first}") or content.get(f"{field}_{second}") or ""


# The labels written into the Achievement's description, in the language the programme is written
# in (its `language`), not the visitor's: the document is the same for every reader, and signed.
DESCRIPTION_LABELS = {
    "ja": {"outcomes": "学修成果：", "hours": "想定学修時間：{hours}時間"},
    "en": {"outcomes": "Learning outcomes:", "hours": "Notional learning hours: {hours}"},
}


def description_labels(content: dict[str, Any]) -> dict[str, str]:
    language = str(content.get("language") or "").split("-")[0].lower()
    return DESCRIPTION_LABELS.get(language, DESCRIPTION_LABELS["en"])


def achievement_document(
    programme: Programme, content: dict[str, Any], *, endorsements: list[dict[str, Any]] = (), version: int = 1
) -> dict[str, Any]:
    """The Achievement of version `version`, built from `content` (the snapshot an endorsement was
    granted on), with the body's signed EndorsementCredentials embedded."""
    outcomes = content.get("learning_outcomes") or []
    description = _text(content, "description")
    labels = description_labels(content)
    if outcomes:
        description += f"\n\n{labels['outcomes']}\n" + "\n".join(f"- {o}" for o in outcomes)
    if content.get("learning_hours"):
        description += "\n\n" + labels["hours"].format(hours=content["learning_hours"])
    image = None
    snapshot_image = content.get("image")
    if isinstance(snapshot_image, dict) and snapshot_image.get("name"):
        # The image file the snapshot recorded: a revision's new image is saved under a new name,
        # so an earlier version keeps showing its own.
        url = programme.image.storage.url(snapshot_image["name"])
        image = vc.build_image(settings.SITE_URL + url, caption=_text(content, "name"))
    return vc.build_achievement(
        id=achievement_id(programme, version),
        name=_text(content, "name"),
        description=description.strip(),
        criteria_narrative=content.get("criteria_narrative") or None,
        criteria_id=settings.SITE_URL + reverse("registry:programme", args=[programme.public_id]),
        achievement_type=content.get("achievement_type") or None,
        image=image,
        alignments=[
            vc.build_alignment(target_name=a["name"], target_url=a["url"],
                               target_framework=a.get("framework") or None, target_code=a.get("code") or None,
                               target_description=a.get("description") or None)
            for a in content.get("alignments") or []
        ],
        tags=content.get("tags") or [],
        in_language=content.get("language") or None,
        creator=issuer_profile(programme.organisation),
        field_of_study=content.get("level_framework") or None,
        endorsements=list(endorsements),
    )
