"""Endorsements in the admin: read-only, with suspend / reinstate / revoke buttons for managers."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Endorsement, EndorsementState
from tests.factories import application_in

pytestmark = pytest.mark.django_db
E = EndorsementState


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def press(client, endorsement, button, text=""):
    return client.post(reverse("admin:endorsement_endorsement_button", args=[endorsement.pk, button]), {"text": text})


def buttons(client, endorsement):
    response = client.get(reverse("admin:endorsement_endorsement_change", args=[endorsement.pk]))
    return [b["name"] for b in response.context["object_buttons"]]


@pytest.fixture
def granted():
    app, cast = application_in(ApplicationState.PUBLISHED)
    return Endorsement.objects.get(application=app), cast


def test_the_list_shows_state_programme_organisation_and_validity(client, granted):
    endorsement, cast = granted
    client.force_login(cast.reviewer)

    response = client.get(reverse("admin:endorsement_endorsement_changelist"), {"state__exact": "active"})

    assert list(response.context["cl"].result_list) == [endorsement]
    html = response.content.decode()
    assert endorsement.programme.name_en in html and cast.organisation.name in html
    assert 'class="field-valid_until' in html


@pytest.mark.parametrize(("start", "button", "text", "target"), [
    (E.ACTIVE, "suspend", "Evidence links are broken.", E.SUSPENDED),
    (E.SUSPENDED, "reinstate", "", E.ACTIVE),
    (E.ACTIVE, "revoke", "Issued badges without assessment.", E.REVOKED),
    (E.SUSPENDED, "revoke", "Did not repair the evidence links.", E.REVOKED),
])
def test_a_manager_changes_an_endorsements_standing_with_a_button(client, granted, start, button, text, target):
    endorsement, cast = granted
    if start == E.SUSPENDED:
        services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Checking.")
    client.force_login(cast.manager)
    assert button in buttons(client, endorsement)

    press(client, endorsement, button, text)

    endorsement.refresh_from_db()
    assert endorsement.state == target
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.subject_type, event.to_state, event.comment) == ("endorsement", target, text)


@pytest.mark.parametrize("button", ["suspend", "revoke"])
def test_suspending_or_revoking_without_a_reason_is_refused(client, granted, button):
    endorsement, cast = granted
    client.force_login(cast.manager)
    events = AuditEvent.objects.count()

    response = press(client, endorsement, button, "")

    assert any("Give the reason" in m for m in messages_of(response))
    endorsement.refresh_from_db()
    assert endorsement.state == E.ACTIVE
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("button", ["suspend", "reinstate", "revoke"])
def test_a_reviewer_sees_no_standing_button_and_a_posted_one_changes_nothing(client, granted, button):
    endorsement, cast = granted
    client.force_login(cast.reviewer)
    assert buttons(client, endorsement) == []
    events = AuditEvent.objects.count()

    response = press(client, endorsement, button, "Because.")

    assert any(("may not" in m) or ("Cannot" in m) for m in messages_of(response))
    endorsement.refresh_from_db()
    assert endorsement.state == E.ACTIVE
    assert AuditEvent.objects.count() == events


def test_a_revoked_endorsement_offers_no_button_and_refuses_reinstating(client, granted):
    endorsement, cast = granted
    services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Fraud.")
    client.force_login(cast.manager)
    assert buttons(client, endorsement) == []
    events = AuditEvent.objects.count()

    response = press(client, endorsement, "reinstate")

    assert any("Cannot reinstate" in m and "revoked" in m for m in messages_of(response))
    endorsement.refresh_from_db()
    assert endorsement.state == E.REVOKED
    assert AuditEvent.objects.count() == events


def test_endorsements_cannot_be_edited_added_or_deleted_in_the_admin(client, granted):
    endorsement, cast = granted
    client.force_login(cast.manager)
    change = reverse("admin:endorsement_endorsement_change", args=[endorsement.pk])

    assert client.post(change, {"state": "revoked", "valid_until_0": "2000-01-01"}).status_code == 403
    assert client.get(reverse("admin:endorsement_endorsement_add")).status_code == 403
    assert client.post(reverse("admin:endorsement_endorsement_delete", args=[endorsement.pk]),
                       {"post": "yes"}).status_code == 403
    endorsement.refresh_from_db()
    assert endorsement.state == E.ACTIVE
