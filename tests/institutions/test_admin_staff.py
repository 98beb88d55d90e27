"""The body's reviewers and managers in the admin: managers invite (the person sets their own
password through the link), change roles and remove; the last manager stays; reviewers only read."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from endorsement.models import AuditEvent
from institutions.models import InvitationState, Role, StaffInvitation, StaffMember
from tests.factories import OrganisationFactory, manager, reviewer, staff

pytestmark = pytest.mark.django_db
User = get_user_model()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def press(client, member, button):
    return client.post(reverse("admin:institutions_staffmember_button", args=[member.pk, button]))


def buttons(client, member):
    page = client.get(reverse("admin:institutions_staffmember_change", args=[member.pk]))
    return [b["name"] for b in page.context["object_buttons"]]


def test_the_list_shows_the_body_staff_only(client):
    boss, judge = manager(), reviewer()
    staff(OrganisationFactory(), Role.OWNER)
    client.force_login(judge)
    page = client.get(reverse("admin:institutions_staffmember_changelist"))
    assert {m.user for m in page.context["cl"].result_list} == {boss, judge}
    assert buttons(client, judge.staff) == []  # reviewers only read


def test_a_manager_promotes_a_reviewer_and_the_last_manager_cannot_step_down(client):
    boss, judge = manager(), reviewer()
    client.force_login(boss)
    assert buttons(client, judge.staff) == ["make-manager", "remove"]
    before = AuditEvent.objects.count()
    refused = press(client, boss.staff, "make-reviewer")
    assert any("at least one manager" in m for m in messages_of(refused))
    assert AuditEvent.objects.count() == before and StaffMember.objects.get(user=boss).role == "manager"
    press(client, judge.staff, "make-manager")
    assert StaffMember.objects.get(user=judge).role == "manager"
    press(client, boss.staff, "make-reviewer")
    assert StaffMember.objects.get(user=boss).role == "reviewer"


def test_a_reviewer_pressing_a_button_is_refused_and_nothing_changes(client):
    boss, judge = manager(), reviewer()
    client.force_login(judge)
    before = AuditEvent.objects.count()
    response = press(client, boss.staff, "remove")
    assert any("Only the body" in m for m in messages_of(response))
    assert AuditEvent.objects.count() == before and User.objects.get(pk=boss.pk).is_active


def test_a_manager_removes_a_reviewer(client):
    boss, judge = manager(), reviewer()
    client.force_login(boss)
    response = press(client, judge.staff, "remove")
    assert response.status_code == 302 and response["Location"].endswith("/admin/institutions/staffmember/")
    assert not StaffMember.objects.filter(user=judge).exists() and not User.objects.get(pk=judge.pk).is_active


def test_a_manager_invites_a_reviewer_and_withdraws_an_invitation(client, django_capture_on_commit_callbacks):
    client.force_login(manager())
    url = reverse("admin:institutions_staffinvitation_add")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "judge@example.org", "role": "reviewer"})
    assert response.status_code == 302
    invitation = StaffInvitation.objects.get()
    assert (invitation.role, invitation.organisation.is_certification_body) == ("reviewer", True)
    assert mail.outbox[-1].to == ["judge@example.org"]
    before = StaffInvitation.objects.count()
    again = client.post(url, {"email": "judge@example.org", "role": "reviewer"})
    assert again.status_code == 200 and any("pending invitation" in m for m in messages_of(again))
    assert StaffInvitation.objects.count() == before
    client.post(reverse("admin:institutions_staffinvitation_button", args=[invitation.pk, "revoke"]))
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.REVOKED


def test_a_reviewer_cannot_invite(client):
    client.force_login(reviewer())
    assert client.get(reverse("admin:institutions_staffinvitation_add")).status_code == 403
    assert client.post(reverse("admin:institutions_staffinvitation_add"),
                       {"email": "x@example.org", "role": "manager"}).status_code == 403
    assert not StaffInvitation.objects.exists()


def test_admin_messages_name_the_field_as_the_page_does(client):
    from institutions.models import MembershipState, Organisation

    waiting = OrganisationFactory(membership=MembershipState.APPLIED)
    client.force_login(manager())
    before = AuditEvent.objects.count()
    response = client.post(reverse("admin:institutions_organisation_button", args=[waiting.pk, "reject"]),
                           {"text": "  "})
    shown = messages_of(response)
    assert any("Reason: This field is required." in m for m in shown), shown
    assert not any("comment" in m for m in shown)
    assert AuditEvent.objects.count() == before
    assert Organisation.objects.get(pk=waiting.pk).membership == MembershipState.APPLIED
