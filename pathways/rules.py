"""The rules of a pathway, evaluated: a pure function of the structure and what was presented.

No database and no I/O: `evaluate(structure, presented)` says for every rule whether it is met and
what is missing, and whether the pathway is complete. The caller (path2's completion service, the
progress view, the tests) builds the `Structure` from the models (pathways.snapshots.pathway_structure)
and one `Presented` per verified component credential.

Hours are never counted twice (docs/pathways.md, "No double counting"):
- a component counts once however many of its credentials are presented;
- one credential (the same `credential_id`) counts for one component only: the first it is
  presented for; presented again for another component it is ignored, with the reason;
- a component belongs to at most one hours rule (`structure_problems` refuses a structure where it
  is in two, so that 10 hours cannot fill two "at least H hours" rules at once);
- the hours a component counts for are the pathway's declared hours for it; presented hours count
  only where none are declared, and never more than declared when both are given.

Ordering ("A before B"): each component of an ordering rule must have a credential issued on or
before the day of the next one's; with several credentials of one component, any that makes the
chain hold will do (chosen greedily, earliest first, which finds a chain whenever one exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise

from django.utils.translation import gettext as _

ALL = "all"
AT_LEAST_N = "at_least_n"
AT_LEAST_HOURS = "at_least_hours"
ORDER = "order"
KINDS = (ALL, AT_LEAST_N, AT_LEAST_HOURS, ORDER)
ZERO = Decimal("0")


@dataclass(frozen=True)
class RuleSpec:
    """One rule: its id (any string the caller reports by), kind, the codes of its components (in
    sequence for an ordering rule), and N or H where the kind needs one."""

    id: str
    kind: str
    components: tuple[str, ...]
    n: int | None = None
    hours: Decimal | None = None


@dataclass(frozen=True)
class Structure:
    """The pathway: its components (code → declared hours, None when it declares none), its rules,
    and the code of its capstone (which must be presented for the pathway to be complete)."""

    components: Mapping[str, Decimal | None]
    rules: tuple[RuleSpec, ...]
    capstone: str | None = None


@dataclass(frozen=True)
class Presented:
    """One verified credential presented for a component."""

    component: str
    issued_on: date
    hours: Decimal | None = None
    valid: bool = True
    credential_id: str | None = None


@dataclass(frozen=True)
class RuleResult:
    rule: str
    kind: str
    met: bool
    counted: tuple[str, ...] = ()  # the components that count towards it
    missing: tuple[str, ...] = ()  # its components not (validly) presented
    needed: int = 0  # how many more components it needs (all, N of, order)
    hours_counted: Decimal | None = None  # hours rules only
    hours_missing: Decimal | None = None
    out_of_order: tuple[tuple[str, str], ...] = ()  # (a, b): no credential of a on or before b's


@dataclass(frozen=True)
class Evaluation:
    rules: tuple[RuleResult, ...]
    capstone_met: bool | None  # None when the pathway has no capstone
    complete: bool
    total_hours: Decimal  # the hours of the distinct components that count, each once
    ignored: tuple[tuple[int, str], ...] = ()  # (index in `presented`, why it does not count)
    problems: tuple[str, ...] = field(default=())  # the structure's problems: never complete with any


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def structure_problems(structure: Structure) -> list[str]:
    """What makes the structure unusable, in words; empty when it is sound."""
    problems: list[str] = []
    known = set(structure.components)
    in_rules: set[str] = set()
    hours_rule_of: dict[str, str] = {}
    if not structure.rules:
        problems.append(_("The pathway has no rules."))
    for position, rule in enumerate(structure.rules, start=1):
        where = _("Rule %(n)d") % {"n": position}
        codes = list(rule.components)
        if rule.kind not in KINDS:
            problems.append(_("%(rule)s: unknown kind %(kind)r.") % {"rule": where, "kind": rule.kind})
            continue
        if not codes:
            problems.append(_("%(rule)s has no components.") % {"rule": where})
        if len(set(codes)) != len(codes):
            problems.append(_("%(rule)s names a component twice.") % {"rule": where})
        unknown = [c for c in codes if c not in known]
        if unknown:
            problems.append(_("%(rule)s names components the pathway does not have: %(codes)s.")
                            % {"rule": where, "codes": ", ".join(unknown)})
        in_rules.update(codes)
        if rule.kind == AT_LEAST_N:
            if rule.n is None or rule.n < 1:
                problems.append(_("%(rule)s: give N, at least 1.") % {"rule": where})
            elif rule.n > len(set(codes)):
                problems.append(_("%(rule)s asks for %(n)d of only %(count)d components.")
                                % {"rule": where, "n": rule.n, "count": len(set(codes))})
        elif rule.kind == AT_LEAST_HOURS:
            if rule.hours is None or rule.hours <= 0:
                problems.append(_("%(rule)s: give the hours, more than 0.") % {"rule": where})
            else:
                without = [c for c in codes if c in known and structure.components[c] is None]
                if without:
                    problems.append(_("%(rule)s counts hours of components that declare none: %(codes)s.")
                                    % {"rule": where, "codes": ", ".join(without)})
                available = sum((structure.components.get(c) or ZERO for c in set(codes)), ZERO)
                if available < rule.hours:
                    problems.append(_("%(rule)s asks for %(hours)s hours; its components give only %(available)s.")
                                    % {"rule": where, "hours": rule.hours, "available": available})
            for code in codes:
                if code in hours_rule_of:
                    problems.append(_(
                        "%(code)s counts towards two hours rules (%(first)s and %(second)s): its hours would "
                        "be counted twice.") % {"code": code, "first": hours_rule_of[code], "second": where})
                else:
                    hours_rule_of[code] = where
        elif rule.kind == ORDER and len(codes) < 2:
            problems.append(_("%(rule)s: an ordering needs at least two components.") % {"rule": where})
    if structure.capstone is not None and structure.capstone not in known:
        problems.append(_("The capstone %(code)s is not a component of the pathway.") % {"code": structure.capstone})
    idle = sorted(known - in_rules - {structure.capstone})
    if idle:
        problems.append(_("Components in no rule count for nothing: %(codes)s.") % {"codes": ", ".join(idle)})
    return problems


def _accepted(structure: Structure, presented: Iterable[Presented]) -> tuple[dict[str, list[Presented]], list]:
    """The valid presentations per component, and the ignored ones with the reason."""
    by_component: dict[str, list[Presented]] = {}
    ignored: list[tuple[int, str]] = []
    used: dict[str, str] = {}
    for index, item in enumerate(presented):
        if item.component not in structure.components:
            ignored.append((index, _("%(code)s is not a component of this pathway.") % {"code": item.component}))
        elif not item.valid:
            ignored.append((index, _("The credential presented for %(code)s is not valid.") % {"code": item.component}))
        elif item.credential_id is not None and used.get(item.credential_id, item.component) != item.component:
            ignored.append((index, _("This credential already counts for %(other)s; one credential counts for one "
                                     "component.") % {"other": used[item.credential_id]}))
        else:
            if item.credential_id is not None:
                used[item.credential_id] = item.component
            by_component.setdefault(item.component, []).append(item)
    return by_component, ignored


def _hours(structure: Structure, code: str, items: list[Presented]) -> Decimal:
    declared = structure.components.get(code)
    stated = [i.hours for i in items if i.hours is not None]
    if declared is not None:
        return min([declared, *stated]) if stated else declared
    return max(stated) if stated else ZERO


def _order(codes: tuple[str, ...], by_component: dict[str, list[Presented]]) -> tuple[tuple[str, str], ...]:
    """The pairs of consecutive components the chain breaks at (empty when it holds)."""
    broken = []
    previous: date | None = None
    for before, after in pairwise(codes):
        if previous is None:
            previous = min(_day(i.issued_on) for i in by_component[before])
        later = sorted(_day(i.issued_on) for i in by_component[after] if _day(i.issued_on) >= previous)
        if later:
            previous = later[0]
        else:
            broken.append((before, after))
            previous = min(_day(i.issued_on) for i in by_component[after])
    return tuple(broken)


def evaluate(structure: Structure, presented: Iterable[Presented]) -> Evaluation:
    """Each rule met or not and what is missing; complete when every rule is met, the capstone (if
    any) is presented and the structure has no problems."""
    problems = tuple(structure_problems(structure))
    by_component, ignored = _accepted(structure, list(presented))
    hours_of = {code: _hours(structure, code, items) for code, items in by_component.items()}
    results = []
    for rule in structure.rules:
        codes = tuple(dict.fromkeys(rule.components))
        counted = tuple(c for c in codes if c in by_component)
        missing = tuple(c for c in codes if c not in by_component)
        if rule.kind == ALL:
            results.append(RuleResult(rule.id, rule.kind, not missing, counted, missing, needed=len(missing)))
        elif rule.kind == AT_LEAST_N:
            needed = max(0, (rule.n or 0) - len(counted))
            met = rule.n is not None and rule.n >= 1 and needed == 0
            results.append(RuleResult(rule.id, rule.kind, met, counted, missing, needed=needed))
        elif rule.kind == AT_LEAST_HOURS:
            total = sum((hours_of[c] for c in counted), ZERO)
            target = rule.hours if rule.hours is not None else ZERO
            short = max(ZERO, target - total)
            met = rule.hours is not None and rule.hours > 0 and short == 0
            results.append(RuleResult(rule.id, rule.kind, met, counted, missing, hours_counted=total,
                                      hours_missing=short))
        elif rule.kind == ORDER:
            broken = _order(codes, by_component) if not missing else ()
            met = not missing and not broken and len(codes) >= 2
            results.append(RuleResult(rule.id, rule.kind, met, counted, missing, needed=len(missing),
                                      out_of_order=broken))
        else:
            results.append(RuleResult(rule.id, rule.kind, False, counted, missing))
    capstone_met = None if structure.capstone is None else structure.capstone in by_component
    complete = not problems and all(r.met for r in results) and capstone_met is not False
    total_hours = sum(hours_of.values(), ZERO)
    return Evaluation(tuple(results), capstone_met, complete, total_hours, tuple(ignored), problems)
