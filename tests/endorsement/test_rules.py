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


# --- endorsement_allowed: the rule applied to an application's stored reviews ----------------------


@pytest.mark.django_db
def test_an_application_without_a_pinned_table_is_refused_with_that_reason():
    from endorsement.rules import RuleResult, endorsement_allowed
    from tests.factories import application_in

    application, _cast = application_in("draft")
    application.criteria_table_id = None
    assert endorsement_allowed(application) == RuleResult(False, ["The application has no criteria table pinned."])


def _allowed_and_reasons(application) -> tuple:
    from endorsement.rules import endorsement_allowed

    result = endorsement_allowed(application)
    return result.allowed, result.reasons


@pytest.mark.django_db
def test_the_stored_reviews_are_judged_against_the_required_criteria_of_the_pinned_table():
    from endorsement import services
    from tests.factories import application_in, judge_all

    application, cast = application_in("in_review")
    name = str(cast.reviewer)
    assert _allowed_and_reasons(application) == (False, [f"{name} has not completed the review."])

    judge_all(application, cast.reviewer)
    required = [c for c in application.criteria_table.criteria.all() if c.required]
    optional = [c for c in application.criteria_table.criteria.all() if not c.required]
    review = application.reviews.get(reviewer=cast.reviewer)
    # One required criterion judged not met, and (if the table has one) an optional one too.
    changes = [{"criterion": required[0].code, "verdict": "not_met", "comment": "No weights."}]
    if optional:
        changes.append({"criterion": optional[0].code, "verdict": "not_met", "comment": "Not relevant."})
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=changes)
    services.review_complete(actor=cast.reviewer, review=review)
    application.refresh_from_db()
    assert _allowed_and_reasons(application) == (
        False, [f"{name} judged required criterion {required[0].code}: not met."])

    endorsed, endorsed_cast = application_in("endorsed")
    assert _allowed_and_reasons(endorsed) == (True, [])
    # A review completed for an earlier revision no longer counts.
    endorsed.revision += 1
    assert _allowed_and_reasons(endorsed) == (False, [f"{endorsed_cast.reviewer} has not completed the review."])
