"""`endorsement_allowed`: the criteria rule applied to an application's pinned criteria table and its
stored reviews (the rule itself, as a pure function, is tests/endorsement/test_rules.py)."""

from __future__ import annotations

import pytest

from endorsement import services
from endorsement.models import Application
from endorsement.rules import RuleResult, endorsement_allowed
from tests.factories import application_in, judge_all, reviewer

pytestmark = pytest.mark.django_db


def test_an_application_without_a_pinned_table_is_refused_with_that_reason():
    application, _cast = application_in("draft")
    application.criteria_table_id = None
    assert endorsement_allowed(application) == RuleResult(False, ["The application has no criteria table pinned."])


def _allowed_and_reasons(application) -> tuple:
    result = endorsement_allowed(application)
    return result.allowed, result.reasons


def test_the_stored_reviews_are_judged_against_the_required_criteria_of_the_pinned_table():
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


def test_the_stored_reviews_give_the_body_number_of_reviewers_and_the_machine_readable_reasons(settings):
    application, cast = application_in("in_review")
    name = cast.reviewer.get_username()
    pending = endorsement_allowed(application)
    assert (pending.allowed, pending.incomplete, pending.unmet) == (False, [name], [])

    judge_all(application, cast.reviewer)
    code = next(c.code for c in application.criteria_table.criteria.all() if c.required)
    review = application.reviews.get(reviewer=cast.reviewer)
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": code, "verdict": "partially_met", "comment": "Weights are missing."}])
    services.review_complete(actor=cast.reviewer, review=review)
    application.refresh_from_db()
    result = endorsement_allowed(application)
    assert (result.allowed, result.incomplete) == (False, [])
    assert result.unmet == [{"criterion": code, "reviewer": name, "verdict": "partially_met",
                             "comment": "Weights are missing."}]

    endorsed, _cast = application_in("endorsed")
    assert endorsement_allowed(endorsed).allowed
    settings.ENDORSEMENT_MIN_REVIEWERS = 2
    assert endorsement_allowed(endorsed).reasons == ["A full review needs 2 reviewers; 1 assigned."]


def test_the_reviews_are_read_in_a_fixed_number_of_queries_whatever_their_number(django_assert_num_queries):
    # The queue and the decision pages ask this of many applications: no query per review or per
    # judgement. The five: the pinned table, its criteria, the reviews with their reviewers, their
    # judgements, the judgements' criteria.
    application, cast = application_in("submitted")
    second = reviewer()
    for who in (cast.reviewer, second):
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=who)
    application = services.application_start_review(actor=cast.manager, application=application)
    for who in (cast.reviewer, second):
        judge_all(application, who)
        services.review_complete(actor=who, review=application.reviews.get(reviewer=who))
    fresh = Application.objects.get(pk=application.pk)
    with django_assert_num_queries(5):
        result = endorsement_allowed(fresh)
    assert result.allowed, result.reasons
