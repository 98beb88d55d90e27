"""A programme as an Open Badges 3.0 `Achievement`, dereferenceable at its id URL.

Languages: the 1EdTech OB 3.0 JSON Schema types every `name` and `description` as a string, so a
VC 2.0 language value object (`[{"@value": …, "@language": "ja"}, …]`) would make the credential
invalid there. The Achievement is therefore written in the programme's own language (`inLanguage`),
and when the programme has both languages it names its edition in the other one in `related` (OB 3.0:
"alternate language editions"): `<achievement id>/en` or `/ja`, served like the Achievement itself.
docs/credentials.md, "Names in two languages".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from badges import credentials as vc
from badges.levels import level_alignment
from badges.models import Programme
from institutions.keys import issuer_profile

LANGUAGES = ("ja", "en")
# The labels inside the description, in the edition's language (not the request's: the credential
# is the same for everyone who reads it).
LABELS = {
    "en": {"outcomes": "Learning outcomes:", "hours": "Notional learning hours: {hours}"},
    "ja": {"outcomes": "学修成果：", "hours": "想定学修時間：{hours}時間"},
}


def achievement_id(programme: Programme, version: int = 1, language: str | None = None) -> str:
    """The Achievement id of one version of a programme. Version 1 keeps the programme's own URL
    (every badge issued before revisions existed carries it); a revised version has a URL of its
    own, so that each id always dereferences to the content badges carrying it were issued with.
    `language` names the edition in the programme's other language (`…/en`, `…/ja`)."""
    if version <= 1:
        url = settings.SITE_URL + reverse("achievement", args=[programme.public_id])
    else:
        url = settings.SITE_URL + reverse("achievement-version", args=[programme.public_id, version])
    return f"{url}/{language}" if language else url


def main_language(content: dict[str, Any]) -> str:
    """The language the Achievement is written in: the programme's, if it has a name in it."""
    first = "ja" if content.get("language") == "ja" else "en"
    second = "en" if first == "ja" else "ja"
    return first if content.get(f"name_{first}") or not content.get(f"name_{second}") else second


def other_edition(content: dict[str, Any]) -> str | None:
    """The language of the programme's second edition: the other language, when the programme has
    both a name and a description in it; None otherwise."""
    other = "en" if main_language(content) == "ja" else "ja"
    return other if content.get(f"name_{other}") and content.get(f"description_{other}") else None


def _text(content: dict[str, Any], field: str, language: str) -> str:
    """The text in `language`, else in the other one."""
    other = "en" if language == "ja" else "ja"
    return content.get(f"{field}_{language}") or content.get(f"{field}_{other}") or ""


def achievement_document(
    programme: Programme, content: dict[str, Any], *, endorsements: list[dict[str, Any]] = (), version: int = 1,
    language: str | None = None,
) -> dict[str, Any]:
    """The Achievement of version `version`, built from `content` (the snapshot an endorsement was
    granted on), with the body's signed EndorsementCredentials embedded. `language` asks for the
    edition in the programme's other language (see `other_edition`); by default, its main one."""
    main = main_language(content)
    edition = language or main
    labels = LABELS[edition]
    outcomes = content.get("learning_outcomes") or []
    description = _text(content, "description", edition)
    if outcomes:
        description += "\n\n" + labels["outcomes"] + "\n" + "\n".join(f"- {o}" for o in outcomes)
    if content.get("learning_hours"):
        description += "\n\n" + labels["hours"].format(hours=content["learning_hours"])
    image = None
    snapshot_image = content.get("image")
    if isinstance(snapshot_image, dict) and snapshot_image.get("name"):
        # The image file the snapshot recorded: a revision's new image is saved under a new name,
        # so an earlier version keeps showing its own.
        url = programme.image.storage.url(snapshot_image["name"])
        image = vc.build_image(settings.SITE_URL + url, caption=_text(content, "name", edition))
    alignments = [
        vc.build_alignment(target_name=a["name"], target_url=a["url"],
                           target_framework=a.get("framework") or None, target_code=a.get("code") or None,
                           target_description=a.get("description") or None)
        for a in content.get("alignments") or []
    ]
    level = level_alignment(content.get("level") or "", content.get("level_framework") or "",
                            registry_url=settings.SITE_URL + reverse("registry:index"))
    if level:
        alignments.insert(0, vc.build_alignment(**level))
    if edition == main:
        other = other_edition(content)
        related = [vc.build_related(id=achievement_id(programme, version, other), in_language=other)] if other else []
    else:
        related = [vc.build_related(id=achievement_id(programme, version), in_language=main)]
    return vc.build_achievement(
        id=achievement_id(programme, version, None if edition == main else edition),
        name=_text(content, "name", edition),
        description=description.strip(),
        criteria_narrative=content.get("criteria_narrative") or None,
        criteria_id=settings.SITE_URL + reverse("registry:programme", args=[programme.public_id]),
        achievement_type=content.get("achievement_type") or None,
        image=image,
        alignments=alignments,
        tags=content.get("tags") or [],
        in_language=edition if content.get(f"name_{edition}") else (content.get("language") or None),
        creator=issuer_profile(programme.organisation),
        field_of_study=content.get("field_of_study") or None,
        related=related,
        endorsements=list(endorsements),
    )
