"""Portal pages of the staff (owners manage, others read) and the invitation's acceptance page; the
login page says when a membership is still waiting. Every refusal shows why and writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from endorsement.models import AuditEvent
from institutions import services
from institutions import staff as staff_services
from institutions.models import InvitationState, Role, StaffInvitation, StaffMember
from tests.factories import PASSWORD, OrganisationFactory, manager, staff

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a long pass phrase"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def written() -> tuple[int, int, int, int]:
    return (User.objects.count(), StaffMember.objects.count(), StaffInvitation.objects.count(),
            AuditEvent.objects.count())


@pytest.fixture
def org():
    organisation = OrganisationFactory()
    return organisation, staff(organisation, Role.OWNER)


def test_an_owner_sees_the_staff_and_invites_from_the_page(client, org, django_capture_on_commit_callbacks):
    _organisation, owner = org
    client.force_login(owner)
    page = client.get(reverse("portal:staff"))
    html = page.content.decode()
    assert page.status_code == 200 and owner.username in html and "Send the invitation" in html
    assert "creates a new login" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:staff_invite"), {"email": "new@example.org", "role": "issuer"})
    assert response.status_code == 302
    assert StaffInvitation.objects.get().email == "new@example.org"
    assert len(mail.outbox) == 1
    assert "new@example.org" in client.get(reverse("portal:staff")).content.decode()


def test_a_bad_invitation_shows_the_error_and_writes_nothing(client, org):
    client.force_login(org[1])
    before = written()
    response = client.post(reverse("portal:staff_invite"), {"email": "not an address", "role": "issuer"})
    assert response.status_code == 400 and "valid email" in response.content.decode()
    response = client.post(reverse("portal:staff_invite"), {"email": org[1].email, "role": "issuer"})
    assert response.status_code == 400 and "already on the staff" in response.content.decode()
    response = client.post(reverse("portal:staff_invite"), {"email": "x@example.org", "role": "manager"})
    assert response.status_code == 400
    assert written() == before


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ISSUER])
def test_editors_and_issuers_see_the_staff_without_forms_and_cannot_post(client, org, role):
    organisation, owner = org
    member = staff(organisation, role)
    client.force_login(member)
    html = client.get(reverse("portal:staff")).content.decode()
    assert owner.username in html and "Send the invitation" not in html and "Change role" not in html
    before = written()
    client.post(reverse("portal:staff_invite"), {"email": "x@example.org", "role": "issuer"})
    response = client.post(reverse("portal:staff_role", args=[owner.staff.pk]),
                           {f"m{owner.staff.pk}-role": "editor"}, follow=True)
    assert "Only the organisation&#x27;s owners manage its staff." in response.content.decode()
    client.post(reverse("portal:staff_remove", args=[owner.staff.pk]))
    assert written() == before
    assert StaffMember.objects.get(user=owner).role == "owner"


def test_the_body_staff_has_no_portal_staff_page(client):
    client.force_login(manager())
    assert client.get(reverse("portal:staff")).status_code == 404


def test_an_owner_changes_a_role_and_removes_but_the_last_owner_stays(client, org):
    organisation, owner = org
    editor = staff(organisation, Role.EDITOR)
    client.force_login(owner)
    client.post(reverse("portal:staff_role", args=[editor.staff.pk]), {f"m{editor.staff.pk}-role": "issuer"})
    assert StaffMember.objects.get(user=editor).role == "issuer"
    before = written()
    response = client.post(reverse("portal:staff_role", args=[owner.staff.pk]),
                           {f"m{owner.staff.pk}-role": "editor"}, follow=True)
    assert "at least one owner" in response.content.decode()
    response = client.post(reverse("portal:staff_remove", args=[owner.staff.pk]), follow=True)
    assert "at least one owner" in response.content.decode()
    assert written() == before
    client.post(reverse("portal:staff_remove", args=[editor.staff.pk]))
    assert not StaffMember.objects.filter(user=editor).exists()


def test_an_owner_withdraws_a_pending_invitation(client, org):
    invitation, _token = staff_services.staff_invite(actor=org[1], organisation=org[0], email="a@example.org",
                                                     role=Role.EDITOR)
    client.force_login(org[1])
    client.post(reverse("portal:invitation_revoke", args=[invitation.public_id]))
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.REVOKED


# --- Accepting ------------------------------------------------------------------------------------
def _invitation(org, role=Role.ISSUER):
    return staff_services.staff_invite(actor=org[1], organisation=org[0], email="colleague@example.org", role=role)


def test_the_link_opens_a_page_that_creates_the_login(client, org):
    _invitation_row, token = _invitation(org)
    page = client.get(reverse("invitation_accept", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200 and "creates a new login" in html and "Issuer" in html
    response = client.post(reverse("invitation_accept", args=[token]),
                           {"username": "colleague", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert StaffMember.objects.get(user__username="colleague").role == "issuer"
    login = client.post(reverse("login"), {"username": "colleague", "password": NEW_PASSWORD})
    assert login.status_code == 302 and client.session[SESSION_KEY]
    used = client.get(reverse("invitation_accept", args=[token]))
    assert used.status_code == 409 and "already been used" in used.content.decode()


def test_bad_input_on_the_acceptance_page_writes_nothing(client, org):
    invitation, token = _invitation(org)
    before = written()
    response = client.post(reverse("invitation_accept", args=[token]),
                           {"username": "colleague", "password1": NEW_PASSWORD, "password2": "different"})
    assert response.status_code == 400 and "The two passwords differ." in response.content.decode()
    response = client.post(reverse("invitation_accept", args=[token]),
                           {"username": org[1].username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400 and "That username is taken." in response.content.decode()
    response = client.post(reverse("invitation_accept", args=[token]),
                           {"username": "colleague", "password1": "1234", "password2": "1234"})
    assert response.status_code == 400 and "too short" in response.content.decode()
    assert written() == before
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING


def test_an_expired_or_unknown_link_says_so(client, org):
    invitation, token = _invitation(org)
    StaffInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    before = written()
    response = client.post(reverse("invitation_accept", args=[token]),
                           {"username": "colleague", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 409 and "expired" in response.content.decode()
    assert written() == before
    unknown = client.get(reverse("invitation_accept", args=["nothing-here"]))
    assert unknown.status_code == 404 and "not valid" in unknown.content.decode()


def test_the_acceptance_page_is_in_japanese(client, org):
    _row, token = _invitation(org)
    client.cookies["django_language"] = "ja"
    html = client.get(reverse("invitation_accept", args=[token])).content.decode()
    assert "新しいログイン" in html


# --- Login while the membership waits -------------------------------------------------------------
def test_the_login_page_says_when_the_membership_is_still_waiting(client):
    services.organisation_apply(
        data={"name": "Kyushu College", "kind": "college", "contact_name": "Ken Sato",
              "contact_email": "office@kyushu.example.jp"},
        owner={"username": "kyushu-owner", "email": "owner@kyushu.example.jp", "password": NEW_PASSWORD},
    )
    response = client.post(reverse("login"), {"username": "kyushu-owner", "password": NEW_PASSWORD})
    assert response.status_code == 200
    html = response.content.decode()
    assert "still waiting for the body" in html
    assert SESSION_KEY not in client.session
    wrong = client.post(reverse("login"), {"username": "kyushu-owner", "password": PASSWORD})
    assert "still waiting" not in wrong.content.decode()
    assert re.search("correct username and password", wrong.content.decode())


def test_the_staff_page_is_in_japanese(client, org):
    client.force_login(org[1])
    client.cookies["django_language"] = "ja"
    html = client.get(reverse("portal:staff")).content.decode()
    assert "同僚を招待" in html and "招待を送る" in html and "所有者" in html
