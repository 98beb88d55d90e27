"""The portal's webhook pages: the owner registers an endpoint (the secret shown once), sees its
deliveries and replays one; a private address is refused on the form with nothing saved; other
staff and other members see nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, awarding_setup, login_request, staff
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .receiver import receiver

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password="pw")
    return client


def _owner(organisation):
    user = staff(organisation, Role.OWNER)
    user.set_password("pw")
    user.save()
    return user


def test_the_owner_registers_sees_the_secret_once_and_replays(django_capture_on_commit_callbacks):
    programme, _application, cast, issuer = awarding_setup()
    owner = _owner(cast.organisation)
    client = _client(owner)
    assert reverse("portal:webhooks") in client.get(reverse("portal:dashboard")).content.decode()
    with receiver() as ours:
        answer = client.post(reverse("portal:webhooks"), {"url": ours.url(), "description": "Our LMS",
                                                         "events": ["award.issued", "award.revoked"]})
        endpoint = WebhookEndpoint.objects.get()
        assert answer.status_code == 302 and answer["Location"] == reverse("portal:webhook", args=[endpoint.public_id])
        page = client.get(answer["Location"]).content.decode()
        assert "whsec_" in page
        assert "whsec_" not in client.get(answer["Location"]).content.decode()  # shown once

        from badges.awards import award_issue

        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        delivery = WebhookDelivery.objects.get()
        page = client.get(reverse("portal:webhook", args=[endpoint.public_id])).content.decode()
        assert delivery.webhook_id in page and "HTTP 204" in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("portal:webhook_replay", args=[endpoint.public_id, delivery.webhook_id]))
        assert ours.ids() == [delivery.webhook_id] * 2

        rotated = client.post(reverse("portal:webhook_rotate", args=[endpoint.public_id]), follow=True)
        assert "whsec_" in rotated.content.decode()
        client.post(reverse("portal:webhook", args=[endpoint.public_id]),
                    {"url": ours.url("/other"), "events": ["award.revoked"], "description": ""})
        endpoint.refresh_from_db()
        assert endpoint.url.endswith("/other") and endpoint.events == ["award.revoked"]


def test_a_private_address_is_refused_on_the_form_and_nothing_saved():
    owner = _owner(Cast().organisation)
    answer = _client(owner).post(reverse("portal:webhooks"), {"url": "https://10.0.0.1/hook",
                                                               "events": ["award.issued"]})
    assert answer.status_code == 400
    assert "private address" in answer.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_japanese_page(settings):
    owner = _owner(Cast().organisation)
    client = _client(owner)
    client.cookies["django_language"] = "ja"
    page = client.get(reverse("portal:webhooks"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "エンドポイントを追加" in page and "バッジの一括発行が完了" in page


def test_other_staff_and_other_members_see_nothing():
    cast = Cast()
    owner = _owner(cast.organisation)
    _client(owner).post(reverse("portal:webhooks"), {"url": "http://127.0.0.1:9/hook", "events": ["award.issued"]})
    endpoint = WebhookEndpoint.objects.get()
    cast.editor.set_password("pw")
    cast.editor.save()
    assert _client(cast.editor).get(reverse("portal:webhooks")).status_code == 403
    stranger = _owner(OrganisationFactory())
    stranger_client = _client(stranger)
    assert stranger_client.get(reverse("portal:webhook", args=[endpoint.public_id])).status_code == 404
    assert stranger_client.post(reverse("portal:webhook_delete", args=[endpoint.public_id])).status_code == 404
    assert WebhookEndpoint.objects.count() == 1
