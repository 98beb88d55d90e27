"""The state × action matrix and the role × action matrix of the application workflow, through the
services: allowed where the state machine (and the role) allows, refused otherwise with nothing
changed and nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from config.errors import NotPermitted, WrongState
from endorsement import services
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement
from institutions.models import Role
from tests.factories import Cast, application_in, judge_all, reviewer, staff

pytestmark = pytest.mark.django_db
S = ApplicationState

# action -> (the states it may be taken from, the state it leads to, the audit action it records)
TRANSITIONS: dict[str, tuple[set[str], str, str]] = {
    "submit": ({S.DRAFT}, S.SUBMITTED, "application.submitted"),
    "resubmit": ({S.CHANGES_REQUESTED}, S.SUBMITTED, "application.resubmitted"),
    "start_review": ({S.SUBMITTED}, S.IN_REVIEW, "application.review_started"),
    "request_changes": ({S.IN_REVIEW}, S.CHANGES_REQUESTED, "application.changes_requested"),
    "endorse": ({S.IN_REVIEW}, S.ENDORSED, "application.endorsed"),
    "publish": ({S.ENDORSED}, S.PUBLISHED, "application.published"),
    "reject": ({S.IN_REVIEW}, S.REJECTED, "application.rejected"),
    "withdraw": ({S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED}, S.WITHDRAWN, "application.withdrawn"),
}
EDITOR_ACTIONS = {"submit", "resubmit", "withdraw"}
COMMENT = "A comment for the record."


def act(action: str, application: Application, actor: Any) -> Any:
    """Call the service of `action` with the arguments a page would give it."""
    if action == "submit":
        return services.application_submit(actor=actor, application=application)
    if action == "resubmit":
        return services.application_resubmit(actor=actor, application=application, comment=COMMENT)
    if action == "start_review":
        return services.application_start_review(actor=actor, application=application)
    if action == "request_changes":
        return services.application_request_changes(actor=actor, application=application, message=COMMENT)
    if action == "endorse":
        return services.application_endorse(actor=actor, application=application, comment=COMMENT)
    if action == "publish":
        return services.application_publish(actor=actor, application=application)
    if action == "reject":
        return services.application_reject(actor=actor, application=application, comment=COMMENT)
    if action == "withdraw":
        return services.application_withdraw(actor=actor, application=application, comment=COMMENT)
    raise AssertionError(action)


def ready_for(action: str, application: Application, cast: Cast) -> None:
    """Meet the action's conditions where its state allows it, so that a refusal can only come
    from the state or the role: reviewers for start_review, completed reviews for endorse."""
    if action == "start_review" and application.state == S.SUBMITTED:
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=cast.reviewer)
    if action == "endorse" and application.state == S.IN_REVIEW:
        judge_all(application, cast.reviewer)
        services.review_complete(actor=cast.reviewer, review=application.reviews.get(reviewer=cast.reviewer))


def actor_for(action: str, cast: Cast) -> Any:
    return cast.editor if action in EDITOR_ACTIONS else cast.manager


def assert_unchanged(application: Application, events_before: int) -> None:
    state_before = application.state
    application.refresh_from_db()
    assert application.state == state_before
    assert AuditEvent.objects.count() == events_before


MATRIX = [(action, state) for action in TRANSITIONS for state in S.values]


@pytest.mark.parametrize(("action", "state"), MATRIX)
def test_each_action_is_taken_exactly_from_the_states_the_workflow_allows(action, state):
    application, cast = application_in(state)
    ready_for(action, application, cast)
    sources, target, audit_action = TRANSITIONS[action]
    events_before = AuditEvent.objects.count()
    endorsements_before = Endorsement.objects.count()

    if state in sources:
        act(action, application, actor_for(action, cast))
        application.refresh_from_db()
        assert application.state == target
        event = AuditEvent.objects.order_by("-seq").first()
        assert AuditEvent.objects.filter(action=audit_action).count() == 1
        assert (event.action, event.from_state, event.to_state) == (audit_action, state, target)
        assert event.actor == actor_for(action, cast)
        assert event.subject_type == "application" and event.subject_id == str(application.pk)
    else:
        with pytest.raises(WrongState) as refused:
            act(action, application, actor_for(action, cast))
        assert action.replace("_", " ") in refused.value.message
        assert_unchanged(application, events_before)
        assert Endorsement.objects.count() == endorsements_before


ROLES = ["owner", "editor", "issuer", "editor of another organisation", "reviewer", "manager", "anonymous"]


def person(role: str, cast: Cast) -> Any:
    if role == "owner":
        return staff(cast.organisation, Role.OWNER)
    if role == "editor":
        return cast.editor
    if role == "issuer":
        return staff(cast.organisation, Role.ISSUER)
    if role == "editor of another organisation":
        return Cast().editor
    if role == "reviewer":
        return reviewer()
    if role == "manager":
        return cast.manager
    return AnonymousUser()


def permitted(action: str, role: str) -> bool:
    if action in EDITOR_ACTIONS:
        return role in {"owner", "editor"}
    return role == "manager"


@pytest.mark.parametrize(("action", "role"), [(a, r) for a in TRANSITIONS for r in ROLES])
def test_each_action_is_open_only_to_its_roles(action, role):
    sources, target, _ = TRANSITIONS[action]
    application, cast = application_in(sorted(sources)[0])
    ready_for(action, application, cast)
    actor = person(role, cast)
    events_before = AuditEvent.objects.count()

    if permitted(action, role):
        act(action, application, actor)
        application.refresh_from_db()
        assert application.state == target
        assert AuditEvent.objects.order_by("-seq").first().actor == actor
    else:
        with pytest.raises(NotPermitted):
            act(action, application, actor)
        assert_unchanged(application, events_before)


def test_a_refused_endorsement_grants_nothing_and_a_granted_one_grants_one():
    application, cast = application_in(S.IN_REVIEW)
    with pytest.raises(WrongState):
        services.application_endorse(actor=cast.manager, application=application)
    assert not Endorsement.objects.filter(application=application).exists()

    ready_for("endorse", application, cast)
    endorsement = services.application_endorse(actor=cast.manager, application=application, comment=" Fine. ")
    assert Endorsement.objects.filter(application=application).count() == 1
    assert endorsement.state == "active" and endorsement.decided_by == cast.manager
    assert endorsement.comment == "Fine."
    assert endorsement.valid_until > endorsement.valid_from
    with pytest.raises(WrongState):
        services.application_endorse(actor=cast.manager, application=application)
    assert Endorsement.objects.filter(application=application).count() == 1
