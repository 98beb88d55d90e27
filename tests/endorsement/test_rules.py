"""The criteria rule as a pure function: a parametrised table of reviews and the decision they allow."""

from __future__ import annotations

import pytest

from endorsement.rules import ReviewFacts, criteria_rule

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
