"""The webhooks API: owners register, change, rotate and replay; a loopback or private address is
refused with a 400 and nothing is saved; another member's endpoint is not found."""

from __future__ import annotations

import socket

import pytest

from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, api_client, awarding_setup, manager, staff
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .receiver import receiver

pytestmark = pytest.mark.django_db


def _register(client, url, events=("award.issued",)):
    return client.post("/api/v1/webhooks", {"url": url, "events": list(events)}, format="json")


@pytest.mark.parametrize("url", [
    "https://10.0.0.5/hook", "https://192.168.1.20/hook", "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]/hook", "https://[::ffff:10.0.0.1]/hook", "ftp://example.org/hook", "https://user:pw@example.org/",
])
def test_an_endpoint_on_a_private_address_is_refused_with_400_and_nothing_saved(url):
    owner = staff(Cast().organisation, Role.OWNER)
    answer = _register(api_client(owner), url)
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["errors"]) == ["url"] and answer.json()["errors"]["url"][0]
    assert WebhookEndpoint.objects.count() == 0


def test_loopback_is_refused_when_the_settings_do_not_allow_it(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    owner = staff(Cast().organisation, Role.OWNER)
    answer = _register(api_client(owner), "http://127.0.0.1:8000/hook")
    assert answer.status_code == 400
    assert "loopback" in answer.json()["errors"]["url"][0]
    assert WebhookEndpoint.objects.count() == 0


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery_too(
        monkeypatch, django_capture_on_commit_callbacks):
    """Registered while it resolved to loopback (allowed here), then the name resolves to a private
    address (DNS rebinding): the delivery is not sent, and says why."""
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        answer = _register(api_client(owner), ours.url().replace("127.0.0.1", "localhost"))
        assert answer.status_code == 201, answer.content
        real = socket.getaddrinfo

        def rebound(host, *args, **kwargs):
            if host == "localhost":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", ours.port))]
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        from badges.awards import award_issue

        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == WebhookDelivery.State.PENDING and delivery.attempts == 1
        assert "10.1.2.3" in delivery.last_error and "private" in delivery.last_error
        assert ours.received == []


def test_register_list_change_rotate_and_replay(django_capture_on_commit_callbacks):
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    client = api_client(owner)
    with receiver() as ours:
        answer = _register(client, ours.url())
        assert answer.status_code == 201, answer.content
        created = answer.json()
        assert created["secret"].startswith("whsec_") and created["events"] == ["award.issued"]
        listed = client.get("/api/v1/webhooks").json()
        assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]

        changed = client.patch(f"/api/v1/webhooks/{created['id']}", {"events": ["award.issued", "award.revoked"],
                                                                      "description": "LMS"}, format="json")
        assert changed.status_code == 200 and changed.json()["events"] == ["award.issued", "award.revoked"]
        rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()
        assert rotated["secret"] != created["secret"]

        from badges.awards import award_issue

        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        deliveries = client.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()
        assert deliveries["count"] == 1
        row = deliveries["results"][0]
        assert (row["state"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 204)
        with django_capture_on_commit_callbacks(execute=True):
            replay = client.post(f"/api/v1/webhooks/{created['id']}/deliveries/{row['webhook_id']}/replay")
        assert replay.status_code == 202
        assert ours.ids() == [row["webhook_id"], row["webhook_id"]]
        ours.verified(rotated["secret"])

        off = client.patch(f"/api/v1/webhooks/{created['id']}", {"enabled": False}, format="json").json()
        assert off["enabled"] is False
        refused = client.post(f"/api/v1/webhooks/{created['id']}/deliveries/{row['webhook_id']}/replay")
        assert refused.status_code == 409
        assert client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
        assert WebhookEndpoint.objects.count() == 0 and WebhookDelivery.objects.count() == 0
        from endorsement.models import AuditEvent

        trail = list(AuditEvent.objects.filter(subject_type="webhookendpoint").order_by("seq")
                     .values_list("action", "actor_id"))
        assert trail == [(a, owner.pk) for a in ("webhook.registered", "webhook.changed", "webhook.secret_rotated",
                                                  "webhook.disabled", "webhook.removed")]
        assert not any(created["secret"].removeprefix("whsec_") in str(e.data) for e in AuditEvent.objects.all())


def test_bad_events_are_refused_by_field_and_nothing_saved():
    owner = staff(Cast().organisation, Role.OWNER)
    client = api_client(owner)
    for events in ([], ["no.such"], ["issuance_report.filed"]):  # the last is the body's, not a member's
        answer = _register(client, "http://127.0.0.1:9/hook", events)
        assert answer.status_code == 400, (events, answer.content)
        assert [key.partition("[")[0] for key in answer.json()["errors"]] == ["events"], answer.json()
    assert WebhookEndpoint.objects.count() == 0


def test_only_owners_and_only_their_own_organisation():
    cast = Cast()
    owner = staff(cast.organisation, Role.OWNER)
    created = _register(api_client(owner), "http://127.0.0.1:9/hook").json()
    stranger = staff(OrganisationFactory(), Role.OWNER)
    assert api_client(stranger).get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert api_client(stranger).get("/api/v1/webhooks").json() == []
    assert api_client(cast.editor).get("/api/v1/webhooks").status_code == 403
    assert _register(api_client(cast.editor), "http://127.0.0.1:9/x").status_code == 403
    assert api_client().get("/api/v1/webhooks").status_code in (401, 403)
    assert WebhookEndpoint.objects.count() == 1


def test_the_body_s_managers_register_the_body_s_events():
    body_manager = manager()
    answer = _register(api_client(body_manager), "http://127.0.0.1:9/hook",
                       ["application.received", "issuance_report.filed"])
    assert answer.status_code == 201, answer.content
    assert _register(api_client(body_manager), "http://127.0.0.1:9/hook", ["award.issued"]).status_code == 400
