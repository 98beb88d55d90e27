"""Member staff: invitations (single use, expiry, revocation), roles, removal, and the rule that an
organisation always keeps an owner (the body: a manager). Every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.audit import audit_verify
from endorsement.models import AuditEvent, Notification
from institutions import staff as services
from institutions.models import InvitationState, MembershipState, Role, StaffInvitation, StaffMember
from tests.factories import OrganisationFactory, body, login_request, manager, reviewer, staff

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long pass phrase"


def counts() -> tuple[int, int, int, int, int]:
    return (User.objects.count(), StaffMember.objects.count(), StaffInvitation.objects.count(),
            AuditEvent.objects.count(), len(mail.outbox))


@pytest.fixture
def org():
    organisation = OrganisationFactory()
    return organisation, staff(organisation, Role.OWNER)


def invite(actor, organisation, email="colleague@example.org", role=Role.ISSUER):
    return services.staff_invite(actor=actor, organisation=organisation, email=email, role=role)


# --- Invitations ----------------------------------------------------------------------------------
def test_an_owner_invites_and_the_link_is_mailed_once_with_only_its_hash_stored(
    org, django_capture_on_commit_callbacks
):
    organisation, owner = org
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.staff_invite(actor=owner, organisation=organisation,
                                                  email="colleague@example.org", role=Role.ISSUER)
    assert invitation.state == InvitationState.PENDING
    assert invitation.token_sha256 == services.token_digest(token) and token not in invitation.token_sha256
    assert not StaffInvitation.objects.filter(token_sha256=token).exists()
    expected = timezone.now() + timedelta(days=7)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["colleague@example.org"]
    assert services.invitation_url(token) in message.body
    assert "new login" in message.body and "新しいログイン" in message.body
    event = AuditEvent.objects.get(action="staff.invited")
    assert (event.actor, event.subject_id, event.data["role"]) == (owner, str(invitation.pk), "issuer")
    assert token not in str(event.data)
    # The task may run twice: the mail goes out once.
    from institutions.tasks import send_staff_invitation

    assert send_staff_invitation(invitation.pk, token) is False
    assert len(mail.outbox) == 1 and Notification.objects.filter(key__startswith="invitation:").count() == 1
    # Its row is written sent, without the link: the outbox's sweep never sends it again.
    row = Notification.objects.get(key__startswith="invitation:")
    assert row.state == Notification.State.SENT and token not in row.body
    from endorsement.outbox import notifications_send_pending

    notifications_send_pending(now=timezone.now() + timedelta(days=1))
    assert len(mail.outbox) == 1


def test_the_validity_is_a_setting(org, settings):
    settings.STAFF_INVITATION_DAYS = 2
    invitation, _token = invite(org[1], org[0])
    assert abs((invitation.expires_at - timezone.now() - timedelta(days=2)).total_seconds()) < 60


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ISSUER])
def test_editors_and_issuers_may_not_invite(role):
    organisation = OrganisationFactory()
    before = counts()
    with pytest.raises(NotPermitted):
        invite(staff(organisation, role), organisation)
    assert counts()[2:] == before[2:]


def test_an_owner_of_another_organisation_may_not_invite(org):
    other = OrganisationFactory()
    before = counts()
    with pytest.raises(NotPermitted):
        invite(org[1], other)
    assert counts() == before


@pytest.mark.parametrize("role", ["manager", "reviewer", "boss", ""])
def test_a_member_invites_only_member_roles(org, role):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        invite(org[1], org[0], role=role)
    assert "role" in refused.value.field_errors
    assert counts() == before


def test_a_pending_address_or_a_colleague_already_on_the_staff_is_refused(org):
    organisation, owner = org
    invite(owner, organisation, email="twice@example.org")
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        invite(owner, organisation, email="TWICE@example.org")
    assert "pending invitation" in refused.value.field_errors["email"][0]
    with pytest.raises(InvalidInput) as refused:
        invite(owner, organisation, email=owner.email)
    assert "already on the staff" in refused.value.field_errors["email"][0]
    assert counts() == before


def test_an_organisation_that_is_not_active_cannot_invite():
    organisation = OrganisationFactory(membership=MembershipState.SUSPENDED)
    owner = staff(organisation, Role.OWNER)
    before = counts()
    with pytest.raises(WrongState):
        invite(owner, organisation)
    assert counts() == before


def test_an_expired_pending_invitation_is_closed_when_the_address_is_invited_again(org):
    organisation, owner = org
    old, _token = invite(owner, organisation, email="late@example.org")
    StaffInvitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    new, _token2 = invite(owner, organisation, email="late@example.org")
    old.refresh_from_db()
    assert (old.state, new.state) == (InvitationState.EXPIRED, InvitationState.PENDING)
    assert AuditEvent.objects.filter(action="staff.invitation_expired", subject_id=str(old.pk)).count() == 1


# --- Accepting ------------------------------------------------------------------------------------
def test_accepting_creates_a_login_with_the_role_and_uses_the_invitation_up(org, client):
    organisation, owner = org
    invitation, token = invite(owner, organisation, role=Role.EDITOR)
    member = services.staff_invitation_accept(token=token, username="new-colleague", password=PASSWORD)
    assert (member.organisation, member.role, member.user.email) == (organisation, "editor", "colleague@example.org")
    assert member.user.is_active and not member.user.is_staff
    invitation.refresh_from_db()
    assert (invitation.state, invitation.accepted_user) == (InvitationState.ACCEPTED, member.user)
    event = AuditEvent.objects.get(action="staff.invitation_accepted")
    assert (event.actor, event.from_state, event.to_state) == (member.user, "pending", "accepted")
    assert client.login(request=login_request(), username="new-colleague", password=PASSWORD)
    # Single use.
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_invitation_accept(token=token, username="someone-else", password=PASSWORD)
    assert "already been used" in refused.value.message
    assert counts() == before


def test_an_expired_invitation_cannot_be_accepted(org):
    invitation, token = invite(org[1], org[0])
    StaffInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_invitation_accept(token=token, username="late-colleague", password=PASSWORD)
    assert "expired" in refused.value.message
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING


def test_a_revoked_invitation_cannot_be_accepted(org):
    organisation, owner = org
    invitation, token = invite(owner, organisation)
    services.staff_invitation_revoke(actor=owner, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.REVOKED
    assert AuditEvent.objects.filter(action="staff.invitation_revoked").count() == 1
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_invitation_accept(token=token, username="colleague", password=PASSWORD)
    assert "withdrawn" in refused.value.message
    with pytest.raises(WrongState):  # nor revoked twice
        services.staff_invitation_revoke(actor=owner, invitation=invitation)
    assert counts() == before


def test_only_owners_revoke(org):
    organisation, owner = org
    invitation, _token = invite(owner, organisation)
    before = counts()
    with pytest.raises(NotPermitted):
        services.staff_invitation_revoke(actor=staff(organisation, Role.EDITOR), invitation=invitation)
    assert counts()[2:] == before[2:]
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING


def test_an_unknown_token_is_not_found():
    before = counts()
    with pytest.raises(NotFound):
        services.staff_invitation_accept(token="not-a-token", username="x-person", password=PASSWORD)
    assert counts() == before


@pytest.mark.parametrize(("username", "password", "field"), [
    ("", PASSWORD, "username"), ("has space", PASSWORD, "username"), ("ok-name", "short", "password"),
    ("ok-name", "12345678901", "password"),
])
def test_bad_username_or_password_is_refused_and_the_invitation_stays_usable(org, username, password, field):
    invitation, token = invite(org[1], org[0])
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.staff_invitation_accept(token=token, username=username, password=password)
    assert field in refused.value.field_errors
    assert counts() == before
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING
    assert services.staff_invitation_accept(token=token, username="good-name", password=PASSWORD).role == "issuer"


def test_a_taken_username_is_refused(org):
    _invitation, token = invite(org[1], org[0])
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        services.staff_invitation_accept(token=token, username=org[1].username.upper(), password=PASSWORD)
    assert refused.value.field_errors == {"username": ["That username is taken."]}
    assert counts() == before


def test_an_invitation_is_refused_once_the_membership_is_suspended(org):
    organisation, owner = org
    _invitation, token = invite(owner, organisation)
    organisation.__dict__["membership"] = MembershipState.SUSPENDED
    organisation.save()
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_invitation_accept(token=token, username="colleague", password=PASSWORD)
    assert "not active" in refused.value.message
    assert counts() == before


# --- Roles and removal ----------------------------------------------------------------------------
def test_an_owner_changes_a_role_and_it_is_audited(org):
    organisation, owner = org
    editor = staff(organisation, Role.EDITOR)
    member = services.staff_change_role(actor=owner, organisation=organisation, member_id=editor.staff.pk,
                                        role=Role.ISSUER)
    assert member.role == "issuer"
    event = AuditEvent.objects.get(action="staff.role_changed")
    assert (event.from_state, event.to_state, event.actor) == ("editor", "issuer", owner)


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ISSUER])
def test_editors_and_issuers_may_not_change_roles_or_remove(org, role):
    organisation, owner = org
    actor = staff(organisation, role)
    before = counts()
    with pytest.raises(NotPermitted):
        services.staff_change_role(actor=actor, organisation=organisation, member_id=owner.staff.pk, role=Role.EDITOR)
    with pytest.raises(NotPermitted):
        services.staff_remove(actor=actor, organisation=organisation, member_id=owner.staff.pk)
    assert counts() == before
    assert StaffMember.objects.get(user=owner).role == "owner"


def test_another_organisations_member_is_not_found(org):
    other = staff(OrganisationFactory(), Role.EDITOR)
    before = counts()
    with pytest.raises(NotFound):
        services.staff_change_role(actor=org[1], organisation=org[0], member_id=other.staff.pk, role=Role.ISSUER)
    with pytest.raises(NotFound):
        services.staff_remove(actor=org[1], organisation=org[0], member_id=other.staff.pk)
    assert counts() == before


def test_the_last_owner_can_be_neither_demoted_nor_removed(org):
    organisation, owner = org
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_change_role(actor=owner, organisation=organisation, member_id=owner.staff.pk,
                                   role=Role.EDITOR)
    assert "at least one owner" in refused.value.message
    with pytest.raises(WrongState):
        services.staff_remove(actor=owner, organisation=organisation, member_id=owner.staff.pk)
    assert counts() == before
    assert StaffMember.objects.get(user=owner).role == "owner" and User.objects.get(pk=owner.pk).is_active


def test_with_a_second_owner_one_may_step_down_and_the_last_one_then_stays(org):
    organisation, owner = org
    second = staff(organisation, Role.OWNER)
    services.staff_change_role(actor=owner, organisation=organisation, member_id=owner.staff.pk, role=Role.EDITOR)
    with pytest.raises(WrongState):
        services.staff_change_role(actor=second, organisation=organisation, member_id=second.staff.pk,
                                   role=Role.ISSUER)
    assert StaffMember.objects.get(user=second).role == "owner"


def test_an_owner_whose_login_was_deactivated_does_not_count(org):
    organisation, owner = org
    other = staff(organisation, Role.OWNER)
    User.objects.filter(pk=other.pk).update(is_active=False)
    with pytest.raises(WrongState):
        services.staff_remove(actor=owner, organisation=organisation, member_id=owner.staff.pk)


def test_removing_takes_the_login_out_and_keeps_the_user(org, client):
    organisation, owner = org
    issuer = staff(organisation, Role.ISSUER)
    Token.objects.create(user=issuer)
    services.staff_remove(actor=owner, organisation=organisation, member_id=issuer.staff.pk)
    issuer.refresh_from_db()
    assert not issuer.is_active and not StaffMember.objects.filter(user=issuer).exists()
    assert not Token.objects.filter(user=issuer).exists()
    assert not client.login(request=login_request(), username=issuer.username, password="correct horse battery staple")
    event = AuditEvent.objects.get(action="staff.removed")
    assert (event.from_state, event.data["username"]) == ("issuer", issuer.username)
    assert audit_verify().ok


# --- The body -------------------------------------------------------------------------------------
def test_managers_invite_reviewers_to_the_body_who_get_an_admin_login():
    boss = manager()
    _invitation, token = services.staff_invite(actor=boss, organisation=body(), email="judge@example.org",
                                               role=Role.REVIEWER)
    member = services.staff_invitation_accept(token=token, username="new-judge", password=PASSWORD)
    assert (member.role, member.user.is_staff) == ("reviewer", True)


def test_reviewers_may_not_manage_the_body_and_members_roles_do_not_fit_it():
    boss, judge = manager(), reviewer()
    before = counts()
    with pytest.raises(NotPermitted):
        services.staff_invite(actor=judge, organisation=body(), email="x@example.org", role=Role.REVIEWER)
    with pytest.raises(NotPermitted):
        services.staff_change_role(actor=judge, organisation=body(), member_id=judge.staff.pk, role=Role.MANAGER)
    with pytest.raises(InvalidInput):
        services.staff_invite(actor=boss, organisation=body(), email="x@example.org", role=Role.OWNER)
    assert counts() == before


def test_the_last_manager_of_the_body_stays():
    boss = manager()
    judge = reviewer()
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.staff_change_role(actor=boss, organisation=body(), member_id=boss.staff.pk, role=Role.REVIEWER)
    assert "at least one manager" in refused.value.message
    with pytest.raises(WrongState):
        services.staff_remove(actor=boss, organisation=body(), member_id=boss.staff.pk)
    assert counts() == before
    services.staff_change_role(actor=boss, organisation=body(), member_id=judge.staff.pk, role=Role.MANAGER)
    services.staff_change_role(actor=boss, organisation=body(), member_id=boss.staff.pk, role=Role.REVIEWER)
    assert StaffMember.objects.get(user=boss).role == "reviewer"
