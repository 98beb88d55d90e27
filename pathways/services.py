"""Writes for pathways: create, change (fields, components and rules as one structure), and the
lock while under review or endorsed — the same rules as programmes (badges.services)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from badges.models import Programme
from badges.services import EDITING_STATES, UNDER_REVIEW_STATES
from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement.audit import AuditAction, audit_record
from institutions.models import Organisation
from pathways.models import Pathway, PathwayComponent, PathwayRule, RuleKind, RuleMember
from pathways.permissions import can_edit_pathway
from pathways.rules import RuleSpec, Structure, structure_problems
from pathways.snapshots import PATHWAY_FIELDS

MAX_COMPONENTS = 40
MAX_RULES = 20


def pathway_lock_reason(pathway: Pathway) -> str | None:
    """Why the pathway cannot be edited now, or None (as programme_lock_reason)."""
    states = set(pathway.applications.values_list("state", flat=True))
    if states & UNDER_REVIEW_STATES:
        return _("The pathway is under review; it cannot be changed now.")
    if "published" in states and not states & EDITING_STATES:
        return _("The pathway is endorsed: open a change application (or a renewal) to edit it.")
    return None


def _decimal(value: Any, field: str, errors: dict[str, list[str]], *, limit: Decimal) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors[field] = [_("Give a number, such as 30 or 7.5.")]
    elif number <= 0:
        errors[field] = [_("Give more than zero.")]
    elif number >= limit:
        errors[field] = [_("Give at most %(limit)s.") % {"limit": limit - Decimal("0.1")}]
    else:
        return number.quantize(Decimal("0.1"))
    return None


def _clean_fields(pathway: Pathway, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    outcomes = data.get("learning_outcomes")
    if outcomes is not None and (not isinstance(outcomes, list) or len(outcomes) > 50
                                 or not all(isinstance(o, str) and o.strip() for o in outcomes)):
        errors["learning_outcomes"] = [_("Give a list of at most 50 non-empty outcome statements.")]
    for name in PATHWAY_FIELDS:
        if name in data and name not in errors:
            value = data[name]
            if name == "learning_hours":
                value = _decimal(value, name, errors, limit=Decimal("100000"))
            setattr(pathway, name, value if value is not None or name == "learning_hours" else "")
    if not (pathway.name_en or "").strip() and not (pathway.name_ja or "").strip():
        errors["name_en"] = [_("Give the pathway a name in English or Japanese.")]
    try:
        pathway.full_clean(exclude=["organisation", "slug", *errors], validate_unique=False,
                           validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)


def _clean_components(items: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(items, list) or len(items) > MAX_COMPONENTS:
        errors["components"] = [_("Give a list of at most %(n)d components.") % {"n": MAX_COMPONENTS}]
        return []
    cleaned, codes = [], set()
    for i, item in enumerate(items):
        where = f"components[{i}]"
        if not isinstance(item, dict):
            errors[where] = [_("Give each component as an object.")]
            continue
        code = slugify(str(item.get("code") or ""))[:40]
        if not code:
            errors[f"{where}.code"] = [_("Give each component a short code (letters, digits, hyphens).")]
        elif code in codes:
            errors[f"{where}.code"] = [_("The code %(code)s is used twice.") % {"code": code}]
        codes.add(code)
        row: dict[str, Any] = {"code": code, "position": i, "is_capstone": bool(item.get("is_capstone"))}
        for text in ("name_en", "name_ja", "description_en", "description_ja", "issuer_name"):
            row[text] = str(item.get(text) or "").strip()
        row["hours"] = _decimal(item.get("hours"), f"{where}.hours", errors, limit=Decimal("100000"))
        programme_id = item.get("programme")
        if programme_id:
            programme = Programme.objects.filter(public_id=str(programme_id)).first() if _uuid(programme_id) else None
            if programme is None:
                errors[f"{where}.programme"] = [_("No programme has this ID on this server.")]
            if item.get("achievement_url") or item.get("issuer_id"):
                errors[where] = [_("A component is a programme of this server or an external achievement, not both.")]
            row["programme"] = programme
            row["achievement_url"] = row["issuer_id"] = ""
        else:
            url = str(item.get("achievement_url") or "").strip()
            issuer = str(item.get("issuer_id") or "").strip()
            if not url.startswith(("https://", "http://")) and not url.startswith("urn:"):
                errors[f"{where}.achievement_url"] = [_("Give the external achievement's ID (an http(s) URL or URN).")]
            if not issuer.startswith(("did:", "https://", "http://")):
                errors[f"{where}.issuer_id"] = [_("Give the issuer's DID or URL.")]
            if not row["description_en"] and not row["description_ja"]:
                errors[f"{where}.description_en"] = [_("Say what the external achievement certifies.")]
            row.update(programme=None, achievement_url=url, issuer_id=issuer)
        cleaned.append(row)
    if sum(1 for c in cleaned if c["is_capstone"]) > 1:
        errors["components"] = [_("At most one component is the capstone.")]
    return cleaned


def _uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _clean_rules(items: Any, codes: set[str], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(items, list) or len(items) > MAX_RULES:
        errors["rules"] = [_("Give a list of at most %(n)d rules.") % {"n": MAX_RULES}]
        return []
    cleaned = []
    for i, item in enumerate(items):
        where = f"rules[{i}]"
        if not isinstance(item, dict):
            errors[where] = [_("Give each rule as an object.")]
            continue
        kind = item.get("kind")
        if kind not in RuleKind.values:
            errors[f"{where}.kind"] = [_("Choose one of: %(v)s.") % {"v": ", ".join(RuleKind.values)}]
        members = item.get("components")
        if not isinstance(members, list) or not all(isinstance(c, str) for c in members):
            errors[f"{where}.components"] = [_("Give the codes of the rule's components.")]
            members = []
        unknown = [c for c in members if c not in codes]
        if unknown:
            errors[f"{where}.components"] = [_("Unknown components: %(codes)s.") % {"codes": ", ".join(unknown)}]
        n = item.get("n")
        if kind == RuleKind.AT_LEAST_N and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            errors[f"{where}.n"] = [_("Give N, a whole number of at least 1.")]
        hours = _decimal(item.get("hours"), f"{where}.hours", errors, limit=Decimal("1000000")) \
            if kind == RuleKind.AT_LEAST_HOURS else None
        if kind == RuleKind.AT_LEAST_HOURS and hours is None and f"{where}.hours" not in errors:
            errors[f"{where}.hours"] = [_("Give the hours.")]
        cleaned.append({"kind": kind, "position": i, "components": list(members),
                        "n": n if kind == RuleKind.AT_LEAST_N else None, "hours": hours})
    return cleaned


def _structure(components: list[dict[str, Any]], rules: list[dict[str, Any]]) -> Structure:
    hours = {c["code"]: c["hours"] if c["hours"] is not None else (c["programme"].learning_hours if c["programme"]
                                                                  else None) for c in components}
    specs = tuple(RuleSpec(id=str(r["position"]), kind=r["kind"], components=tuple(r["components"]), n=r["n"],
                           hours=r["hours"]) for r in rules)
    return Structure(components=hours, rules=specs,
                     capstone=next((c["code"] for c in components if c["is_capstone"]), None))


def _write_structure(pathway: Pathway, components: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
    pathway.rules.all().delete()
    pathway.components.all().delete()
    rows = {}
    for c in components:
        rows[c["code"]] = PathwayComponent.objects.create(pathway=pathway, **c)
    for r in rules:
        rule = PathwayRule.objects.create(pathway=pathway, kind=r["kind"], position=r["position"], n=r["n"],
                                          hours=r["hours"])
        RuleMember.objects.bulk_create([RuleMember(rule=rule, component=rows[code], position=i)
                                        for i, code in enumerate(r["components"])])


def _apply(pathway: Pathway, data: dict[str, Any]) -> tuple[list, list] | None:
    """Validate everything before writing anything; InvalidInput with field messages otherwise."""
    errors: dict[str, list[str]] = {}
    _clean_fields(pathway, data, errors)
    structure = None
    if "components" in data or "rules" in data:
        components = _clean_components(data.get("components", []), errors)
        rules = _clean_rules(data.get("rules", []), {c["code"] for c in components}, errors)
        if not errors and (components or rules):  # a draft may be saved before its structure is drawn up
            problems = structure_problems(_structure(components, rules))
            if problems:
                errors["rules"] = problems
        structure = (components, rules)
    if errors:
        raise InvalidInput(_("The pathway has errors."), field_errors=errors)
    return structure


def _unique_slug(organisation: Organisation, base: str) -> str:
    base = slugify(base)[:70] or "pathway"
    slug, n = base, 2
    while Pathway.objects.filter(organisation=organisation, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def pathway_create(*, actor: Any, organisation: Organisation, data: dict[str, Any]) -> Pathway:
    """Create a pathway with its components and rules. Nothing is written on invalid input."""
    if not can_edit_pathway(actor, organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may create pathways."))
    pathway = Pathway(organisation=organisation)
    structure = _apply(pathway, data)
    pathway.slug = _unique_slug(organisation, data.get("slug") or pathway.name_en or pathway.name_ja)
    pathway.save()
    if structure is not None:
        _write_structure(pathway, *structure)
    audit_record(actor=actor, action=AuditAction.PATHWAY_CREATED, subject=pathway,
                 data={"pathway": str(pathway.public_id)})
    return pathway


@transaction.atomic
def pathway_update(*, actor: Any, pathway: Pathway, data: dict[str, Any]) -> Pathway:
    """Change a pathway that is not under review or endorsed; `components` and `rules`, when given,
    replace the structure as a whole."""
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    if not can_edit_pathway(actor, pathway.organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may edit pathways."))
    reason = pathway_lock_reason(pathway)
    if reason:
        raise WrongState(reason)
    structure = _apply(pathway, data)
    pathway.save()
    if structure is not None:
        _write_structure(pathway, *structure)
    audit_record(actor=actor, action=AuditAction.PATHWAY_UPDATED, subject=pathway,
                 data={"fields": sorted(k for k in data if k in {*PATHWAY_FIELDS, "components", "rules"})})
    return pathway
