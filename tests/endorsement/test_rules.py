"""The criteria rule as a pure function: a parametrised table of reviews and the decision they allow.

No database here (the fast mutation subset, tests/test_mutation_fast.py, runs these against
`criteria_rule` and `reviewers_required`); the rule applied to stored reviews is
tests/endorsement/test_rules_stored.py."""

from __future__ import annotations

import pytest

from endorsement.models import Application
from endorsement.rules import ReviewFacts, criteria_rule, reviewers_required

REQUIRED = ["LO", "ASSESS"]


def review(name: str = "rev-a", complete: bool = True, **verdicts: str) -> ReviewFacts:
    return ReviewFacts(reviewer=name, complete=complete, verdicts=verdicts)


CASES = [
    # (what, reviews, allowed, reasons)
    ("one reviewer, every required criterion met",
     [review(LO="met", ASSESS="met")], True, []),
    ("two reviewers, both met everything",
     [review(LO="met", ASSESS="met"), review("rev-b", LO="met", ASSESS="met")], True, []),
    ("optional criteria judged anything do not block",
     [review(LO="met", ASSESS="met", LEVEL="not_met", PATHWAY="not_applicable", RELEVANCE="partially_met")],
     True, []),
    ("no reviewer at all",
     [], False, ["No reviewer is assigned."]),
    ("a review not completed",
     [review(complete=False, LO="met", ASSESS="met")], False, ["rev-a has not completed the review."]),
    ("a required criterion partially met",
     [review(LO="met", ASSESS="partially_met")], False, ["rev-a judged required criterion ASSESS: partially met."]),
    ("a required criterion not met",
     [review(LO="not_met", ASSESS="met")], False, ["rev-a judged required criterion LO: not met."]),
    ("a required criterion judged not applicable",
     [review(LO="met", ASSESS="not_applicable")], False,
     ["rev-a judged required criterion ASSESS: not applicable."]),
    ("a required criterion not judged",
     [review(LO="met")], False, ["rev-a judged required criterion ASSESS: no judgement."]),
    ("one of two reviewers short on one criterion",
     [review(LO="met", ASSESS="met"), review("rev-b", LO="met", ASSESS="not_met")], False,
     ["rev-b judged required criterion ASSESS: not met."]),
    ("every reason is listed, in order",
     [review(complete=False), review("rev-b", LO="partially_met", ASSESS="not_met")], False,
     ["rev-a has not completed the review.", "rev-b judged required criterion LO: partially met.",
      "rev-b judged required criterion ASSESS: not met."]),
    ("an unknown verdict is not met",
     [review(LO="met", ASSESS="excellent")], False, ["rev-a judged required criterion ASSESS: excellent."]),
    ("an unknown verdict is shown with spaces for its underscores",
     [review(LO="met", ASSESS="very_well_met")], False,
     ["rev-a judged required criterion ASSESS: very well met."]),
]


@pytest.mark.parametrize(("what", "reviews", "allowed", "reasons"), CASES, ids=[c[0] for c in CASES])
def test_criteria_rule(what, reviews, allowed, reasons):
    result = criteria_rule(REQUIRED, reviews)
    assert result.allowed is allowed
    assert result.reasons == reasons


def test_with_no_required_criteria_any_completed_review_allows():
    assert criteria_rule([], [review(LEVEL="not_met")]).allowed
    assert not criteria_rule([], [review(complete=False)]).allowed


def test_the_rule_accepts_any_iterables_and_does_not_consume_them_twice():
    result = criteria_rule(iter(REQUIRED), iter([review(LO="met", ASSESS="met")]))
    assert result.allowed


# --- the minimum number of reviewers, and the machine-readable reasons ----------------------------


def test_a_full_review_with_fewer_reviewers_than_the_body_asks_is_refused_with_the_count():
    two_met = [review(LO="met", ASSESS="met"), review("rev-b", LO="met", ASSESS="met")]
    short = criteria_rule(REQUIRED, two_met[:1], min_reviewers=2)
    assert (short.allowed, short.reasons) == (False, ["A full review needs 2 reviewers; 1 assigned."])
    assert (short.unmet, short.incomplete) == ([], [])
    assert criteria_rule(REQUIRED, two_met, min_reviewers=2) == criteria_rule(REQUIRED, two_met)
    assert criteria_rule(REQUIRED, two_met, min_reviewers=2).allowed
    assert criteria_rule(REQUIRED, two_met, min_reviewers=3).reasons == [
        "A full review needs 3 reviewers; 2 assigned."]
    # More reviews than asked for are fine; no review at all is said once, as that.
    assert criteria_rule(REQUIRED, two_met, min_reviewers=1).allowed
    assert criteria_rule(REQUIRED, [], min_reviewers=2).reasons == ["No reviewer is assigned."]


def test_the_reviewer_count_comes_before_the_reasons_of_each_review():
    result = criteria_rule(REQUIRED, [review(complete=False)], min_reviewers=2)
    assert result.reasons == ["A full review needs 2 reviewers; 1 assigned.", "rev-a has not completed the review."]
    assert result.incomplete == ["rev-a"]


def test_the_reasons_in_machine_readable_form():
    reviews = [
        review(complete=False, LO="met"),
        ReviewFacts("rev-b", True, {"LO": "not_met", "LEVEL": "not_met"}, {"LO": "No outcomes.", "LEVEL": "Low."}),
        review("rev-c", LO="met"),
    ]
    result = criteria_rule(REQUIRED, reviews)
    assert result.allowed is False
    assert result.incomplete == ["rev-a"]
    assert result.unmet == [
        {"criterion": "LO", "reviewer": "rev-b", "verdict": "not_met", "comment": "No outcomes."},
        {"criterion": "ASSESS", "reviewer": "rev-b", "verdict": None, "comment": ""},
        {"criterion": "ASSESS", "reviewer": "rev-c", "verdict": None, "comment": ""},
    ]
    allowed = criteria_rule(REQUIRED, [review(LO="met", ASSESS="met")])
    assert (allowed.unmet, allowed.incomplete) == ([], [])


@pytest.mark.parametrize(("depth", "body_asks", "required"), [
    ("minor", 3, 1), ("minor", 1, 1), ("full", 3, 3), ("full", 2, 2), ("full", 1, 1), ("full", 0, 1),
])
def test_reviewers_required_is_one_for_a_minor_change_else_the_bodys_number_and_at_least_one(
        depth, body_asks, required, settings):
    settings.ENDORSEMENT_MIN_REVIEWERS = body_asks
    assert reviewers_required(Application(review_depth=depth)) == required
