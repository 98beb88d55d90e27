"""Reviews: only the assigned reviewer judges, only while in review; judgements are all or nothing;
a review completes once every criterion is judged; decisions that need a reason refuse without one."""

from __future__ import annotations

import pytest

from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Judgement
from tests.factories import application_in, judge_all, manager, reviewer

pytestmark = pytest.mark.django_db
S = ApplicationState


def codes(application) -> list[str]:
    return list(application.criteria_table.criteria.values_list("code", flat=True))


def test_the_assigned_reviewer_records_judgements_and_may_revise_them():
    application, cast = application_in(S.IN_REVIEW)
    review = application.reviews.get()
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": "LO", "verdict": "partially_met", "comment": "Outcome 3 is vague."}])
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": "LO", "verdict": "met", "comment": "Clarified."}])
    judgement = Judgement.objects.get(review=review)
    assert (judgement.criterion.code, judgement.verdict, judgement.comment) == ("LO", "met", "Clarified.")


@pytest.mark.parametrize(("judgements", "field", "message"), [
    ([{"criterion": "NOPE", "verdict": "met"}], "judgements[0].criterion", "Unknown criterion"),
    ([{"criterion": "LO", "verdict": "excellent"}], "judgements[0].verdict", "Choose one of"),
    ([{"criterion": "LO", "verdict": "met"}, {"criterion": "ASSESS", "verdict": "not_applicable"}],
     "judgements[1].verdict", "ASSESS is required"),
])
def test_invalid_judgements_record_nothing_at_all(judgements, field, message):
    application, cast = application_in(S.IN_REVIEW)
    review = application.reviews.get()
    with pytest.raises(InvalidInput) as refused:
        services.review_record_judgements(actor=cast.reviewer, review=review, judgements=judgements)
    assert message in refused.value.field_errors[field][0]
    assert not Judgement.objects.exists()  # the valid first item was not kept either


def test_an_optional_criterion_may_be_judged_not_applicable():
    application, cast = application_in(S.IN_REVIEW)
    services.review_record_judgements(actor=cast.reviewer, review=application.reviews.get(),
                                      judgements=[{"criterion": "PATHWAY", "verdict": "not_applicable"}])
    assert Judgement.objects.get().verdict == "not_applicable"


@pytest.mark.parametrize("who", ["another reviewer", "a manager", "the editor"])
def test_only_the_assigned_reviewer_judges_or_completes(who):
    application, cast = application_in(S.IN_REVIEW)
    review = application.reviews.get()
    actor = {"another reviewer": reviewer(), "a manager": cast.manager, "the editor": cast.editor}[who]
    with pytest.raises(NotPermitted):
        services.review_record_judgements(actor=actor, review=review,
                                          judgements=[{"criterion": "LO", "verdict": "met"}])
    judge_all(application, cast.reviewer)
    with pytest.raises(NotPermitted):
        services.review_complete(actor=actor, review=review)
    review.refresh_from_db()
    assert not review.is_complete


def test_judging_is_refused_unless_the_application_is_in_review():
    application, cast = application_in(S.SUBMITTED)
    review = services.application_assign_reviewer(actor=cast.manager, application=application,
                                                  reviewer=cast.reviewer)
    with pytest.raises(WrongState, match="only while the application is in review"):
        services.review_record_judgements(actor=cast.reviewer, review=review,
                                          judgements=[{"criterion": "LO", "verdict": "met"}])
    assert not Judgement.objects.exists()


def test_a_review_completes_only_once_every_criterion_is_judged():
    application, cast = application_in(S.IN_REVIEW)
    review = application.reviews.get()
    services.review_record_judgements(actor=cast.reviewer, review=review,
                                      judgements=[{"criterion": "LO", "verdict": "met"}])
    events_before = AuditEvent.objects.count()

    with pytest.raises(WrongState) as refused:
        services.review_complete(actor=cast.reviewer, review=review)

    assert refused.value.message.endswith(", ".join(c for c in codes(application) if c != "LO") + ".")
    review.refresh_from_db()
    assert not review.is_complete
    assert AuditEvent.objects.count() == events_before


def test_completing_a_review_records_the_verdicts_and_closes_it():
    application, cast = application_in(S.IN_REVIEW)
    review = application.reviews.get()
    judge_all(application, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=review, summary="Sound programme.")
    review.refresh_from_db()
    assert review.is_complete and review.completed_revision == 1 and review.summary == "Sound programme."
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.comment) == ("review.completed", "Sound programme.")
    assert event.data["verdicts"] == dict.fromkeys(codes(application), "met")
    with pytest.raises(WrongState, match="This review is complete"):
        services.review_record_judgements(actor=cast.reviewer, review=review,
                                          judgements=[{"criterion": "LO", "verdict": "not_met"}])
    assert not Judgement.objects.filter(verdict="not_met").exists()


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
@pytest.mark.parametrize("reason", ["", " \n\t"])
def test_requesting_changes_and_rejecting_need_a_reason(decision, reason):
    application, cast = application_in(S.IN_REVIEW)
    events_before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        if decision == "reject":
            services.application_reject(actor=cast.manager, application=application, comment=reason)
        else:
            services.application_request_changes(actor=cast.manager, application=application, message=reason)
    assert list(refused.value.field_errors) == ["comment" if decision == "reject" else "message"]
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW
    assert application.changes_message == "" and application.decision_comment == ""
    assert AuditEvent.objects.count() == events_before


def test_a_manager_of_the_body_may_review_when_assigned():
    application, cast = application_in(S.SUBMITTED)
    second = manager()
    services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=second)
    services.application_start_review(actor=cast.manager, application=application)
    judge_all(application, second)
    services.review_complete(actor=second, review=application.reviews.get(reviewer=second))
    assert application.reviews.get(reviewer=second).is_complete
    assert not application.reviews.filter(reviewer=cast.reviewer).exists()
