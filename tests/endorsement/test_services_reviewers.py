"""Who may review: assignment refuses the applying organisation's own staff, declared conflicts and
people outside the body; declaring a conflict withdraws the reviewer's open reviews."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Review
from institutions.models import ConflictOfInterest, Role, StaffMember
from tests.factories import Cast, ProgrammeFactory, application_in, body, judge_all, manager, reviewer, staff

pytestmark = pytest.mark.django_db
S = ApplicationState


def assert_assignment_refused(application, cast, user, message: str) -> None:
    events_before, reviews_before = AuditEvent.objects.count(), Review.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=user)
    assert message in refused.value.message
    assert refused.value.field_errors == {"reviewer": [refused.value.message]}
    assert Review.objects.count() == reviews_before
    assert not application.reviews.filter(reviewer=user).exists()
    assert AuditEvent.objects.count() == events_before


def test_a_manager_assigns_a_reviewer_and_the_assignment_is_recorded():
    application, cast = application_in(S.SUBMITTED)
    review = services.application_assign_reviewer(actor=cast.manager, application=application,
                                                  reviewer=cast.reviewer)
    assert review.reviewer == cast.reviewer and review.assigned_by == cast.manager
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "application.reviewer_assigned"
    assert event.data["reviewer_id"] == cast.reviewer.pk
    assert (event.from_state, event.to_state) == (S.SUBMITTED, S.SUBMITTED)


def test_assignment_is_refused_for_staff_of_the_applying_organisation():
    # A user belongs to one organisation only, so the one way a body reviewer is staff of the
    # applicant is the body applying for its own programme.
    cast = Cast(organisation=body())
    programme = ProgrammeFactory(organisation=cast.organisation)
    application, _ = application_in(S.SUBMITTED, cast, programme)
    own_reviewer = reviewer()
    assert StaffMember.objects.get(user=own_reviewer).organisation == application.organisation

    assert_assignment_refused(application, cast, own_reviewer, "is staff of the applying organisation")


def test_assignment_is_refused_after_a_declared_conflict_of_interest():
    application, cast = application_in(S.SUBMITTED)
    services.conflict_declare(actor=cast.reviewer, organisation=cast.organisation, reason="My spouse teaches there.")

    assert_assignment_refused(application, cast, cast.reviewer, "declared a conflict of interest")


@pytest.mark.parametrize("who", ["an editor of another organisation", "an owner of the applicant"])
def test_assignment_is_refused_for_a_user_outside_the_body(who):
    application, cast = application_in(S.SUBMITTED)
    user = Cast().editor if who.startswith("an editor") else staff(cast.organisation, Role.OWNER)

    assert_assignment_refused(application, cast, user, "is not a reviewer or manager of the certification body")


def test_a_manager_of_the_body_may_be_assigned_as_a_reviewer():
    application, cast = application_in(S.SUBMITTED)
    other_manager = manager()
    services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=other_manager)
    assert application.reviews.filter(reviewer=other_manager).exists()


@pytest.mark.parametrize("role", ["reviewer", "editor", "anonymous"])
def test_only_managers_assign_reviewers(role):
    application, cast = application_in(S.SUBMITTED)
    actor = {"reviewer": cast.reviewer, "editor": cast.editor, "anonymous": AnonymousUser()}[role]
    events_before = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        services.application_assign_reviewer(actor=actor, application=application, reviewer=reviewer())
    assert not application.reviews.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("state", [S.DRAFT, S.CHANGES_REQUESTED, S.ENDORSED, S.PUBLISHED, S.REJECTED, S.WITHDRAWN])
def test_reviewers_are_assigned_only_while_submitted_or_in_review(state):
    application, cast = application_in(state)
    reviews_before = application.reviews.count()
    with pytest.raises(WrongState):
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=reviewer())
    assert application.reviews.count() == reviews_before


def test_the_same_reviewer_is_not_assigned_twice():
    application, cast = application_in(S.IN_REVIEW)
    with pytest.raises(WrongState, match="already assigned"):
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=cast.reviewer)
    assert application.reviews.count() == 1


def test_declaring_a_conflict_removes_the_reviewers_open_review():
    application, cast = application_in(S.IN_REVIEW)
    judge_all(application, cast.reviewer)  # judged but not completed: still open

    conflict = services.conflict_declare(actor=cast.reviewer, organisation=cast.organisation,
                                         reason="I consulted for them last year.")

    assert conflict.reason == "I consulted for them last year."
    assert not Review.objects.filter(application=application, reviewer=cast.reviewer).exists()
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.subject_type, event.subject_id) == (
        "conflict.declared", "organisation", str(cast.organisation.pk))


def test_declaring_a_conflict_keeps_completed_reviews_and_other_organisations_reviews():
    application, cast = application_in(S.IN_REVIEW)
    judge_all(application, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=application.reviews.get())
    elsewhere, other_cast = application_in(S.SUBMITTED)
    services.application_assign_reviewer(actor=cast.manager, application=elsewhere, reviewer=cast.reviewer)

    services.conflict_declare(actor=cast.reviewer, organisation=cast.organisation, reason="Former colleague.")

    assert application.reviews.get(reviewer=cast.reviewer).is_complete
    assert elsewhere.reviews.filter(reviewer=cast.reviewer).exists()
    assert other_cast.organisation != cast.organisation


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_conflict_needs_a_reason(reason):
    _application, cast = application_in(S.SUBMITTED)
    with pytest.raises(InvalidInput) as refused:
        services.conflict_declare(actor=cast.reviewer, organisation=cast.organisation, reason=reason)
    assert "reason" in refused.value.field_errors
    assert not ConflictOfInterest.objects.exists()


def test_only_body_staff_declare_conflicts():
    _application, cast = application_in(S.SUBMITTED)
    with pytest.raises(NotPermitted):
        services.conflict_declare(actor=Cast().editor, organisation=cast.organisation, reason="Competitor.")
    assert not ConflictOfInterest.objects.exists()
