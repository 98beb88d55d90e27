"""Renewing a pathway's endorsement from the portal: the pathway page shows the endorsements and the
renewal as a programme's endorsement page does (the same partial, `endorsement.renewals.renewal_standing`,
the same Renew view and service), the endorsement page serves a pathway's endorsement, and a refused
renewal changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement.models import Application, ApplicationState, Endorsement
from institutions.models import Role
from tests.endorsement.renewal_walk import counts, ends_in, walk
from tests.factories import OrganisationFactory, staff
from tests.pathways.helpers import endorsed_programmes, pathway_in

pytestmark = pytest.mark.django_db
S = ApplicationState


@pytest.fixture
def endorsed_pathway():
    application, cast, pathway = pathway_in(S.PUBLISHED, programmes=endorsed_programmes())
    return ends_in(Endorsement.objects.get(application=application), 60), cast, pathway


def pathway_page(pathway):
    return reverse("portal:pathway", args=[pathway.public_id])


def renew(endorsement):
    return reverse("portal:endorsement_renew", args=[endorsement.public_id])


def test_the_pathway_page_offers_renew_and_the_renewal_walks_to_a_scheduled_endorsement(client, endorsed_pathway):
    endorsement, cast, pathway = endorsed_pathway
    client.force_login(cast.editor)
    shown = client.get(pathway_page(pathway))
    assert shown.status_code == 200
    assert b"Renew the endorsement" in shown.content and b"for the pathway as it is now" in shown.content
    assert reverse("portal:endorsement", args=[endorsement.public_id]).encode() in shown.content
    response = client.post(renew(endorsement))
    application = Application.objects.get(renews=endorsement)
    assert application.pathway == pathway and application.state == S.DRAFT
    assert response.status_code == 302 and response["Location"] == reverse("portal:application", args=[application.pk])
    assert any("Check the pathway" in str(m) for m in get_messages(response.wsgi_request))
    shown = client.get(pathway_page(pathway))
    assert b"Renew the endorsement" not in shown.content
    assert f"renewal application #{application.pk}".encode() in shown.content
    # The draft is the pathway's current application: its Submit button is the pathway page's.
    assert reverse("portal:pathway_transition", args=[pathway.public_id, "submit"]).encode() in shown.content
    walk(application, cast)
    renewed = Endorsement.objects.get(application=application)
    assert renewed.predecessor == endorsement and renewed.state == "scheduled"
    assert renewed.valid_from == endorsement.valid_until


def test_the_endorsement_page_serves_a_pathway_endorsement(client, endorsed_pathway):
    endorsement, cast, pathway = endorsed_pathway
    client.force_login(cast.editor)
    shown = client.get(reverse("portal:endorsement", args=[endorsement.public_id]))
    assert shown.status_code == 200
    assert b"History of the pathway's endorsements" in shown.content and b"Pathway version" in shown.content
    assert pathway_page(pathway).encode() in shown.content and b"Renew the endorsement" in shown.content


def test_before_the_window_the_pathway_page_says_when_and_a_post_changes_nothing(client, endorsed_pathway, settings):
    settings.RENEWAL_WINDOW_DAYS = 30
    endorsement, cast, pathway = endorsed_pathway
    client.force_login(cast.editor)
    shown = client.get(pathway_page(pathway))
    assert b"Renew the endorsement" not in shown.content and b"A renewal can be opened from" in shown.content
    before = counts()
    response = client.post(renew(endorsement))
    assert response.status_code == 302 and response["Location"] == reverse("portal:endorsement",
                                                                         args=[endorsement.public_id])
    assert any("A renewal can be opened from" in str(m) for m in get_messages(response.wsgi_request))
    assert counts() == before and not Application.objects.filter(renews=endorsement).exists()


def test_an_issuer_may_not_renew_a_pathway_and_outsiders_get_404(client, endorsed_pathway):
    endorsement, cast, pathway = endorsed_pathway
    before = counts()
    client.force_login(staff(cast.organisation, Role.ISSUER))
    shown = client.get(pathway_page(pathway))
    assert b"Renew the endorsement" not in shown.content
    assert b"Owners and editors of the organisation open renewals" in shown.content
    assert client.post(renew(endorsement)).status_code == 403
    client.force_login(staff(OrganisationFactory(), Role.OWNER))
    assert client.post(renew(endorsement)).status_code == 404
    assert counts() == before


def test_a_second_renewal_of_the_pathway_is_refused_with_the_reason(client, endorsed_pathway):
    endorsement, cast, _pathway = endorsed_pathway
    client.force_login(cast.editor)
    client.post(renew(endorsement))
    before = counts()
    response = client.post(renew(endorsement))
    assert response.status_code == 302
    assert any("already has an open application" in str(m) for m in get_messages(response.wsgi_request))
    assert counts() == before and Application.objects.filter(renews=endorsement).count() == 1


def test_a_pathway_never_endorsed_shows_no_renewal(client):
    _application, cast, pathway = pathway_in(S.DRAFT)
    client.force_login(cast.editor)
    shown = client.get(pathway_page(pathway))
    assert shown.status_code == 200 and b"renewal-title" not in shown.content
