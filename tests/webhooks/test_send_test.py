"""The "send a test event" button and API action: a signed `webhook.test` delivery through the real
delivery path (the receiver verifies it with the standardwebhooks library), shown in the delivery log;
refused while the endpoint is disabled, beyond the hourly rate, and for anyone but the owners — each
refusal leaves the deliveries as they were."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, api_client, login_request, staff
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .receiver import receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    user = staff(Cast().organisation, Role.OWNER)
    user.set_password("pw")
    user.save()
    return user


def _client(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password="pw")
    return client


def _register(owner, url) -> tuple[WebhookEndpoint, str]:
    return services.endpoint_create(actor=owner, organisation=owner.staff.organisation, url=url,
                                    events=["award.revoked"])


def test_the_portal_button_sends_a_signed_test_event_shown_in_the_log(owner, django_capture_on_commit_callbacks):
    client = _client(owner)
    with receiver() as ours:
        endpoint, secret = _register(owner, ours.url())
        page = client.get(reverse("portal:webhook", args=[endpoint.public_id])).content.decode()
        assert "Send a test event" in page
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(reverse("portal:webhook_test", args=[endpoint.public_id]))
        assert answer.status_code == 302
        assert any("A test event was sent" in str(m) for m in get_messages(answer.wsgi_request))
        [event] = ours.verified(secret)  # a bad signature would raise here
        assert event["type"] == "webhook.test"
        assert event["data"]["endpoint"] == {"id": str(endpoint.public_id), "url": endpoint.url}
        assert event["data"]["organisation"]["slug"] == endpoint.organisation.slug
        assert event["data"]["requested_by"] == owner.username
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.event_type == "webhook.test"
    assert ours.ids() == [delivery.webhook_id]
    page = client.get(reverse("portal:webhook", args=[endpoint.public_id])).content.decode()
    assert delivery.webhook_id in page and "Test event" in page and "HTTP 204" in page


def test_the_api_action_answers_202_with_the_delivery(owner, django_capture_on_commit_callbacks):
    with receiver() as ours:
        endpoint, secret = _register(owner, ours.url())
        with django_capture_on_commit_callbacks(execute=True):
            answer = api_client(owner).post(f"/api/v1/webhooks/{endpoint.public_id}/test")
        assert answer.status_code == 202, answer.content
        body = answer.json()
        assert body["event_type"] == "webhook.test" and body["payload"]["type"] == "webhook.test"
        assert ours.verified(secret)[0]["type"] == "webhook.test"
    assert WebhookDelivery.objects.get().webhook_id == body["webhook_id"]


def test_beyond_the_hourly_rate_it_is_refused_with_429_and_nothing_is_written(
        owner, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_TEST_EVENTS_PER_HOUR = 2
    with receiver() as ours:
        endpoint, _secret = _register(owner, ours.url())
        client = api_client(owner)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code == 202
            assert client.post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code == 202
            refused = client.post(f"/api/v1/webhooks/{endpoint.public_id}/test")
        assert refused.status_code == 429 and "At most 2 test events an hour" in refused.json()["detail"]
        assert WebhookDelivery.objects.count() == 2 and len(ours.received) == 2
        with django_capture_on_commit_callbacks(execute=True):
            page = _client(owner).post(reverse("portal:webhook_test", args=[endpoint.public_id]))
        assert any("At most 2 test events an hour" in str(m) for m in get_messages(page.wsgi_request))
        assert WebhookDelivery.objects.count() == 2 and len(ours.received) == 2


def test_a_disabled_endpoint_is_refused_with_409_and_nothing_is_written(owner):
    endpoint, _secret = _register(owner, "http://127.0.0.1:9/hook")
    services.endpoint_set_enabled(actor=owner, endpoint=endpoint, enabled=False)
    answer = api_client(owner).post(f"/api/v1/webhooks/{endpoint.public_id}/test")
    assert answer.status_code == 409 and "enable it before sending it a test event" in answer.json()["detail"]
    assert WebhookDelivery.objects.count() == 0
    assert "Send a test event" not in _client(owner).get(reverse("portal:webhook", args=[endpoint.public_id])
                                                         ).content.decode()


def test_an_editor_gets_403_and_another_member_404_and_nothing_is_written(owner):
    endpoint, _secret = _register(owner, "http://127.0.0.1:9/hook")
    editor = staff(endpoint.organisation, Role.EDITOR)
    assert api_client(editor).post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code == 403
    stranger = staff(OrganisationFactory(), Role.OWNER)
    assert api_client(stranger).post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code == 404
    stranger.set_password("pw")
    stranger.save()
    assert _client(stranger).post(reverse("portal:webhook_test", args=[endpoint.public_id])).status_code == 404
    assert WebhookDelivery.objects.count() == 0


def test_a_test_event_is_not_an_event_an_endpoint_may_choose(owner):
    answer = api_client(owner).post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook",
                                                         "events": ["webhook.test"]}, format="json")
    assert answer.status_code == 400 and "webhook.test" in answer.json()["errors"]["events"][0]
    assert WebhookEndpoint.objects.count() == 0
