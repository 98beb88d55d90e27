import pytest
from django.urls import reverse

from endorsement.models import ApplicationState
from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, UserFactory, application_in, staff

pytestmark = pytest.mark.django_db


def test_the_portal_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('portal:dashboard')}"


def test_the_dashboard_shows_standing_programmes_actions_and_endorsements_of_the_users_organisation(client):
    cast = Cast()
    endorsed, _ = application_in(ApplicationState.PUBLISHED, cast)
    changes, _ = application_in(ApplicationState.CHANGES_REQUESTED, cast)
    idle = ProgrammeFactory(organisation=cast.organisation, name_en="Programme without application")
    client.force_login(cast.editor)
    response = client.get(reverse("portal:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert cast.organisation.name in html
    assert "Active" in html  # membership standing
    for programme in (endorsed.programme, changes.programme, idle):
        assert reverse("portal:programme", args=[programme.public_id]) in html
    assert "Changes requested" in html and "Please state the assessment weights." in html
    assert reverse("portal:application", args=[changes.pk]) in html
    endorsement = endorsed.endorsement
    assert endorsement.valid_until.strftime("%Y") in html
    assert "none yet" in html  # the programme that never applied
    assert reverse("portal:programme_new") in html  # an editor may describe a new programme


def test_the_dashboard_never_shows_another_organisations_programmes(client):
    mine, theirs = Cast(), Cast()
    other, _ = application_in(ApplicationState.CHANGES_REQUESTED, theirs)
    client.force_login(mine.editor)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert str(other.programme.public_id) not in html
    assert theirs.organisation.name not in html


def test_an_issuer_sees_the_dashboard_without_the_new_programme_button(client):
    issuer = staff(OrganisationFactory(), Role.ISSUER)
    client.force_login(issuer)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert reverse("portal:programme_new") not in response.content.decode()


def test_a_suspended_member_sees_its_standing_and_that_it_cannot_submit(client):
    user = staff(OrganisationFactory(membership="suspended"), Role.OWNER)
    client.force_login(user)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Suspended" in html
    assert "Only an active member can submit applications" in html


def test_a_login_without_an_organisation_is_told_so(client):
    client.force_login(UserFactory())
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "not attached to a member organisation" in html
    assert reverse("admin:index") not in html


def test_the_dashboard_costs_the_same_queries_for_one_programme_or_many(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cast = Cast()
    application_in(ApplicationState.PUBLISHED, cast)
    client.force_login(cast.editor)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:dashboard"))
    for _ in range(3):
        application_in(ApplicationState.CHANGES_REQUESTED, cast)
        application_in(ApplicationState.PUBLISHED, cast)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("portal:dashboard"))
    assert len(many.captured_queries) == len(one.captured_queries)


def test_an_issuer_awards_a_badge_in_one_click_from_the_dashboard(client):
    from tests.factories import awarding_setup

    programme, _app, cast, issuer = awarding_setup(name_en="Endorsed and awardable")
    draft = ProgrammeFactory(organisation=cast.organisation, name_en="Still a draft")
    client.force_login(issuer)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("awards:new", args=[programme.public_id])}"' in html
    assert "Award a badge: " in html
    assert reverse("awards:new", args=[draft.public_id]) not in html  # no endorsement: nothing to award
    # ...and the link is the award form itself, which this issuer may use.
    assert client.get(reverse("awards:new", args=[programme.public_id])).status_code == 200


def test_the_dashboard_never_asks_an_issuer_to_act_on_a_draft_they_cannot_edit(client):
    cast = Cast()
    draft, _ = application_in(ApplicationState.DRAFT, cast)
    _changes, _ = application_in(ApplicationState.CHANGES_REQUESTED, cast)
    client.force_login(staff(cast.organisation, Role.ISSUER))
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Applications needing your action" not in html
    assert "Not submitted yet." not in html and "Please state the assessment weights." not in html
    # The editor is asked.
    client.force_login(cast.editor)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Applications needing your action" in html
    assert reverse("portal:application", args=[draft.pk]) in html
    assert "Please state the assessment weights." in html


def test_an_editor_is_not_offered_to_award_badges(client):
    from tests.factories import awarding_setup

    programme, _app, cast, _issuer = awarding_setup()
    client.force_login(cast.editor)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("awards:new", args=[programme.public_id]) not in html
    assert 'id="award"' not in html


def test_an_issuer_without_an_endorsed_programme_is_told_why_nothing_can_be_awarded(client):
    issuer = staff(OrganisationFactory(), Role.ISSUER)
    client.force_login(issuer)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "No programme has an endorsement in force yet" in html
