"""A pathway as an Open Badges 3.0 `Achievement`, dereferenceable at its id URL.

Built like a programme's (badges.achievements): from the snapshot an endorsement was granted on,
written in the pathway's own language with its edition in the other language named in `related`,
and the body's signed EndorsementCredentials embedded. What is particular to a pathway:

- `criteria.narrative` states the rules in words, in the edition's language;
- each component is linked as an `alignment` whose `targetType` is `ext:PathwayComponent` (OB 3.0's
  AlignmentTargetType has no value for "part of this achievement", and says extensions take an
  `ext:` prefix), `targetUrl` the component's Achievement id (a programme's on this server, or the
  external one as declared), `targetCode` its code in the pathway's rules, `targetName` its name,
  `targetDescription` what it certifies. `related` stays what OB 3.0 says it is: other editions.
  docs/pathways.md, "Mapping onto OB 3.0".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from badges import credentials as vc
from badges.achievements import achievement_id, main_language, other_edition
from badges.levels import level_alignment
from badges.models import Programme
from institutions.keys import issuer_profile
from pathways.models import Pathway

COMPONENT_TARGET_TYPE = "ext:PathwayComponent"
ACHIEVEMENT_TYPE = "LearningProgram"

WORDS = {
    "en": {
        "all": "Earn all of: {items}.",
        "at_least_n": "Earn at least {n} of: {items}.",
        "at_least_hours": "Earn at least {hours} hours from: {items}. Each component's hours count once.",
        "order": "Earn them in this order, each issued on or before the next: {items}.",
        "capstone": "Capstone, assessing the whole pathway: {item}.",
        "hours_item": "{name} ({hours} h)",
        "sep": ", ",
        "arrow": " → ",
        "outcomes": "Learning outcomes:",
        "hours": "Total notional learning hours: {hours}",
        "intro": "The pathway is complete when every rule below holds.",
    },
    "ja": {
        "all": "次のすべてを取得する：{items}。",
        "at_least_n": "次のうち{n}つ以上を取得する：{items}。",
        "at_least_hours": "次の構成要素から合計{hours}時間以上を取得する：{items}。各構成要素の時間は一度だけ数える。",
        "order": "次の順に取得する（各構成要素は次の構成要素の発行日以前に発行されていること）：{items}。",
        "capstone": "パスウェイ全体を評価するキャップストーン：{item}。",
        "hours_item": "{name}（{hours}時間）",
        "sep": "、",
        "arrow": " → ",
        "outcomes": "学修成果：",
        "hours": "想定学修時間の合計：{hours}時間",
        "intro": "次のすべてのルールを満たしたとき、このパスウェイを修了したものとする。",
    },
}


def pathway_achievement_id(pathway: Pathway, version: int = 1, language: str | None = None) -> str:
    """The Achievement id of one version of a pathway (version 1 keeps the pathway's own URL; a
    revised version gets `/v<n>`); `language` names the edition in the other language."""
    if version <= 1:
        url = settings.SITE_URL + reverse("pathway-achievement", args=[pathway.public_id])
    else:
        url = settings.SITE_URL + reverse("pathway-achievement-version", args=[pathway.public_id, version])
    return f"{url}/{language}" if language else url


def _text(content: dict[str, Any], field: str, language: str) -> str:
    other = "en" if language == "ja" else "ja"
    return content.get(f"{field}_{language}") or content.get(f"{field}_{other}") or ""


def hours_text(value: Any) -> str:
    """Hours as a person writes them: `30.0` → "30", `7.50` → "7.5"."""
    number = Decimal(str(value))
    return str(number.quantize(Decimal(1))) if number == number.to_integral() else str(number.normalize())


def component_name(component: dict[str, Any], language: str) -> str:
    """A component's name in `language` (its own, else its programme's, else its Achievement id)."""
    own = _text(component, "name", language)
    if own:
        return own
    programme = component.get("programme") or {}
    return _text(programme, "name", language) or (component.get("external") or {}).get("achievement_url", "")


def component_url(component: dict[str, Any]) -> str:
    """The component's Achievement id: the programme's on this server, or the declared external one."""
    if component.get("programme"):
        programme = Programme(public_id=component["programme"]["public_id"])
        return achievement_id(programme)
    return component["external"]["achievement_url"]


def rules_narrative(content: dict[str, Any], language: str) -> str:
    """The rules in words, one line each, in `language` (Markdown, as OB 3.0's narrative is)."""
    words = WORDS[language]
    components = {c["code"]: c for c in content.get("components") or []}

    def name(code: str) -> str:
        return component_name(components[code], language) if code in components else code

    lines = [words["intro"], ""]
    for rule in content.get("rules") or []:
        codes = rule.get("components") or []
        if rule["kind"] == "at_least_hours":
            items = words["sep"].join(
                words["hours_item"].format(name=name(c), hours=hours_text(components[c]["hours"]))
                if c in components and components[c].get("hours") is not None else name(c) for c in codes)
            lines.append("- " + words["at_least_hours"].format(hours=hours_text(rule["hours"]), items=items))
        elif rule["kind"] == "order":
            lines.append("- " + words["order"].format(items=words["arrow"].join(name(c) for c in codes)))
        elif rule["kind"] == "at_least_n":
            lines.append("- " + words["at_least_n"].format(n=rule["n"], items=words["sep"].join(map(name, codes))))
        else:
            lines.append("- " + words["all"].format(items=words["sep"].join(map(name, codes))))
    capstone = next((c for c in components.values() if c.get("is_capstone")), None)
    if capstone is not None:
        lines.append("- " + words["capstone"].format(item=component_name(capstone, language)))
    return "\n".join(lines)


def component_alignments(content: dict[str, Any], language: str) -> list[dict[str, Any]]:
    alignments = []
    for component in content.get("components") or []:
        description = _text(component, "description", language) or None
        alignments.append(vc.build_alignment(
            target_name=component_name(component, language), target_url=component_url(component),
            target_description=description, target_code=component["code"], target_type=COMPONENT_TARGET_TYPE,
        ))
    return alignments


def pathway_achievement_document(
    pathway: Pathway, content: dict[str, Any], *, endorsements: list[dict[str, Any]] = (), version: int = 1,
    language: str | None = None,
) -> dict[str, Any]:
    """The Achievement of version `version` from `content` (a pathway snapshot), with the signed
    EndorsementCredentials embedded; `language` asks for the edition in the other language."""
    main = main_language(content)
    edition = language or main
    words = WORDS[edition]
    description = _text(content, "description", edition)
    outcomes = content.get("learning_outcomes") or []
    if outcomes:
        description += "\n\n" + words["outcomes"] + "\n" + "\n".join(f"- {o}" for o in outcomes)
    if content.get("learning_hours"):
        description += "\n\n" + words["hours"].format(hours=hours_text(content["learning_hours"]))
    alignments = component_alignments(content, edition)
    level = level_alignment(content.get("level") or "", content.get("level_framework") or "",
                            registry_url=settings.SITE_URL + reverse("registry:index"))
    if level:
        alignments.insert(0, vc.build_alignment(**level))
    if edition == main:
        other = other_edition(content)
        related = [vc.build_related(id=pathway_achievement_id(pathway, version, other), in_language=other)] if other \
            else []
    else:
        related = [vc.build_related(id=pathway_achievement_id(pathway, version), in_language=main)]
    return vc.build_achievement(
        id=pathway_achievement_id(pathway, version, None if edition == main else edition),
        name=_text(content, "name", edition),
        description=description.strip(),
        criteria_narrative=rules_narrative(content, edition),
        criteria_id=settings.SITE_URL + reverse("registry:pathway", args=[pathway.public_id]),
        achievement_type=ACHIEVEMENT_TYPE,
        alignments=alignments,
        in_language=edition if content.get(f"name_{edition}") else (content.get("language") or None),
        creator=issuer_profile(pathway.organisation),
        related=related,
        endorsements=list(endorsements),
    )


def endorsed_version(pathway: Pathway):
    """The newest signed endorsement of the pathway (in force first), or None."""
    from endorsement.models import Endorsement, EndorsementState

    signed = Endorsement.objects.filter(pathway=pathway, credential__isnull=False).select_related("application")
    return (signed.filter(state=EndorsementState.ACTIVE).order_by("-valid_from").first()
            or signed.order_by("-valid_from").first())


def published_pathway_achievement(pathway: Pathway, version: int = 1, language: str | None = None) -> dict | None:
    """One version's Achievement as published: from the endorsed snapshot of that version with its
    newest signed endorsement embedded; None while that version has none, or when `language` is
    not an edition it has."""
    from endorsement.models import Endorsement

    endorsement = (Endorsement.objects.filter(pathway=pathway, version=version, credential__isnull=False)
                   .select_related("application").order_by("-valid_from").first())
    if endorsement is None:
        return None
    content = endorsement.application.snapshot or {}
    if language is not None and language != other_edition(content):
        return None
    return pathway_achievement_document(pathway, content, endorsements=[endorsement.credential], version=version,
                                        language=language)


def pathway_achievement(pathway: Pathway, language: str | None = None) -> dict[str, Any]:
    """The pathway's Achievement to put into a pathway badge (the service path2 calls): the endorsed
    version's content with the body's EndorsementCredential embedded when the pathway has a signed
    endorsement; else the pathway as it stands now, with none. `language`: "ja" or "en" for that
    edition when the pathway has it, None (or its main language) for the main edition."""
    from pathways.snapshots import pathway_snapshot

    endorsement = endorsed_version(pathway)
    if endorsement is not None:
        content, endorsements, version = endorsement.application.snapshot or {}, [endorsement.credential], \
            endorsement.version
    else:
        content, endorsements, version = pathway_snapshot(pathway), [], 1
    if language is not None and language == main_language(content):
        language = None
    if language is not None and language != other_edition(content):
        raise ValueError(f"the pathway has no {language} edition")
    return pathway_achievement_document(pathway, content, endorsements=endorsements, version=version,
                                        language=language)
