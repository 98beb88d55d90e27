"""The conditions of the transitions: a complete programme and an active member to submit, reviewers
to start a review, and the criteria rule to endorse (also after a resubmission)."""

from __future__ import annotations

import pytest

from badges.services import programme_missing_fields
from config.errors import WrongState
from endorsement import services
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement
from endorsement.rules import endorsement_allowed
from institutions.models import MembershipState
from institutions.services import organisation_suspend
from tests.factories import Cast, ProgrammeFactory, application_in, judge_all, reviewer

pytestmark = pytest.mark.django_db
S = ApplicationState


def draft_for(programme_kwargs: dict) -> tuple[Application, Cast]:
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **programme_kwargs)
    return application_in(S.DRAFT, cast, programme)


def test_submit_is_refused_for_an_incomplete_programme_and_says_why():
    application, cast = draft_for({"description_en": "", "description_ja": "", "evidence_policy": ""})
    events_before = AuditEvent.objects.count()

    with pytest.raises(WrongState) as refused:
        services.application_submit(actor=cast.editor, application=application)

    assert "The programme is incomplete" in refused.value.message
    assert programme_missing_fields(application.programme) == ["description", "evidence_policy"]
    application.refresh_from_db()
    assert application.state == S.DRAFT
    assert application.snapshot is None and application.criteria_table is None and application.revision == 0
    assert AuditEvent.objects.count() == events_before


def test_a_bilingual_field_counts_as_filled_in_either_language():
    application, cast = draft_for({"name_en": "", "description_en": ""})
    services.application_submit(actor=cast.editor, application=application)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_submit_is_refused_for_a_suspended_member():
    application, cast = application_in(S.DRAFT)
    organisation_suspend(actor=cast.manager, organisation=cast.organisation, comment="Unpaid membership fee.")
    events_before = AuditEvent.objects.count()

    with pytest.raises(WrongState) as refused:
        services.application_submit(actor=cast.editor, application=application)

    assert "active member" in refused.value.message
    application.refresh_from_db()
    assert application.state == S.DRAFT
    assert application.organisation.membership == MembershipState.SUSPENDED
    assert AuditEvent.objects.count() == events_before


def test_resubmit_is_refused_for_a_suspended_member():
    application, cast = application_in(S.CHANGES_REQUESTED)
    organisation_suspend(actor=cast.manager, organisation=cast.organisation, comment="Unpaid membership fee.")
    with pytest.raises(WrongState, match="active member"):
        services.application_resubmit(actor=cast.editor, application=application)
    application.refresh_from_db()
    assert application.state == S.CHANGES_REQUESTED


def test_start_review_is_refused_without_reviewers():
    application, cast = application_in(S.SUBMITTED)
    events_before = AuditEvent.objects.count()

    with pytest.raises(WrongState, match="Assign at least one reviewer"):
        services.application_start_review(actor=cast.manager, application=application)

    application.refresh_from_db()
    assert application.state == S.SUBMITTED
    assert AuditEvent.objects.count() == events_before


def complete(application: Application, user, verdicts: dict[str, str] | None = None) -> None:
    """`user` judges every criterion met, except those in `verdicts`, and completes the review."""
    verdicts = verdicts or {}
    review = application.reviews.get(reviewer=user)
    services.review_record_judgements(actor=user, review=review, judgements=[
        {"criterion": c.code, "verdict": verdicts.get(c.code, "met")} for c in application.criteria_table.criteria.all()
    ])
    services.review_complete(actor=user, review=review)


def assert_endorse_refused(application: Application, cast: Cast, reason: str) -> None:
    events_before = AuditEvent.objects.count()
    with pytest.raises(WrongState) as refused:
        services.application_endorse(actor=cast.manager, application=application)
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW
    assert not Endorsement.objects.filter(application=application).exists()
    assert AuditEvent.objects.count() == events_before
    assert refused.value.message.startswith("Every assigned review must be complete")
    assert any(reason in r for r in endorsement_allowed(application).reasons), endorsement_allowed(application)


def test_endorse_is_refused_while_a_review_is_open():
    application, cast = application_in(S.IN_REVIEW)
    second = reviewer()
    services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=second)
    complete(application, cast.reviewer)
    judge_all(application, second)  # judged, but not completed

    assert_endorse_refused(application, cast, f"{second} has not completed the review.")

    complete_review = application.reviews.get(reviewer=second)
    services.review_complete(actor=second, review=complete_review)
    services.application_endorse(actor=cast.manager, application=application)
    application.refresh_from_db()
    assert application.state == S.ENDORSED


@pytest.mark.parametrize("verdict", ["partially_met", "not_met"])
@pytest.mark.parametrize("which", ["the only reviewer", "one of two reviewers"])
def test_endorse_is_refused_when_a_reviewer_judged_a_required_criterion_short_of_met(verdict, which):
    application, cast = application_in(S.IN_REVIEW)
    if which == "one of two reviewers":
        other = reviewer()
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=other)
        complete(application, other)
    complete(application, cast.reviewer, {"ASSESS": verdict})
    assert application.criteria_table.criteria.get(code="ASSESS").required

    assert_endorse_refused(
        application, cast, f"{cast.reviewer} judged required criterion ASSESS: {verdict.replace('_', ' ')}."
    )


@pytest.mark.parametrize("verdict", ["not_applicable", "not_met", "partially_met"])
def test_endorse_is_allowed_whatever_an_optional_criterion_was_judged(verdict):
    application, cast = application_in(S.IN_REVIEW)
    optional = list(application.criteria_table.criteria.filter(required=False).values_list("code", flat=True))
    assert optional
    complete(application, cast.reviewer, dict.fromkeys(optional, verdict))

    endorsement = services.application_endorse(actor=cast.manager, application=application)

    application.refresh_from_db()
    assert application.state == S.ENDORSED
    assert endorsement.application == application


def test_after_a_resubmission_reviews_reopen_and_endorse_waits_for_them_again():
    application, cast = application_in(S.IN_REVIEW)
    complete(application, cast.reviewer, {"EVIDENCE": "partially_met"})
    services.application_request_changes(actor=cast.manager, application=application, message="Keep evidence.")
    services.application_resubmit(actor=cast.editor, application=application, comment="Evidence kept now.")
    services.application_start_review(actor=cast.manager, application=application)

    review = application.reviews.get(reviewer=cast.reviewer)
    assert not review.is_complete
    assert review.judgements.get(criterion__code="EVIDENCE").verdict == "partially_met"  # kept to revise
    assert_endorse_refused(application, cast, f"{cast.reviewer} has not completed the review.")

    complete(application, cast.reviewer)  # revised: all met
    services.application_endorse(actor=cast.manager, application=application)
    application.refresh_from_db()
    assert application.state == S.ENDORSED
    assert application.reviews.get().completed_revision == application.revision == 2
