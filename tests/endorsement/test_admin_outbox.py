"""The outbox page of the admin (endorsement.admin.outbox): the body's managers see the mails
pending or given up, read-only (never a learner's mail body: it holds the claim link), filter them,
and "Retry now" sends a pending or failed one through endorsement.outbox.notification_retry — once,
whatever is clicked twice; a sent one is refused and left as it was; reviewers do not see the page."""

from __future__ import annotations

import smtplib

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from config.errors import NotPermitted, WrongState
from endorsement.audit import AuditAction
from endorsement.models import AuditEvent, Notification
from endorsement.outbox import notification_retry
from tests.factories import PASSWORD, Cast, login_request

pytestmark = pytest.mark.django_db
Pending, Sent, Failed = Notification.State.PENDING, Notification.State.SENT, Notification.State.FAILED
CHANGELIST = reverse("admin:endorsement_notification_changelist")


def login(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def row(key: str, state: str, **fields) -> Notification:
    return Notification.objects.create(key=key, recipients=["ada@example.org"], subject=f"Mail {key}",
                                       body=f"Claim it at https://example.org/claim/secret-{key}", state=state,
                                       **fields)


@pytest.fixture
def cast():
    cast = Cast()
    Notification.objects.all().delete()  # what setting up the cast mailed
    mail.outbox.clear()
    return cast


def test_managers_see_pending_and_failed_mails_filtered_without_their_bodies(cast):
    row("a", Pending)
    row("b", Failed, attempts=8, last_error="SMTPServerDisconnected: gone")
    row("c", Sent)
    client = login(cast.manager)
    html = client.get(CHANGELIST + "?unsent=yes").content.decode()
    assert "Mail a" in html and "Mail b" in html and "Mail c" not in html
    html = client.get(CHANGELIST + "?state__exact=failed").content.decode()
    assert "Mail b" in html and "Mail a" not in html
    page = client.get(reverse("admin:endorsement_notification_change", args=[Notification.objects.get(key="b").pk]))
    assert "SMTPServerDisconnected: gone" in page.content.decode() and "secret-b" not in page.content.decode()
    assert client.post(reverse("admin:endorsement_notification_change",
                               args=[Notification.objects.get(key="b").pk]), {"subject": "x"}).status_code == 403


def test_the_page_speaks_japanese(cast):
    row("a", Failed)
    client = login(cast.manager)
    with translation.override("ja"):
        html = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "再送" in html and "未送信（保留中または失敗）" in html


def test_retry_now_sends_a_failed_mail_once_and_records_who(cast, django_capture_on_commit_callbacks):
    failed = row("b", Failed, attempts=8, last_error="refused")
    client = login(cast.manager)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert answer.status_code == 302
    failed.refresh_from_db()
    assert failed.state == Sent and failed.attempts == 1 and failed.last_error == ""
    assert [m.subject for m in mail.outbox] == ["Mail b"]
    event = AuditEvent.objects.get(action=AuditAction.NOTIFICATION_RETRIED)
    assert event.actor == cast.manager and (event.from_state, event.to_state) == ("failed", "pending")
    # Clicked again: the row is sent; refused, nothing sent, nothing changed.
    before = (AuditEvent.objects.count(), len(mail.outbox))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert any("sent already" in str(m) for m in get_messages(answer.wsgi_request))
    assert (AuditEvent.objects.count(), len(mail.outbox)) == before
    failed.refresh_from_db()
    assert failed.state == Sent and failed.attempts == 1


def test_two_retries_before_the_send_send_the_mail_once(cast, django_capture_on_commit_callbacks):
    pending = row("a", Pending, attempts=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_retry(actor=cast.manager, notification=pending)
        notification_retry(actor=cast.manager, notification=pending)
    for callback in callbacks:
        callback()
    pending.refresh_from_db()
    assert pending.state == Sent and len(mail.outbox) == 1 and pending.attempts == 3


def test_a_retry_that_fails_again_is_recorded_for_the_sweep(cast, settings, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    failed = row("b", Failed, attempts=8)

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("still gone")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        notification_retry(actor=cast.manager, notification=failed)
    failed.refresh_from_db()
    assert failed.state == Pending and failed.attempts == 1 and "still gone" in failed.last_error
    assert failed.next_attempt_at is not None


def test_reviewers_neither_see_the_page_nor_retry_and_nothing_changes(cast):
    failed = row("b", Failed, attempts=8)
    client = login(cast.reviewer)
    assert client.get(CHANGELIST).status_code == 403
    answer = client.post(CHANGELIST, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert answer.status_code == 403
    with pytest.raises(NotPermitted):
        notification_retry(actor=cast.reviewer, notification=failed)
    failed.refresh_from_db()
    assert failed.state == Failed and failed.attempts == 8
    assert not AuditEvent.objects.filter(action=AuditAction.NOTIFICATION_RETRIED).exists()


def test_a_sent_mail_is_refused_by_the_service(cast):
    sent = row("c", Sent, attempts=1)
    with pytest.raises(WrongState, match="sent already"):
        notification_retry(actor=cast.manager, notification=sent)
    sent.refresh_from_db()
    assert sent.state == Sent and sent.attempts == 1
