"""The staff API (staff, invitations, accepting) and the managers' membership decisions through the
API, with the e-mail the applicant gets, and the token login that says a membership is waiting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from endorsement.models import AuditEvent
from institutions import services
from institutions import staff as staff_services
from institutions.models import InvitationState, MembershipState, Role, StaffInvitation, StaffMember
from tests.factories import OrganisationFactory, api_client, manager, reviewer, staff

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long pass phrase"


def written() -> tuple[int, int, int, int]:
    return (User.objects.count(), StaffMember.objects.count(), StaffInvitation.objects.count(),
            AuditEvent.objects.count())


@pytest.fixture
def org():
    organisation = OrganisationFactory()
    return organisation, staff(organisation, Role.OWNER)


def _token_from_mail() -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_-]+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_an_owner_invites_an_issuer_who_accepts_and_gets_a_token(org, django_capture_on_commit_callbacks):
    organisation, owner = org
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(owner).post("/api/v1/staff-invitations",
                                          {"email": "issuer@example.org", "role": "issuer"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["role"], body["state"], body["invited_by"]) == (
        "issuer@example.org", "issuer", "pending", owner.username)
    assert "token" not in body
    token = _token_from_mail()

    response = api_client().post(f"/api/v1/staff-invitations/{token}/accept",
                                 {"username": "new-issuer", "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"username": "new-issuer", "organisation": organisation.slug, "role": "issuer"}
    login = api_client().post("/api/v1/auth/token", {"username": "new-issuer", "password": PASSWORD}, format="json")
    assert login.status_code == 200

    listed = api_client(owner).get("/api/v1/staff-invitations").json()
    assert [i["state"] for i in listed] == ["accepted"]
    staff_list = api_client(owner).get("/api/v1/staff").json()
    assert {(m["username"], m["role"], m["is_you"]) for m in staff_list} == {
        (owner.username, "owner", True), ("new-issuer", "issuer", False)}

    before = written()
    again = api_client().post(f"/api/v1/staff-invitations/{token}/accept",
                              {"username": "second-use", "password": PASSWORD}, format="json")
    assert again.status_code == 409 and "already been used" in again.json()["detail"]
    assert written() == before


def test_an_expired_link_answers_409_and_writes_nothing(org):
    invitation, token = staff_services.staff_invite(actor=org[1], organisation=org[0], email="a@example.org",
                                              role=Role.EDITOR)
    StaffInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    before = written()
    response = api_client().post(f"/api/v1/staff-invitations/{token}/accept",
                                 {"username": "late", "password": PASSWORD}, format="json")
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    assert written() == before
    listed = api_client(org[1]).get("/api/v1/staff-invitations").json()
    assert listed[0]["state"] == "expired"


def test_accepting_with_bad_input_answers_400_with_field_messages(org):
    _invitation, token = staff_services.staff_invite(actor=org[1], organisation=org[0], email="a@example.org",
                                               role=Role.EDITOR)
    before = written()
    response = api_client().post(f"/api/v1/staff-invitations/{token}/accept", {"username": "ok"}, format="json")
    assert response.status_code == 400 and "password" in response.json()["errors"]
    response = api_client().post(f"/api/v1/staff-invitations/{token}/accept",
                                 {"username": "ok-name", "password": "123"}, format="json")
    assert response.status_code == 400 and "password" in response.json()["errors"]
    response = api_client().post("/api/v1/staff-invitations/unknown-token/accept",
                                 {"username": "ok-name", "password": PASSWORD}, format="json")
    assert response.status_code == 404
    assert written() == before


def test_revoking_an_invitation(org):
    invitation, token = staff_services.staff_invite(actor=org[1], organisation=org[0], email="a@example.org",
                                              role=Role.EDITOR)
    editor = staff(org[0], Role.EDITOR)
    before = written()
    assert api_client(editor).post(f"/api/v1/staff-invitations/{invitation.public_id}/revoke").status_code == 403
    other_owner = staff(OrganisationFactory(), Role.OWNER)
    assert api_client(other_owner).post(f"/api/v1/staff-invitations/{invitation.public_id}/revoke").status_code == 404
    assert written()[2:] == before[2:]
    response = api_client(org[1]).post(f"/api/v1/staff-invitations/{invitation.public_id}/revoke")
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    again = api_client(org[1]).post(f"/api/v1/staff-invitations/{invitation.public_id}/revoke")
    assert again.status_code == 409
    accept = api_client().post(f"/api/v1/staff-invitations/{token}/accept",
                               {"username": "late", "password": PASSWORD}, format="json")
    assert accept.status_code == 409


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ISSUER])
def test_editors_and_issuers_read_the_staff_but_change_nothing(org, role):
    organisation, owner = org
    actor = staff(organisation, role)
    client = api_client(actor)
    assert client.get("/api/v1/staff").status_code == 200
    before = written()
    assert client.get("/api/v1/staff-invitations").status_code == 403
    assert client.post("/api/v1/staff-invitations", {"email": "x@example.org", "role": "editor"},
                       format="json").status_code == 403
    assert client.patch(f"/api/v1/staff/{owner.staff.pk}", {"role": "editor"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/staff/{owner.staff.pk}").status_code == 403
    assert client.post("/api/v1/staff", {"username": "x1", "email": "x1@example.org", "password": PASSWORD,
                                         "role": "editor"}, format="json").status_code == 403
    assert written() == before


def test_owners_change_roles_and_remove_but_not_the_last_owner(org):
    organisation, owner = org
    editor = staff(organisation, Role.EDITOR)
    client = api_client(owner)
    response = client.patch(f"/api/v1/staff/{editor.staff.pk}", {"role": "issuer"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "issuer"
    assert client.patch(f"/api/v1/staff/{editor.staff.pk}", {"role": "boss"}, format="json").status_code == 400
    other = staff(OrganisationFactory(), Role.EDITOR)
    before = written()
    demote = client.patch(f"/api/v1/staff/{owner.staff.pk}", {"role": "editor"}, format="json")
    assert demote.status_code == 409 and "at least one owner" in demote.json()["detail"]
    remove = client.delete(f"/api/v1/staff/{owner.staff.pk}")
    assert remove.status_code == 409
    assert client.delete(f"/api/v1/staff/{other.staff.pk}").status_code == 404
    assert written() == before
    assert StaffMember.objects.get(user=owner).role == "owner"
    assert client.delete(f"/api/v1/staff/{editor.staff.pk}").status_code == 204
    assert not User.objects.get(pk=editor.pk).is_active


def test_an_owner_adds_a_login_directly(org):
    response = api_client(org[1]).post("/api/v1/staff", {"username": "direct", "email": "d@example.org",
                                                         "password": PASSWORD, "role": "editor"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "editor"
    assert AuditEvent.objects.filter(action="staff.added").count() == 1


def test_a_login_without_organisation_has_no_staff():
    loner = User.objects.create_user("loner", password=PASSWORD)
    assert api_client(loner).get("/api/v1/staff").status_code == 403


# --- Membership decisions -------------------------------------------------------------------------
def _applied():
    return services.organisation_apply(
        data={"name": "Hokkaido College", "kind": "college", "contact_name": "Ken Sato",
              "contact_email": "office@hokkaido.example.jp"},
        owner={"username": "hokkaido-owner", "email": "owner@hokkaido.example.jp", "password": PASSWORD},
    )


def test_a_waiting_login_is_told_so_and_a_manager_approves_through_the_api(django_capture_on_commit_callbacks):
    organisation = _applied()
    waiting = api_client().post("/api/v1/auth/token", {"username": "hokkaido-owner", "password": PASSWORD},
                                format="json")
    assert waiting.status_code == 400
    assert "still waiting" in waiting.json()["errors"]["non_field_errors"][0]
    wrong = api_client().post("/api/v1/auth/token", {"username": "hokkaido-owner", "password": "wrong one"},
                              format="json")
    assert "still waiting" not in str(wrong.json())

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(manager()).post(f"/api/v1/organisations/{organisation.slug}/approve",
                                              {"comment": "Welcome."}, format="json")
    assert response.status_code == 200 and response.json()["membership"] == "active"
    assert any("owner@hokkaido.example.jp" in m.to or "office@hokkaido.example.jp" in m.to for m in mail.outbox)
    assert any("Welcome." in m.body for m in mail.outbox)
    ok = api_client().post("/api/v1/auth/token", {"username": "hokkaido-owner", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_reject_and_suspend_need_a_reason_and_only_managers_decide():
    organisation = _applied()
    before = AuditEvent.objects.count()
    assert api_client(reviewer()).post(f"/api/v1/organisations/{organisation.slug}/approve").status_code == 404
    owner = StaffMember.objects.get(organisation=organisation).user
    owner.is_active = True
    owner.save()
    assert api_client(owner).post(f"/api/v1/organisations/{organisation.slug}/approve").status_code == 403
    boss = api_client(manager())
    refused = boss.post(f"/api/v1/organisations/{organisation.slug}/reject", {"comment": " "}, format="json")
    assert refused.status_code == 400 and "comment" in refused.json()["errors"]
    assert boss.post(f"/api/v1/organisations/{organisation.slug}/suspend", {"comment": "x"},
                     format="json").status_code == 409
    assert boss.post("/api/v1/organisations/nobody/approve").status_code == 404
    organisation.refresh_from_db()
    assert organisation.membership == MembershipState.APPLIED
    assert AuditEvent.objects.count() == before
    rejected = boss.post(f"/api/v1/organisations/{organisation.slug}/reject", {"comment": "Not a provider."},
                         format="json")
    assert rejected.status_code == 200 and rejected.json()["membership"] == "rejected"


def test_a_manager_suspends_and_reinstates_an_active_member(org):
    boss = api_client(manager())
    suspended = boss.post(f"/api/v1/organisations/{org[0].slug}/suspend", {"comment": "Complaint."}, format="json")
    assert suspended.status_code == 200 and suspended.json()["membership"] == "suspended"
    assert boss.post(f"/api/v1/organisations/{org[0].slug}/reinstate").json()["membership"] == "active"
    assert [e.action for e in AuditEvent.objects.filter(subject_type="organisation").order_by("seq")][-2:] == [
        "organisation.suspended", "organisation.reinstated"]


def test_the_body_invitation_state_is_listed_for_managers():
    boss = manager()
    response = api_client(boss).post("/api/v1/staff-invitations", {"email": "judge@example.org", "role": "reviewer"},
                                     format="json")
    assert response.status_code == 201
    assert StaffInvitation.objects.get().state == InvitationState.PENDING
    assert api_client(reviewer()).get("/api/v1/staff-invitations").status_code == 403
