"""The mail telling an endpoint's owners it was disabled (webhooks.delivery.endpoint_disable_failing)
goes in each reader's language (institutions.staff.staff_mail_groups): one outbox row per language,
the site's first; the organisation's contact address reads the site's language."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone, translation

from endorsement.models import Notification
from institutions.models import Role, StaffMember
from tests.factories import awarding_setup, staff
from webhooks import services as webhooks
from webhooks.delivery import endpoint_disable_failing
from webhooks.models import MEMBER_EVENTS

from .receiver import receiver

pytestmark = pytest.mark.django_db


def test_the_disabled_endpoint_mail_goes_in_english_and_in_japanese(django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    _programme, _application, cast, _issuer = awarding_setup()
    english = staff(cast.organisation, Role.OWNER, email="owner-en@example.org")
    japanese = staff(cast.organisation, Role.OWNER, email="owner-ja@example.org")
    StaffMember.objects.filter(user=japanese).update(language="ja")
    cast.organisation.name_ja = "日本語の名前の組織"
    cast.organisation.save(update_fields=["name_ja"])
    with receiver() as ours:
        endpoint, _secret = webhooks.endpoint_create(actor=english, organisation=cast.organisation, url=ours.url(),
                                                     events=[str(e) for e in MEMBER_EVENTS])
        mail.outbox.clear()
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            endpoint_disable_failing(endpoint, now=timezone.now(), last_error="HTTP 500")
    by_reader = {tuple(m.to): m for m in mail.outbox}
    in_english = by_reader[tuple(sorted([cast.organisation.contact_email, english.email]))]
    in_japanese = by_reader[(japanese.email,)]
    assert len(mail.outbox) == 2
    assert in_english.subject.endswith(f"Webhook endpoint disabled: {ours.url()}")
    assert "No delivery to it succeeded for 3 days. The last error was:\nHTTP 500" in in_english.body
    assert in_japanese.subject.endswith(f"Webhookエンドポイントを無効化しました：{ours.url()}")
    assert f"日本語の名前の組織のWebhookエンドポイント「{ours.url()}」を無効化しました。" in in_japanese.body
    assert "3日間、このエンドポイントへの配信が一度も成功しませんでした。最後のエラー：\nHTTP 500" in in_japanese.body
    assert f"/portal/webhooks/{endpoint.public_id}/" in in_japanese.body
    assert "disabled" not in in_japanese.body and "Webhook endpoint" not in in_japanese.subject
    keys = sorted(Notification.objects.filter(key__startswith="webhook-disabled:").values_list("key", flat=True))
    assert len(keys) == 2 and keys[1] == keys[0] + ":ja"
    # Disabled once: a second call writes and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_disable_failing(endpoint, now=timezone.now(), last_error="HTTP 500")
    assert len(mail.outbox) == 2 and Notification.objects.filter(key__startswith="webhook-disabled:").count() == 2
