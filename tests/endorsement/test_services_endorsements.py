"""An endorsement's standing: managers suspend, reinstate and revoke (with a reason where it matters);
the expiry service and the beat task expire what is past due, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Endorsement, EndorsementState
from endorsement.tasks import expire_endorsements
from institutions.models import Role
from tests.factories import application_in, staff

pytestmark = pytest.mark.django_db
S, E = ApplicationState, EndorsementState


@pytest.fixture
def granted():
    """A published application's endorsement and the cast around it."""
    application, cast = application_in(S.PUBLISHED)
    return Endorsement.objects.get(application=application), cast


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def test_a_manager_suspends_reinstates_and_revokes_with_a_record_of_each(granted):
    endorsement, cast = granted

    services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Assessment under appeal.")
    endorsement.refresh_from_db()
    assert endorsement.state == E.SUSPENDED and endorsement.state_changed_at is not None
    assert (last_event().action, last_event().from_state, last_event().to_state, last_event().comment) == (
        "endorsement.suspended", "active", "suspended", "Assessment under appeal.")

    services.endorsement_reinstate(actor=cast.manager, endorsement=endorsement, comment="Appeal dismissed.")
    endorsement.refresh_from_db()
    assert endorsement.state == E.ACTIVE
    assert (last_event().action, last_event().to_state) == ("endorsement.reinstated", "active")

    services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Evidence was fabricated.")
    endorsement.refresh_from_db()
    assert endorsement.state == E.REVOKED
    assert (last_event().action, last_event().actor) == ("endorsement.revoked", cast.manager)


def test_a_suspended_endorsement_can_be_revoked(granted):
    endorsement, cast = granted
    services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under investigation.")
    services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Confirmed misconduct.")
    endorsement.refresh_from_db()
    assert endorsement.state == E.REVOKED


@pytest.mark.parametrize("role", ["editor", "owner", "reviewer", "anonymous"])
@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke"])
def test_only_managers_change_an_endorsements_standing(granted, role, action):
    endorsement, cast = granted
    if action == "reinstate":
        services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under investigation.")
        endorsement.refresh_from_db()
    actor = {"editor": cast.editor, "owner": staff(cast.organisation, Role.OWNER), "reviewer": cast.reviewer,
             "anonymous": AnonymousUser()}[role]
    state_before, events_before = endorsement.state, AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        getattr(services, f"endorsement_{action}")(actor=actor, endorsement=endorsement, comment="Because.")

    endorsement.refresh_from_db()
    assert endorsement.state == state_before
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("action", ["suspend", "revoke"])
@pytest.mark.parametrize("comment", ["", "  \n "])
def test_suspending_and_revoking_need_a_reason(granted, action, comment):
    endorsement, cast = granted
    events_before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        getattr(services, f"endorsement_{action}")(actor=cast.manager, endorsement=endorsement, comment=comment)
    assert refused.value.field_errors == {"comment": ["This field is required."]}
    endorsement.refresh_from_db()
    assert endorsement.state == E.ACTIVE
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(("state", "action"), [
    (E.ACTIVE, "reinstate"), (E.REVOKED, "suspend"), (E.REVOKED, "reinstate"), (E.REVOKED, "revoke"),
    (E.EXPIRED, "suspend"), (E.EXPIRED, "reinstate"), (E.EXPIRED, "revoke"), (E.SUSPENDED, "suspend"),
])
def test_a_standing_change_from_the_wrong_state_is_refused(granted, state, action):
    endorsement, cast = granted
    if state == E.SUSPENDED:
        services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="First.")
    elif state == E.REVOKED:
        services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Gone.")
    elif state == E.EXPIRED:
        Endorsement.objects.filter(pk=endorsement.pk).update(valid_until=timezone.now() - timedelta(days=1))
        assert services.endorsements_expire_due() == 1
    endorsement.refresh_from_db()
    assert endorsement.state == state
    events_before = AuditEvent.objects.count()

    with pytest.raises(WrongState):
        getattr(services, f"endorsement_{action}")(actor=cast.manager, endorsement=endorsement, comment="Again.")

    endorsement.refresh_from_db()
    assert endorsement.state == state
    assert AuditEvent.objects.count() == events_before


def two_endorsements_one_past_due():
    past, cast = application_in(S.PUBLISHED)
    future, _ = application_in(S.ENDORSED, cast)
    Endorsement.objects.filter(application=past).update(valid_until=timezone.now() - timedelta(minutes=1))
    return Endorsement.objects.get(application=past), Endorsement.objects.get(application=future), cast


def test_expiry_expires_only_past_due_endorsements_and_only_once():
    past, future, _ = two_endorsements_one_past_due()

    assert services.endorsements_expire_due() == 1
    assert services.endorsements_expire_due() == 0

    past.refresh_from_db()
    future.refresh_from_db()
    assert past.state == E.EXPIRED and future.state == E.ACTIVE
    events = AuditEvent.objects.filter(action="endorsement.expired")
    assert events.count() == 1
    event = events.get()
    assert (event.subject_id, event.actor, event.actor_repr) == (str(past.pk), None, "system")
    assert (event.from_state, event.to_state) == ("active", "expired")


def test_a_suspended_endorsement_past_due_expires_too():
    past, _future, cast = two_endorsements_one_past_due()
    services.endorsement_suspend(actor=cast.manager, endorsement=past, comment="Under investigation.")
    assert services.endorsements_expire_due() == 1
    past.refresh_from_db()
    assert past.state == E.EXPIRED
    assert AuditEvent.objects.get(action="endorsement.expired").from_state == "suspended"


def test_a_revoked_endorsement_past_due_is_not_expired():
    past, _future, cast = two_endorsements_one_past_due()
    services.endorsement_revoke(actor=cast.manager, endorsement=past, comment="Withdrawn by the body.")
    assert services.endorsements_expire_due() == 0
    past.refresh_from_db()
    assert past.state == E.REVOKED


def test_expiry_at_a_given_moment_counts_endorsements_ending_by_then():
    _past, future, _ = two_endorsements_one_past_due()
    assert services.endorsements_expire_due(now=future.valid_until + timedelta(seconds=1)) == 2
    future.refresh_from_db()
    assert future.state == E.EXPIRED


def test_the_beat_task_expires_past_due_endorsements_once_when_run_twice():
    past, future, _ = two_endorsements_one_past_due()

    assert expire_endorsements.apply().get() == 1
    assert expire_endorsements.apply().get() == 0

    past.refresh_from_db()
    future.refresh_from_db()
    assert (past.state, future.state) == (E.EXPIRED, E.ACTIVE)
    assert AuditEvent.objects.filter(action="endorsement.expired").count() == 1
