"""The outbox of e-mails (endorsement.outbox): written pending in the transaction that causes the
mail, sent once after commit or by the sweep, retried with backoff when the mail server refuses,
never sent twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from badges.awards import award_issue
from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Notification
from endorsement.outbox import message_id, notification_deliver, notifications_send_pending
from endorsement.tasks import send_pending_notifications
from tests.factories import application_in, awarding_setup

pytestmark = pytest.mark.django_db
Pending, Sent, Failed = Notification.State.PENDING, Notification.State.SENT, Notification.State.FAILED
LATER = timedelta(hours=2)


def issued_with_lost_send(django_capture_on_commit_callbacks):
    """An award committed whose after-commit mail task was never delivered."""
    programme, _application, _cast, issuer = awarding_setup()
    # The set-up's own mails were sent after their commits (in a test's transaction, nothing commits).
    Notification.objects.update(state=Sent)
    with django_capture_on_commit_callbacks(execute=False):
        award = award_issue(actor=issuer, programme=programme, recipient_email="ada@example.org",
                            recipient_name="Ada")
    mail.outbox.clear()
    return award


def test_issuing_writes_the_learners_mail_pending_in_its_own_transaction(django_capture_on_commit_callbacks):
    award = issued_with_lost_send(django_capture_on_commit_callbacks)
    row = Notification.objects.get(key=f"award-issued:{award.public_id}")
    assert row.state == Pending and row.attempts == 0 and row.sent_at is None
    assert row.recipients == ["ada@example.org"] and "Hello Ada," in row.body and award_url_in(row.body, award)
    assert mail.outbox == []


def award_url_in(body, award):
    return str(award.public_id) in body


def test_the_sweep_sends_a_pending_mail_after_its_grace_period_once(django_capture_on_commit_callbacks):
    award = issued_with_lost_send(django_capture_on_commit_callbacks)
    assert notifications_send_pending() == 0 and mail.outbox == []  # the task after commit has its chance

    assert notifications_send_pending(now=timezone.now() + LATER) == 1
    assert notifications_send_pending(now=timezone.now() + LATER) == 0
    assert send_pending_notifications.apply().get() == 0

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.org"]
    key = f"award-issued:{award.public_id}"
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id(key)
    row = Notification.objects.get(key=key)
    assert row.state == Sent and row.attempts == 1 and row.sent_at is not None


def test_a_sent_mail_is_never_sent_again_by_the_task(django_capture_on_commit_callbacks):
    award = issued_with_lost_send(django_capture_on_commit_callbacks)
    from badges.tasks import send_award_emails

    assert send_award_emails.apply(args=[[award.pk]]).get() == 1
    assert send_award_emails.apply(args=[[award.pk]]).get() == 0
    assert notifications_send_pending(now=timezone.now() + LATER) == 0
    assert len(mail.outbox) == 1


def test_a_refused_send_is_recorded_retried_with_backoff_and_given_up_after_the_limit(
        django_capture_on_commit_callbacks, settings):
    award = issued_with_lost_send(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = Notification.objects.get(key=f"award-issued:{award.public_id}")

    assert notification_deliver(row.pk) is False
    row.refresh_from_db()
    assert row.state == Pending and row.attempts == 1 and "Connection" in row.last_error
    assert row.next_attempt_at > timezone.now()
    assert notifications_send_pending(now=row.next_attempt_at - timedelta(seconds=1)) == 0  # backing off
    row.refresh_from_db()
    assert row.attempts == 1

    notifications_send_pending(now=row.next_attempt_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.attempts == 2 and row.state == Pending
    notifications_send_pending(now=row.next_attempt_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.attempts == 3 and row.state == Failed
    assert notifications_send_pending(now=timezone.now() + timedelta(days=1)) == 0
    row.refresh_from_db()
    assert row.attempts == 3 and mail.outbox == []


def test_a_transition_writes_its_mail_with_the_event_and_a_rollback_writes_neither(
        django_capture_on_commit_callbacks):
    application, cast = application_in(ApplicationState.DRAFT)
    Notification.objects.update(state=Sent)
    with django_capture_on_commit_callbacks(execute=False):
        services.application_submit(actor=cast.editor, application=application)
    event = AuditEvent.objects.get(action="application.submitted")
    row = Notification.objects.get(key=f"audit:{event.seq}")
    assert row.state == Pending and row.recipients == [cast.manager.email] and "Draft → Submitted" in row.body
    assert mail.outbox == []
    assert notifications_send_pending(now=timezone.now() + LATER) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == row.subject

    from django.db import transaction

    before = Notification.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.application_withdraw(actor=cast.editor, application=application)
        raise RuntimeError("rolled back")
    assert Notification.objects.count() == before
