"""Organisations in the body's admin: list, membership decisions as buttons (services, audited),
staff and declared conflicts on the page, the membership itself never editable."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement.models import AuditEvent
from institutions import services
from institutions.models import ConflictOfInterest, MembershipState, Organisation, Role
from tests.factories import OrganisationFactory, manager, reviewer, staff

pytestmark = pytest.mark.django_db
M = MembershipState


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(org):
    return reverse("admin:institutions_organisation_change", args=[org.pk])


def press(client, org, button, text=""):
    return client.post(reverse("admin:institutions_organisation_button", args=[org.pk, button]), {"text": text})


def buttons(client, org):
    return [b["name"] for b in client.get(change_url(org)).context["object_buttons"]]


def applicant():
    return services.organisation_apply(
        data={"name": "Kobe Data Academy", "kind": "training_provider", "contact_name": "Ichiro Tanaka",
              "contact_email": "office@kobe-data.example"},
        owner={"username": "kobe-owner", "password": "a long enough password", "email": "owner@kobe-data.example"},
    )


def test_the_list_shows_kind_and_membership_and_filters_and_searches(client):
    waiting = OrganisationFactory(name="Sapporo Institute", membership=M.APPLIED, kind="college")
    OrganisationFactory(name="Osaka Works", kind="company")
    client.force_login(reviewer())
    url = reverse("admin:institutions_organisation_changelist")

    assert list(client.get(url, {"membership__exact": "applied"}).context["cl"].result_list) == [waiting]
    assert list(client.get(url, {"q": "sapporo"}).context["cl"].result_list) == [waiting]
    assert [o.name for o in client.get(url, {"kind__exact": "company"}).context["cl"].result_list] == ["Osaka Works"]
    html = client.get(url).content.decode()
    assert '<td class="field-membership">Applied</td>' in html and '<td class="field-kind">College</td>' in html


def test_a_manager_approves_an_applicant_and_its_owner_can_then_log_in(client):
    org = applicant()
    client.force_login(manager())
    assert buttons(client, org) == ["approve", "reject", "withdraw"]

    response = press(client, org, "approve", "Welcome.")

    assert "Membership approved." in messages_of(response)
    org.refresh_from_db()
    assert org.membership == M.ACTIVE
    assert get_user_model().objects.get(username="kobe-owner").is_active
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.from_state, event.to_state, event.comment) == \
        ("organisation.approved", "applied", "active", "Welcome.")


@pytest.mark.parametrize(("start", "button", "text", "target"), [
    (M.APPLIED, "reject", "Not an education provider.", M.REJECTED),
    (M.ACTIVE, "suspend", "Unpaid fees.", M.SUSPENDED),
    (M.SUSPENDED, "reinstate", "", M.ACTIVE),
    (M.ACTIVE, "withdraw", "At their request.", M.WITHDRAWN),
])
def test_a_manager_takes_each_membership_decision(client, start, button, text, target):
    org = OrganisationFactory(membership=start)
    client.force_login(manager())
    assert button in buttons(client, org)

    press(client, org, button, text)

    org.refresh_from_db()
    assert org.membership == target
    assert AuditEvent.objects.filter(subject_type="organisation", subject_id=str(org.pk), to_state=target).exists()


@pytest.mark.parametrize("button", ["reject", "suspend"])
def test_rejecting_or_suspending_without_a_reason_is_refused(client, button):
    org = OrganisationFactory(membership=M.APPLIED if button == "reject" else M.ACTIVE)
    before = org.membership
    client.force_login(manager())

    response = press(client, org, button, "  ")

    assert any("Give the reason." in m for m in messages_of(response))
    org.refresh_from_db()
    assert org.membership == before
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("start", "button"), [(M.APPLIED, "approve"), (M.ACTIVE, "suspend"),
                                               (M.SUSPENDED, "reinstate")])
def test_a_reviewer_sees_no_membership_button_and_a_posted_one_changes_nothing(client, start, button):
    org = OrganisationFactory(membership=start)
    client.force_login(reviewer())
    assert buttons(client, org) == []

    response = press(client, org, button, "Because.")

    assert any("may not" in m for m in messages_of(response))
    org.refresh_from_db()
    assert org.membership == start
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("start", "button"), [(M.ACTIVE, "approve"), (M.APPLIED, "suspend"),
                                               (M.ACTIVE, "reinstate"), (M.WITHDRAWN, "withdraw")])
def test_a_membership_decision_in_the_wrong_state_is_refused(client, start, button):
    org = OrganisationFactory(membership=start)
    client.force_login(manager())
    assert button not in buttons(client, org)

    response = press(client, org, button, "Reason given.")

    assert any("Cannot" in m for m in messages_of(response))
    org.refresh_from_db()
    assert org.membership == start
    assert not AuditEvent.objects.exists()


def test_a_manager_corrects_details_but_the_membership_and_slug_stay_as_they_are(client):
    org = OrganisationFactory(membership=M.APPLIED, slug="sapporo")
    client.force_login(manager())
    data = {"name": "Sapporo Institute of Technology", "name_ja": org.name_ja, "kind": "university",
            "description": "", "website": "", "country": "JP", "contact_name": "Jiro Abe",
            "contact_email": "jiro@example.org", "contact_phone": "", "membership": "active", "slug": "stolen",
            "staff-TOTAL_FORMS": "0", "staff-INITIAL_FORMS": "0", "conflicts-TOTAL_FORMS": "0",
            "conflicts-INITIAL_FORMS": "0", "_save": "Save"}

    response = client.post(change_url(org), data)

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Sapporo Institute of Technology" and org.contact_name == "Jiro Abe"
    assert org.membership == M.APPLIED and org.slug == "sapporo"


def test_a_reviewer_cannot_edit_an_organisation(client):
    org = OrganisationFactory(name="Before")
    client.force_login(reviewer())

    response = client.post(change_url(org), {"name": "After", "kind": "university", "contact_name": "x",
                                              "contact_email": "x@example.org", "country": "JP"})

    assert response.status_code == 403
    assert Organisation.objects.get(pk=org.pk).name == "Before"


def test_the_page_lists_the_staff_and_the_declared_conflicts(client):
    org = OrganisationFactory()
    editor = staff(org, Role.EDITOR, username="hanako-editor")
    someone = reviewer(username="conflicted-reviewer")
    ConflictOfInterest.objects.create(reviewer=someone, organisation=org, reason="Taught there until 2024.")
    client.force_login(manager())

    response = client.get(change_url(org))

    formsets = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert [f.instance.user for f in formsets["staff"].formset.forms] == [editor]
    assert [f.instance.reviewer for f in formsets["conflicts"].formset.forms] == [someone]
    html = response.content.decode()
    assert "hanako-editor" in html and "Taught there until 2024." in html
    assert not formsets["staff"].has_add_permission and not formsets["conflicts"].has_add_permission


def test_organisations_are_neither_added_nor_deleted_in_the_admin(client):
    org = OrganisationFactory()
    client.force_login(manager())
    assert client.get(reverse("admin:institutions_organisation_add")).status_code == 403
    assert client.post(reverse("admin:institutions_organisation_delete", args=[org.pk]),
                       {"post": "yes"}).status_code == 403
    assert Organisation.objects.filter(pk=org.pk).exists()
