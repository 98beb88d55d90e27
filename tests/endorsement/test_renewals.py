"""Renewal: opened from an endorsement in its window (or after it ended), reviewed like any
application, endorsed to start the instant the renewed one ends (no gap, no overlap); the renewed
one ends as superseded and never stands beside it; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from badges.achievements import achievement_id
from badges.services import programme_update
from config.errors import NotPermitted, WrongState
from endorsement import renewals, services
from endorsement.audit import audit_verify
from endorsement.credentials import endorsement_in_force
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement, EndorsementState
from institutions.models import Role
from tests.endorsement.renewal_walk import counts, ends_in, walk
from tests.factories import Cast, OrganisationFactory, application_in, staff

pytestmark = pytest.mark.django_db
S, E = ApplicationState, EndorsementState


@pytest.fixture
def endorsed():
    application, cast = application_in(S.PUBLISHED)
    return Endorsement.objects.get(application=application), cast


# --- opening ----------------------------------------------------------------------------------------
def test_a_renewal_opens_within_the_window_with_renews_set_and_an_audit_event(endorsed):
    endorsement, cast = ends_in(endorsed[0], 100), endorsed[1]
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    assert (application.state, application.renews, application.kind) == (S.DRAFT, endorsement, "renewal")
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.subject_id, event.data["kind"], event.data["renews"]) == (
        "application.created", str(application.pk), "renewal", str(endorsement.public_id))


def test_a_renewal_is_refused_before_the_window_and_nothing_is_written(endorsed, settings):
    settings.RENEWAL_WINDOW_DAYS = 180
    endorsement, cast = ends_in(endorsed[0], 181), endorsed[1]
    before = counts()
    with pytest.raises(WrongState) as refused:
        renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    assert "A renewal can be opened from" in refused.value.message and "180 days" in refused.value.message
    assert counts() == before


def test_the_window_is_a_setting(endorsed, settings):
    settings.RENEWAL_WINDOW_DAYS = 400
    endorsement, cast = ends_in(endorsed[0], 300), endorsed[1]
    assert renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement).renews == endorsement


@pytest.mark.parametrize("role", [Role.ISSUER])
def test_an_issuer_of_the_organisation_may_not_open_a_renewal(endorsed, role):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    before = counts()
    with pytest.raises(NotPermitted):
        renewals.endorsement_renew(actor=staff(cast.organisation, role), endorsement=endorsement)
    assert counts() == before


def test_staff_of_another_organisation_and_reviewers_may_not_open_a_renewal(endorsed):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    before = counts()
    for outsider in (staff(OrganisationFactory(), Role.OWNER), cast.reviewer):
        with pytest.raises(NotPermitted):
            renewals.endorsement_renew(actor=outsider, endorsement=endorsement)
    assert counts() == before


def test_owners_and_managers_may_open_a_renewal(endorsed):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    owner = staff(cast.organisation, Role.OWNER)
    application = renewals.endorsement_renew(actor=owner, endorsement=endorsement)
    services.application_withdraw(actor=owner, application=application)
    assert renewals.endorsement_renew(actor=cast.manager, endorsement=endorsement).created_by == cast.manager


def test_a_second_renewal_is_refused_while_one_is_open(endorsed):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    before = counts()
    with pytest.raises(WrongState) as refused:
        renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    assert "already has an open application" in refused.value.message
    assert counts() == before


@pytest.mark.parametrize("standing", ["suspend", "revoke"])
def test_a_suspended_or_revoked_endorsement_cannot_be_renewed(endorsed, standing):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    getattr(services, f"endorsement_{standing}")(actor=cast.manager, endorsement=endorsement, comment="Audit.")
    before = counts()
    with pytest.raises(WrongState) as refused:
        renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    assert ("suspended" if standing == "suspend" else "revoked") in refused.value.message
    assert counts() == before


def test_the_renewal_carries_the_programme_as_it_is_now(endorsed):
    endorsement, cast = ends_in(endorsed[0], 30), endorsed[1]
    programme = endorsement.programme
    with pytest.raises(WrongState):  # endorsed and no renewal or change open: the programme is frozen
        programme_update(actor=cast.editor, programme=programme, data={"level": "Level 9"})
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    programme_update(actor=cast.editor, programme=programme, data={"level": "Level 9"})
    application = services.application_submit(actor=cast.editor, application=application)
    assert application.snapshot["level"] == "Level 9"
    changes = renewals.application_changes(application)
    assert [(c.name, c.before, c.after) for c in changes] == [("level", endorsement.application.snapshot["level"],
                                                               "Level 9")]


# --- endorsing: timing ------------------------------------------------------------------------------
def test_a_renewal_endorsed_before_the_end_starts_exactly_when_the_old_one_ends(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast)
    new = Endorsement.objects.get(application=application)
    old.refresh_from_db()
    # No gap, no overlap; the old one still stands alone until then.
    assert new.valid_from == old.valid_until
    assert (new.state, old.state, new.predecessor) == (E.SCHEDULED, E.ACTIVE, old)
    assert endorsement_in_force(old.programme_id) == old
    assert Endorsement.objects.filter(programme=old.programme, state=E.ACTIVE).count() == 1

    # The moment comes: the old one's end passes (before the beat task runs, the renewal is in force).
    end = timezone.now() - timedelta(seconds=1)
    Endorsement.objects.filter(pk=old.pk).update(valid_from=end - timedelta(days=1095), valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end, valid_until=end + timedelta(days=1095),
                                                 published_at=end - timedelta(days=20))
    assert endorsement_in_force(old.programme_id) == new

    assert services.endorsements_expire_due() == 0  # superseded, not expired
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUPERSEDED, E.ACTIVE)
    assert old.state_changed_at == end and new.state_changed_at == end
    actions = list(AuditEvent.objects.order_by("-seq").values_list("action", "subject_id")[:2])
    assert actions == [("endorsement.started", str(new.pk)), ("endorsement.superseded", str(old.pk))]
    # Running the task again changes nothing.
    events = AuditEvent.objects.count()
    assert services.endorsements_expire_due() == 0 and AuditEvent.objects.count() == events
    assert audit_verify().ok


def test_a_renewal_endorsed_after_the_end_starts_at_once(endorsed):
    old, cast = ends_in(endorsed[0], 10), endorsed[1]
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=old)
    Endorsement.objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(days=2))
    assert services.endorsements_expire_due() == 1
    application = walk(application, cast)
    new = Endorsement.objects.get(application=application)
    old.refresh_from_db()
    assert (old.state, new.state, new.predecessor) == (E.EXPIRED, E.ACTIVE, old)
    assert new.valid_from == application.decided_at
    assert endorsement_in_force(old.programme_id) == new


def test_an_expired_endorsement_can_be_renewed_as_a_fresh_application_any_time_after(endorsed, settings):
    settings.RENEWAL_WINDOW_DAYS = 10
    old, cast = endorsed
    Endorsement.objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(days=400))
    services.endorsements_expire_due()
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=old)
    assert application.renews_id == old.pk


def test_the_database_refuses_a_second_active_endorsement_of_a_programme(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast)
    new = Endorsement.objects.get(application=application)
    with pytest.raises(IntegrityError), transaction.atomic():
        Endorsement.objects.filter(pk=new.pk).update(state=E.ACTIVE)
    new.refresh_from_db()
    assert new.state == E.SCHEDULED


def test_endorsing_a_renewal_of_a_suspended_endorsement_is_refused_and_nothing_is_written(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast, to=S.IN_REVIEW)
    services.endorsement_suspend(actor=cast.manager, endorsement=old, comment="Complaint under review.")
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.application_endorse(actor=cast.manager, application=application)
    assert "suspended" in refused.value.message
    assert counts() == before
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW


def test_a_renewal_waits_while_the_endorsement_it_renews_is_suspended(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    services.endorsement_suspend(actor=cast.manager, endorsement=old, comment="Complaint under review.")
    end = timezone.now() - timedelta(seconds=1)
    Endorsement.objects.filter(pk=old.pk).update(valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end)
    assert endorsement_in_force(old.programme_id) is None
    services.endorsements_expire_due()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUSPENDED, E.SCHEDULED)  # neither expired nor started
    services.endorsement_reinstate(actor=cast.manager, endorsement=old, comment="Complaint dismissed.")
    services.endorsements_expire_due()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUPERSEDED, E.ACTIVE)


def test_a_renewal_with_the_programme_unchanged_endorses_the_same_version(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    assert (old.version, new.version) == (1, 1)
    assert new.credential["credentialSubject"]["id"] == achievement_id(old.programme)


def test_a_renewal_with_changes_endorses_a_new_version(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=old)
    programme_update(actor=cast.editor, programme=old.programme, data={"learning_hours": "45"})
    new = Endorsement.objects.get(application=walk(application, cast))
    assert new.version == 2
    assert new.credential["credentialSubject"]["id"] == achievement_id(old.programme, 2)
    assert new.credential["credentialSubject"]["id"].endswith(f"/achievements/{old.programme.public_id}/v2")


def test_a_superseded_endorsement_cannot_be_renewed_again(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast)
    before = counts()
    with pytest.raises(WrongState) as refused:
        renewals.endorsement_renew(actor=cast.editor, endorsement=old)
    assert "renewed" in refused.value.message
    assert counts() == before


def test_a_renewal_is_reviewed_like_any_application(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast, to=S.SUBMITTED)
    services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=cast.reviewer)
    services.application_start_review(actor=cast.manager, application=application)
    before = counts()
    with pytest.raises(WrongState):  # nobody judged yet: the criteria rule holds renewals too
        services.application_endorse(actor=cast.manager, application=application)
    assert counts() == before
    assert Application.objects.get(pk=application.pk).state == S.IN_REVIEW


def test_previous_judgements_are_listed_by_criterion(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=old)
    previous = renewals.previous_judgements(application)
    codes = set(old.application.criteria_table.criteria.values_list("code", flat=True))
    assert set(previous) == codes
    first = previous[sorted(codes)[0]][0]
    assert (first["reviewer"], first["verdict"]) == (str(cast.reviewer), "met")
    assert renewals.previous_judgements(application_in(S.DRAFT, Cast())[0]) == {}


def test_a_manager_may_revoke_a_granted_renewal_before_it_starts_then_renew_again_or_let_it_expire(endorsed):
    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    before = counts()
    with pytest.raises(NotPermitted):
        services.endorsement_revoke(actor=cast.editor, endorsement=new, comment="No.")
    with pytest.raises(WrongState):  # a renewal that has not started cannot be suspended
        services.endorsement_suspend(actor=cast.manager, endorsement=new, comment="Wait.")
    assert counts() == before
    services.endorsement_revoke(actor=cast.manager, endorsement=new, comment="Granted in error.")
    new.refresh_from_db()
    assert new.state == E.REVOKED
    # The revoked renewal does not count as a successor: the organisation may renew again.
    assert renewals.renewal_refusal(old) is None
    again = walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast, to=S.ENDORSED)
    assert Endorsement.objects.get(application=again).predecessor == old
    services.endorsement_revoke(actor=cast.manager, endorsement=Endorsement.objects.get(application=again),
                                comment="Also in error.")
    Endorsement.objects.filter(pk=old.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert services.endorsements_expire_due() == 1
    old.refresh_from_db()
    assert old.state == E.EXPIRED  # nothing succeeded it


def test_the_api_lists_what_a_manager_may_do_with_a_granted_renewal(endorsed):
    from tests.factories import api_client

    old, cast = ends_in(endorsed[0], 30), endorsed[1]
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    body = api_client(cast.manager).get(f"/api/v1/endorsements/{new.pk}").json()
    assert (body["state"], body["transitions"], body["predecessor"]) == ("scheduled", ["revoke"], old.pk)
    assert api_client(cast.manager).get(f"/api/v1/endorsements/{old.pk}").json()["successor"] == new.pk
