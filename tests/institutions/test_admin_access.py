"""Who reaches the admin: the body's reviewers and managers (from their role, no group setup) and
superusers; not member organisations' staff, not anonymous visitors."""

import pytest
from django.urls import reverse

from endorsement.models import ApplicationState
from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, UserFactory, application_in, manager, reviewer, staff

pytestmark = pytest.mark.django_db
BODY_PAGES = [
    "admin:institutions_organisation_changelist", "admin:institutions_conflictofinterest_changelist",
    "admin:badges_programme_changelist", "admin:endorsement_criteriatable_changelist",
    "admin:endorsement_application_changelist", "admin:endorsement_endorsement_changelist",
    "admin:endorsement_auditevent_changelist",
]


def sent_to_admin_login(response, asked: str) -> bool:
    """A redirect to the admin's login page that brings the visitor back to the page asked for."""
    return response.status_code == 302 and response.url == f"{reverse('admin:login')}?next={asked}"


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url == "/admin/login/?next=/admin/"


@pytest.mark.parametrize("role", [Role.EDITOR, Role.OWNER, Role.ISSUER])
def test_member_staff_cannot_reach_the_admin(client, role):
    user = staff(OrganisationFactory(), role)
    client.force_login(user)

    for name in ["admin:index", *BODY_PAGES]:
        assert sent_to_admin_login(client.get(reverse(name)), reverse(name)), name


def test_an_editor_cannot_open_an_application_page(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.editor)
    page = reverse("admin:endorsement_application_change", args=[app.pk])
    assert sent_to_admin_login(client.get(page), page)


def test_a_staff_flag_alone_gives_no_access_to_the_bodys_data(client):
    # A member's user marked is_staff by mistake still is not body staff.
    stray = staff(OrganisationFactory(), Role.OWNER)
    stray.is_staff = True
    stray.save()
    client.force_login(stray)

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200 and index.context["app_list"] == []
    for name in BODY_PAGES:
        assert client.get(reverse(name)).status_code == 403, name


@pytest.mark.parametrize("make", [reviewer, manager], ids=["reviewer", "manager"])
def test_body_staff_reach_every_body_page_without_any_group(client, make):
    user = make()
    assert not user.groups.exists() and not user.user_permissions.exists()
    client.force_login(user)

    index = client.get(reverse("admin:index"))

    models = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert {"Application", "CriteriaTable", "Endorsement", "AuditEvent", "Organisation", "Programme",
            "ConflictOfInterest"} <= models
    assert "User" not in models
    for name in BODY_PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_a_superuser_sees_everything_and_may_decide(client):
    cast = Cast()
    app, _ = application_in(ApplicationState.SUBMITTED, cast)
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)

    for name in BODY_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    page = client.get(reverse("admin:endorsement_application_change", args=[app.pk]))
    assert page.context["assign"] is not None


def test_an_inactive_reviewer_is_refused(client):
    user = reviewer()
    user.is_active = False
    user.save()
    client.force_login(user)
    changelist = reverse("admin:endorsement_application_changelist")
    response = client.get(changelist)
    # Sent to the admin's login page, which brings them back to the page they asked for.
    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={changelist}"
