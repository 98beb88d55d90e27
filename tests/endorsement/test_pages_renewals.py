"""Renewals and changes in the portal (the endorsement page and its Renew button, the programme
page) and in the admin (the Renew and review-depth buttons, the changes and previous judgements
beside the reviewers')."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from badges.services import programme_update
from endorsement import renewals, services
from endorsement.models import Application, ApplicationState, Endorsement
from institutions.models import Role
from tests.endorsement.renewal_walk import counts, ends_in, walk
from tests.factories import OrganisationFactory, application_in, staff

pytestmark = pytest.mark.django_db
S = ApplicationState


@pytest.fixture
def endorsed():
    application, cast = application_in(S.PUBLISHED)
    return ends_in(Endorsement.objects.get(application=application), 60), cast


def page(endorsement):
    return reverse("portal:endorsement", args=[endorsement.public_id])


# --- portal -----------------------------------------------------------------------------------------
def test_the_endorsement_page_offers_renew_and_the_button_opens_the_renewal(client, endorsed):
    endorsement, cast = endorsed
    client.force_login(cast.editor)
    shown = client.get(page(endorsement))
    assert shown.status_code == 200 and b"Renew the endorsement" in shown.content
    response = client.post(reverse("portal:endorsement_renew", args=[endorsement.public_id]))
    application = Application.objects.get(renews=endorsement)
    assert response.status_code == 302 and response["Location"] == reverse("portal:application", args=[application.pk])
    shown = client.get(page(endorsement))
    assert b"Renew the endorsement" not in shown.content
    assert f"#{application.pk}".encode() in shown.content


def test_before_the_window_the_page_says_when_and_a_post_changes_nothing(client, endorsed, settings):
    settings.RENEWAL_WINDOW_DAYS = 30
    endorsement, cast = endorsed
    client.force_login(cast.editor)
    shown = client.get(page(endorsement))
    assert b"Renew the endorsement" not in shown.content and b"A renewal can be opened from" in shown.content
    before = counts()
    response = client.post(reverse("portal:endorsement_renew", args=[endorsement.public_id]))
    assert response.status_code == 302 and response["Location"] == page(endorsement)
    assert any("A renewal can be opened from" in str(m) for m in get_messages(response.wsgi_request))
    assert counts() == before


def test_an_issuer_sees_the_page_but_may_not_renew_and_outsiders_get_404(client, endorsed):
    endorsement, cast = endorsed
    before = counts()
    client.force_login(staff(cast.organisation, Role.ISSUER))
    assert b"Renew the endorsement" not in client.get(page(endorsement)).content
    assert client.post(reverse("portal:endorsement_renew", args=[endorsement.public_id])).status_code == 403
    client.force_login(staff(OrganisationFactory(), Role.OWNER))
    assert client.get(page(endorsement)).status_code == 404
    assert client.post(reverse("portal:endorsement_renew", args=[endorsement.public_id])).status_code == 404
    assert counts() == before


def test_the_programme_page_lists_the_endorsements_and_offers_a_change(client, endorsed):
    endorsement, cast = endorsed
    client.force_login(cast.editor)
    shown = client.get(reverse("portal:programme", args=[endorsement.programme.public_id]))
    assert page(endorsement).encode() in shown.content
    assert b"Apply for a change to the programme" in shown.content
    assert b"open a change application" in shown.content


def test_the_renewal_page_shows_the_organisation_what_changed(client, endorsed):
    endorsement, cast = endorsed
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    programme_update(actor=cast.editor, programme=endorsement.programme, data={"level": "Level 8"})
    application = services.application_submit(actor=cast.editor, application=application)
    client.force_login(cast.editor)
    html = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert 'id="change-level"' in html and "Level 8" in html and "Renewal" in html


# --- admin ------------------------------------------------------------------------------------------
def test_a_manager_opens_the_renewal_from_the_admin(client, endorsed):
    endorsement, cast = endorsed
    client.force_login(cast.manager)
    change_page = client.get(reverse("admin:endorsement_endorsement_change", args=[endorsement.pk]))
    assert "renew" in [b["name"] for b in change_page.context["object_buttons"]]
    response = client.post(reverse("admin:endorsement_endorsement_button", args=[endorsement.pk, "renew"]))
    application = Application.objects.get(renews=endorsement)
    assert response.status_code == 302
    assert application.created_by == cast.manager


def test_the_admin_review_page_shows_the_changes_and_the_previous_judgements(client, endorsed):
    endorsement, cast = endorsed
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    programme_update(actor=cast.editor, programme=endorsement.programme, data={"level": "Level 8"})
    application = walk(application, cast, to=S.IN_REVIEW)
    client.force_login(cast.reviewer)
    response = client.get(reverse("admin:endorsement_application_change", args=[application.pk]))
    html = response.content.decode()
    assert 'id="change-level"' in html and "Level 8" in html
    assert f"Previous judgements (application #{endorsement.application_id})" in html
    assert [c.name for c in response.context["changes"]] == ["level"]


def test_a_manager_marks_a_change_minor_with_the_admin_button(client, endorsed):
    endorsement, cast = endorsed
    change = walk(services.application_create(actor=cast.editor, programme=endorsement.programme), cast,
                  to=S.SUBMITTED)
    client.force_login(cast.manager)
    url = reverse("admin:endorsement_application_button", args=[change.pk, "review_minor"])
    before = counts()
    client.post(url, {"text": ""})  # the reason is required
    change.refresh_from_db()
    assert change.review_depth == "full" and counts() == before
    client.post(url, {"text": "Only a typo."})
    change.refresh_from_db()
    assert change.review_depth == "minor"
