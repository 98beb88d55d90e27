"""The admin's webhook pages are the body's managers': they register the body's endpoint (the
secret shown once), see its deliveries and replay one; members' endpoints are not shown there."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from institutions.models import Role
from tests.factories import Cast, login_request, manager, reviewer, staff
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .receiver import receiver

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    user.set_password("pw")
    user.save()
    client = Client()
    assert client.login(request=login_request(), username=user.username, password="pw")
    return client


def test_a_manager_registers_the_body_s_endpoint_and_replays(django_capture_on_commit_callbacks):
    body_manager = manager()
    client = _client(body_manager)
    member = Cast().organisation
    member_owner = staff(member, Role.OWNER)
    services.endpoint_create(actor=member_owner, organisation=member,
                             url="http://127.0.0.1:9/member", events=["award.issued"])
    with receiver() as bodys:
        answer = client.post(reverse("admin:webhooks_webhookendpoint_add"), {
            "url": bodys.url(), "description": "Case system", "events": ["application.received"], "enabled": "on",
            "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}, follow=True)
        assert answer.status_code == 200
        assert "whsec_" in answer.content.decode()
        endpoint = WebhookEndpoint.objects.get(organisation__is_certification_body=True)
        listing = client.get(reverse("admin:webhooks_webhookendpoint_changelist")).content.decode()
        assert bodys.url() in listing and "/member" not in listing  # a member's endpoint is not the body's

        from tests.factories import application_in

        with django_capture_on_commit_callbacks(execute=True):
            application_in("submitted")
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("admin:webhooks_webhookdelivery_changelist"),
                        {"action": "replay", "_selected_action": [delivery.pk]})
        assert bodys.ids() == [delivery.webhook_id] * 2


def test_a_private_address_is_refused_in_the_admin_and_nothing_saved():
    client = _client(manager())
    answer = client.post(reverse("admin:webhooks_webhookendpoint_add"), {
        "url": "https://192.168.0.10/hook", "events": ["application.received"],
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    assert answer.status_code == 200 and "private address" in answer.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_reviewers_do_not_see_the_webhooks():
    client = _client(reviewer())
    assert client.get(reverse("admin:webhooks_webhookendpoint_changelist")).status_code == 403
