"""What reviewers judge of a pathway, frozen on submission; what must be filled before it can be.

No import of endorsement: endorsement.models and endorsement.services call these."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from pathways.models import Pathway
from pathways.rules import RuleSpec, Structure, structure_problems

PATHWAY_FIELDS = [
    "name_en", "name_ja", "description_en", "description_ja", "learning_outcomes", "level", "level_framework",
    "learning_hours", "assessment_of_whole", "quality_assurance", "stackability", "language", "responsible_person",
]
REQUIRED_FOR_SUBMISSION = {
    "name": ("name_en", "name_ja"),
    "description": ("description_en", "description_ja"),
    "learning_outcomes": ("learning_outcomes",),
    "learning_hours": ("learning_hours",),
    "assessment_of_whole": ("assessment_of_whole",),
    "responsible_person": ("responsible_person",),
}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def pathway_structure(pathway: Pathway) -> Structure:
    """The pathway's components and rules as the pure rule evaluator reads them."""
    components = list(pathway.components.select_related("programme"))
    hours = {c.code: c.effective_hours for c in components}
    rules = []
    for rule in pathway.rules.prefetch_related("members__component"):
        codes = tuple(m.component.code for m in rule.members.all())
        rules.append(RuleSpec(id=str(rule.position), kind=rule.kind, components=codes, n=rule.n, hours=rule.hours))
    capstone = next((c.code for c in components if c.is_capstone), None)
    return Structure(components=hours, rules=tuple(rules), capstone=capstone)


def structure_from_snapshot(snapshot: dict[str, Any]) -> Structure:
    """The structure as it was endorsed (an application's frozen snapshot): what a learner's
    completion is judged against, whatever the pathway's draft says now."""
    components = {c["code"]: (Decimal(c["hours"]) if c.get("hours") not in (None, "") else None)
                  for c in snapshot.get("components") or []}
    rules = tuple(RuleSpec(id=str(r.get("position", i)), kind=r["kind"], components=tuple(r.get("components") or ()),
                           n=r.get("n"), hours=Decimal(r["hours"]) if r.get("hours") not in (None, "") else None)
                  for i, r in enumerate(snapshot.get("rules") or []))
    capstone = next((c["code"] for c in snapshot.get("components") or [] if c.get("is_capstone")), None)
    return Structure(components=components, rules=rules, capstone=capstone)


def pathway_missing_fields(pathway: Pathway) -> list[str]:
    """The required fields still empty, and 'components' / 'rules' when the structure is unusable."""
    missing = []
    for label, fields in REQUIRED_FOR_SUBMISSION.items():
        if not any(getattr(pathway, f) not in (None, "", [], {}) for f in fields):
            missing.append(label)
    if not pathway.components.exists():
        missing.append("components")
    if not pathway.rules.exists() or structure_problems(pathway_structure(pathway)):
        missing.append("rules")
    return missing


def component_snapshot(component: Any) -> dict[str, Any]:
    snap = {
        "code": component.code, "position": component.position, "is_capstone": component.is_capstone,
        "name_en": component.name_en, "name_ja": component.name_ja,
        "description_en": component.description_en, "description_ja": component.description_ja,
        "hours": _plain(component.effective_hours),
    }
    if component.programme_id:
        programme = component.programme
        snap["programme"] = {"public_id": str(programme.public_id), "name_en": programme.name_en,
                             "name_ja": programme.name_ja, "organisation": programme.organisation.slug}
    else:
        snap["external"] = {"achievement_url": component.achievement_url, "issuer_id": component.issuer_id,
                            "issuer_name": component.issuer_name}
    return snap


def pathway_snapshot(pathway: Pathway) -> dict[str, Any]:
    """A JSON copy of everything reviewers judge: the fields, the components and the rules."""
    snap: dict[str, Any] = {"kind": "pathway", "public_id": str(pathway.public_id), "slug": pathway.slug}
    for name in PATHWAY_FIELDS:
        snap[name] = _plain(getattr(pathway, name))
    snap["organisation"] = {"slug": pathway.organisation.slug, "name": pathway.organisation.name}
    snap["components"] = [component_snapshot(c) for c in
                          pathway.components.select_related("programme__organisation")]
    snap["rules"] = [
        {"kind": r.kind, "position": r.position, "n": r.n, "hours": _plain(r.hours),
         "components": [m.component.code for m in r.members.all()]}
        for r in pathway.rules.prefetch_related("members__component")
    ]
    return snap


def missing_labels(pathway: Pathway) -> list[str]:
    """The missing fields of `pathway_missing_fields`, named as the form names them."""
    labels = []
    for key in pathway_missing_fields(pathway):
        if key == "components":
            labels.append(_("components"))
        elif key == "rules":
            labels.append(_("rules (sound, with every component in one)"))
        else:
            label = str(Pathway._meta.get_field(REQUIRED_FOR_SUBMISSION[key][0]).verbose_name)
            labels.append(label.split(" (")[0] if len(REQUIRED_FOR_SUBMISSION[key]) > 1 else label)
    return labels
