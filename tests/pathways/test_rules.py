"""pathways.rules: every rule kind, the capstone, and the ways hours could be counted twice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

from pathways.rules import (
    Presented,
    RuleResult,
    RuleSpec,
    Structure,
    evaluate,
    structure_problems,
)

DAY = date(2026, 4, 1)


def p(code, day=DAY, hours=None, valid=True, credential=None):
    return Presented(component=code, issued_on=day, hours=hours, valid=valid, credential_id=credential)


def structure(rules, hours=None, capstone=None):
    comps = hours or {"a": D("10"), "b": D("20"), "c": D("30"), "d": None}
    return Structure(components=comps, rules=tuple(rules), capstone=capstone)


# --- all ------------------------------------------------------------------------------------------
ALL_ABC = RuleSpec("r1", "all", ("a", "b", "c"))
HOURS_D = RuleSpec("r9", "at_least_n", ("d",), n=1)  # keeps d in a rule: otherwise it "counts for nothing"


def test_all_met_when_every_component_is_presented():
    result = evaluate(structure([ALL_ABC, HOURS_D]), [p("a"), p("b"), p("c"), p("d")])
    assert result.rules[0] == RuleResult("r1", "all", True, ("a", "b", "c"), (), 0)
    assert result.complete is True
    assert result.total_hours == D("60")
    assert result.problems == ()


def test_all_not_met_names_what_is_missing():
    result = evaluate(structure([ALL_ABC, HOURS_D]), [p("c"), p("d")])
    assert result.rules[0] == RuleResult("r1", "all", False, ("c",), ("a", "b"), 2)
    assert result.complete is False


def test_all_with_nothing_presented():
    result = evaluate(structure([ALL_ABC, HOURS_D]), [])
    assert result.rules[0] == RuleResult("r1", "all", False, (), ("a", "b", "c"), 3)
    assert result.rules[1] == RuleResult("r9", "at_least_n", False, (), ("d",), 1)
    assert result.total_hours == D("0")


def test_an_invalid_credential_does_not_count_and_says_why():
    result = evaluate(structure([ALL_ABC, HOURS_D]), [p("a"), p("b", valid=False), p("c"), p("d")])
    assert result.rules[0].met is False
    assert result.rules[0].missing == ("b",)
    assert result.ignored == ((1, "The credential presented for b is not valid."),)
    assert result.complete is False


def test_a_credential_for_an_unknown_component_is_ignored_with_the_reason():
    result = evaluate(structure([ALL_ABC, HOURS_D]), [p("zz"), p("a"), p("b"), p("c"), p("d")])
    assert result.ignored == ((0, "zz is not a component of this pathway."),)
    assert result.complete is True


# --- at least N -----------------------------------------------------------------------------------
TWO_OF = RuleSpec("n2", "at_least_n", ("a", "b", "c"), n=2)


def test_at_least_n_met_at_exactly_n():
    result = evaluate(structure([TWO_OF, HOURS_D]), [p("a"), p("c"), p("d")])
    assert result.rules[0] == RuleResult("n2", "at_least_n", True, ("a", "c"), ("b",), 0)
    assert result.complete is True


def test_at_least_n_met_above_n():
    result = evaluate(structure([TWO_OF, HOURS_D]), [p("a"), p("b"), p("c"), p("d")])
    assert result.rules[0] == RuleResult("n2", "at_least_n", True, ("a", "b", "c"), (), 0)


def test_at_least_n_one_short():
    result = evaluate(structure([TWO_OF, HOURS_D]), [p("b"), p("d")])
    assert result.rules[0] == RuleResult("n2", "at_least_n", False, ("b",), ("a", "c"), 1)


def test_at_least_n_counts_a_component_once_however_often_it_is_presented():
    result = evaluate(structure([TWO_OF, HOURS_D]), [p("a", credential="x1"), p("a", credential="x2"), p("d")])
    assert result.rules[0] == RuleResult("n2", "at_least_n", False, ("a",), ("b", "c"), 1)


# --- at least H hours -----------------------------------------------------------------------------
HOURS_35 = RuleSpec("h35", "at_least_hours", ("a", "b", "c"), hours=D("35"))
HOURS_ONLY = {"a": D("10"), "b": D("20"), "c": D("30")}


def test_hours_met_exactly():
    rules = [RuleSpec("h30", "at_least_hours", ("a", "b", "c"), hours=D("30"))]
    result = evaluate(structure(rules, HOURS_ONLY), [p("a"), p("b")])
    assert result.rules[0] == RuleResult("h30", "at_least_hours", True, ("a", "b"), ("c",), 0, D("30"), D("0"))
    assert result.complete is True


def test_hours_short_says_how_many_hours_are_missing():
    result = evaluate(structure([HOURS_35], HOURS_ONLY), [p("a"), p("b")])
    assert result.rules[0] == RuleResult("h35", "at_least_hours", False, ("a", "b"), ("c",), 0, D("30"), D("5"))
    assert result.complete is False


def test_hours_of_a_component_presented_twice_count_once():
    result = evaluate(structure([HOURS_35], HOURS_ONLY), [p("c", credential="c1"), p("c", credential="c2")])
    assert result.rules[0].hours_counted == D("30")
    assert result.rules[0].met is False
    assert result.total_hours == D("30")


def test_one_credential_presented_for_two_components_counts_for_the_first_only():
    result = evaluate(structure([HOURS_35], HOURS_ONLY), [p("c", credential="same"), p("b", credential="same")])
    assert result.rules[0].counted == ("c",)
    assert result.rules[0].hours_counted == D("30")
    assert result.ignored == ((1, "This credential already counts for c; one credential counts for one component."),)


def test_stated_hours_never_count_for_more_than_the_pathway_declares():
    result = evaluate(structure([HOURS_35], HOURS_ONLY), [p("a", hours=D("500")), p("b", hours=D("5"))])
    assert result.rules[0].hours_counted == D("15")  # a: 10 declared (not 500); b: 5 stated (less than 20)


def test_stated_hours_count_where_the_pathway_declares_none():
    comps = {"a": D("10"), "x": None}
    rules = [RuleSpec("all", "all", ("a", "x"))]
    result = evaluate(Structure(comps, tuple(rules)), [p("a"), p("x", hours=D("7.5"))])
    assert result.total_hours == D("17.5")


def test_a_component_in_two_hours_rules_is_a_problem_and_never_completes():
    rules = [RuleSpec("h1", "at_least_hours", ("a", "b"), hours=D("10")),
             RuleSpec("h2", "at_least_hours", ("b", "c"), hours=D("20"))]
    s = structure(rules, HOURS_ONLY)
    assert structure_problems(s) == [
        "b counts towards two hours rules (Rule 1 and Rule 2): its hours would be counted twice."]
    result = evaluate(s, [p("b")])
    assert [r.met for r in result.rules] == [True, True]  # 20 hours would fill both rules...
    assert result.complete is False  # ...which is why such a structure is refused
    assert result.total_hours == D("20")


# --- order ----------------------------------------------------------------------------------------
ORDER_ABC = RuleSpec("o", "order", ("a", "b", "c"))


def test_order_met_in_sequence():
    result = evaluate(structure([ORDER_ABC, HOURS_D]),
                      [p("c", date(2026, 3, 1)), p("a", date(2026, 1, 1)), p("b", date(2026, 2, 1)), p("d")])
    assert result.rules[0] == RuleResult("o", "order", True, ("a", "b", "c"), (), 0)
    assert result.complete is True


def test_order_allows_the_same_day():
    result = evaluate(structure([ORDER_ABC, HOURS_D]), [p("a"), p("b"), p("c"), p("d")])
    assert result.rules[0].met is True


def test_order_broken_names_the_pair():
    result = evaluate(structure([ORDER_ABC, HOURS_D]),
                      [p("a", date(2026, 1, 1)), p("b", date(2026, 3, 1)), p("c", date(2026, 2, 1)), p("d")])
    assert result.rules[0] == RuleResult("o", "order", False, ("a", "b", "c"), (), 0, out_of_order=(("b", "c"),))
    assert result.complete is False


def test_order_every_pair_broken():
    result = evaluate(structure([ORDER_ABC, HOURS_D]),
                      [p("a", date(2026, 3, 1)), p("b", date(2026, 2, 1)), p("c", date(2026, 1, 1)), p("d")])
    assert result.rules[0].out_of_order == (("a", "b"), ("b", "c"))


def test_order_finds_a_chain_among_several_credentials_of_a_component():
    presented = [p("a", date(2026, 5, 1), credential="late-a"), p("a", date(2026, 1, 1), credential="early-a"),
                 p("b", date(2026, 1, 15), credential="early-b"), p("b", date(2026, 6, 1), credential="late-b"),
                 p("c", date(2026, 2, 1)), p("d")]
    assert evaluate(structure([ORDER_ABC, HOURS_D]), presented).rules[0].met is True


def test_order_compares_days_of_datetimes():
    presented = [p("a", datetime(2026, 1, 1, 23, 0)), p("b", datetime(2026, 1, 1, 1, 0)), p("c"), p("d")]
    assert evaluate(structure([ORDER_ABC, HOURS_D]), presented).rules[0].met is True


def test_order_with_a_component_missing_is_not_met_and_checks_no_order():
    result = evaluate(structure([ORDER_ABC, HOURS_D]), [p("c", date(2026, 1, 1)), p("a", date(2026, 2, 1))])
    assert result.rules[0] == RuleResult("o", "order", False, ("a", "c"), ("b",), 1)


# --- capstone and combinations --------------------------------------------------------------------
def test_the_capstone_is_needed_for_completion():
    comps = {"a": D("10"), "b": D("20"), "cap": D("5")}
    s = Structure(comps, (RuleSpec("r", "all", ("a", "b")),), capstone="cap")
    without = evaluate(s, [p("a"), p("b")])
    assert (without.rules[0].met, without.capstone_met, without.complete) == (True, False, False)
    with_it = evaluate(s, [p("a"), p("b"), p("cap")])
    assert (with_it.capstone_met, with_it.complete, with_it.total_hours) == (True, True, D("35"))


def test_no_capstone_reports_none():
    assert evaluate(structure([ALL_ABC, HOURS_D]), []).capstone_met is None


def test_several_rules_all_have_to_hold():
    comps = {"a": D("10"), "b": D("20"), "c": D("30"), "e": D("5")}
    rules = (RuleSpec("all", "all", ("a",)), RuleSpec("n", "at_least_n", ("b", "c"), n=1),
             RuleSpec("h", "at_least_hours", ("b", "c", "e"), hours=D("25")), RuleSpec("o", "order", ("a", "e")))
    s = Structure(comps, rules)
    result = evaluate(s, [p("a", date(2026, 1, 1)), p("b", date(2026, 1, 2)), p("e", date(2026, 1, 3))])
    assert [r.met for r in result.rules] == [True, True, True, True]
    assert result.complete is True
    assert result.total_hours == D("35")
    late_a = evaluate(s, [p("a", date(2026, 2, 1)), p("b", date(2026, 1, 2)), p("e", date(2026, 1, 3))])
    assert [r.met for r in late_a.rules] == [True, True, True, False]
    assert late_a.complete is False


# --- structure problems ---------------------------------------------------------------------------
def test_a_sound_structure_has_no_problems():
    assert structure_problems(structure([ALL_ABC, HOURS_D])) == []


def test_structure_problems_in_words():
    comps = {"a": D("10"), "b": None, "c": D("1"), "idle": D("3")}
    rules = (
        RuleSpec("1", "all", ()),
        RuleSpec("2", "at_least_n", ("a", "b"), n=3),
        RuleSpec("3", "at_least_n", ("a",), n=0),
        RuleSpec("4", "at_least_hours", ("b", "c"), hours=D("50")),
        RuleSpec("5", "at_least_hours", ("a",), hours=None),
        RuleSpec("6", "order", ("a",)),
        RuleSpec("7", "sometimes", ("a",)),
        RuleSpec("8", "all", ("a", "a", "ghost")),
    )
    assert structure_problems(Structure(comps, rules, capstone="nope")) == [
        "Rule 1 has no components.",
        "Rule 2 asks for 3 of only 2 components.",
        "Rule 3: give N, at least 1.",
        "Rule 4 counts hours of components that declare none: b.",
        "Rule 4 asks for 50 hours; its components give only 1.",
        "Rule 5: give the hours, more than 0.",
        "Rule 6: an ordering needs at least two components.",
        "Rule 7: unknown kind 'sometimes'.",
        "Rule 8 names a component twice.",
        "Rule 8 names components the pathway does not have: ghost.",
        "The capstone nope is not a component of the pathway.",
        "Components in no rule count for nothing: idle.",
    ]


def test_no_rules_is_a_problem_and_nothing_completes():
    s = Structure({"a": D("1")}, (), capstone="a")
    assert structure_problems(s) == ["The pathway has no rules."]
    assert evaluate(s, [p("a")]).complete is False


def test_an_unusable_rule_is_never_met_even_with_everything_presented():
    s = Structure({"a": D("1")}, (RuleSpec("x", "at_least_n", ("a",), n=None),))
    result = evaluate(s, [p("a")])
    assert result.rules[0].met is False
    assert result.complete is False
