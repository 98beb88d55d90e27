"""The demo's receiver (DEBUG only): a delivery signed with the endpoint's secret is recorded, a
forged one refused with 400 and recorded as refused; with the setting off it is not there."""

from __future__ import annotations

import json

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from institutions.models import Role
from tests.factories import Cast, staff
from webhooks.delivery import payload_bytes, signed_headers
from webhooks.demo import demo_endpoint_url, demo_receiver
from webhooks.events import new_webhook_id
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


def _post(delivery, body, headers):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    request = RequestFactory().post("/", data=body, content_type="application/json", **extra)
    return demo_receiver(request, slug=delivery.endpoint.organisation.slug)


def test_the_demo_receiver_checks_the_signature_and_records(settings, tmp_path):
    settings.WEBHOOK_DEMO_RECEIVER = True
    settings.WEBHOOK_DEMO_LOG = tmp_path / "received.jsonl"
    organisation = Cast().organisation
    owner = staff(organisation, Role.OWNER)
    endpoint, _secret = endpoint_create(actor=owner, organisation=organisation,
                                        url=demo_endpoint_url(organisation.slug), events=["award.issued"])
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="award.issued", webhook_id=new_webhook_id(),
                                              source="test", payload={"type": "award.issued", "data": {}},
                                              retry_until=now)
    body = payload_bytes(delivery)
    assert _post(delivery, body, signed_headers(delivery, body, now)).status_code == 204
    forged = signed_headers(delivery, body, now)
    forged["webhook-signature"] = "v1," + "A" * 44
    answer = _post(delivery, body, forged)
    assert answer.status_code == 400 and "signature" in answer.content.decode()
    lines = [json.loads(line) for line in settings.WEBHOOK_DEMO_LOG.read_text().splitlines()]
    assert [(line["webhook_id"], line["verified"]) for line in lines] == [(delivery.webhook_id, True),
                                                                          (delivery.webhook_id, False)]
    shown = demo_receiver(RequestFactory().get("/"), slug=organisation.slug)
    assert json.loads(shown.content)["received"][1]["type"] == "award.issued"

    settings.WEBHOOK_DEMO_RECEIVER = False
    with pytest.raises(Http404):
        _post(delivery, body, signed_headers(delivery, body, now))


def test_the_demo_receiver_is_not_routed_in_the_test_settings():
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("demo_webhook_receiver", args=["x"])
