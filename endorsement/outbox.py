"""The outbox of e-mails: `Notification` rows written pending in the transaction that causes them,
delivered once each.

Whoever causes a mail (an audit event someone is told about, a badge issued to a learner) writes a
pending row with its recipients, subject and body in its own transaction, then enqueues a task after
commit that delivers it. If that task is never sent (the broker is down), is lost with its worker, or
fails to reach the mail server, the row stays pending and `notifications_send_pending` (beat, every
RECOVERY_SWEEP_SECONDS) delivers it once it is OUTBOX_GRACE_SECONDS old, with backoff after each
failure and OUTBOX_MAX_ATTEMPTS at most.

Once: a row is delivered under its row lock (others skip it) and marked sent in the same transaction,
so a sent row is never sent again. The one window left is a process killed after the mail server
accepted the message and before that commit: the row is still pending and the mail goes out a second
time, with the same Message-ID (derived from the key), by which mail clients recognise a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import NotPermitted, WrongState
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.models import Notification
from institutions.models import is_manager

log = logging.getLogger(__name__)
State = Notification.State
# Longest wait between two attempts at a mail that keeps failing.
MAX_BACKOFF = timedelta(hours=1)


def message_id(key: str) -> str:
    """The same Message-ID for every attempt at one notification."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def notification_write(*, key: str, recipients: Iterable[str], subject: str, body: str) -> Notification | None:
    """A pending mail, in the caller's transaction; None if one with this key exists already."""
    row, created = Notification.objects.get_or_create(
        key=key, defaults={"recipients": sorted(set(recipients)), "subject": subject[:300], "body": body})
    return row if created else None


def notification_deliver(notification_id: int) -> bool:
    """Send one pending mail and mark it sent, under its row lock. True if sent now; False if it was
    sent before, is being sent by another process, or failed (recorded on the row for the sweep).
    Database errors propagate (the caller's task retries)."""
    with transaction.atomic():
        row = (Notification.objects.select_for_update(skip_locked=True)
               .filter(pk=notification_id, state=State.PENDING).first())
        if row is None:
            return False
        now = timezone.now()
        row.attempts += 1
        try:
            message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, row.recipients,
                                   headers={"Message-ID": message_id(row.key)})
            message.send()
        except Exception as error:  # SMTP refusals, connection errors, timeouts: all retried later
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                row.state = State.FAILED
                log.error("gave up on mail %s after %d attempts: %s", row.key, row.attempts, row.last_error)
            else:
                wait = timedelta(seconds=settings.OUTBOX_GRACE_SECONDS) * 2 ** (row.attempts - 1)
                row.next_attempt_at = now + min(wait, MAX_BACKOFF)
                log.warning("mail %s not sent (attempt %d): %s", row.key, row.attempts, row.last_error)
            row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            return False
        row.state, row.sent_at, row.last_error = State.SENT, now, ""
        row.save(update_fields=["attempts", "last_error", "state", "sent_at"])
    return True


def notifications_send_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweep: deliver pending mails written at least OUTBOX_GRACE_SECONDS ago (the task after
    commit had its chance) whose backoff has passed, oldest first, at most `limit`. Safe to run
    twice at once: each row is delivered under its lock. Returns how many were sent now."""
    now = now or timezone.now()
    due = (Notification.objects.filter(state=State.PENDING,
                                       created_at__lte=now - timedelta(seconds=settings.OUTBOX_GRACE_SECONDS))
           .exclude(next_attempt_at__gt=now).order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    sent = sum(notification_deliver(pk) for pk in list(due))
    if sent:
        log.info("outbox sweep: sent %d pending mails", sent)
    return sent


def notification_retry(*, actor: object, notification: Notification) -> Notification:
    """"Retry now" (the admin's outbox, the body's managers): a pending or failed mail is made due at
    once — a failed one with a fresh run of OUTBOX_MAX_ATTEMPTS — and sent by a task after commit,
    under its row lock as every send is. Idempotent: retrying a row already due writes nothing more
    than the audit line, two tasks for one row send it once (the second finds it sent), and a sent
    row is refused (WrongState): it is never sent twice."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body retry the outbox's mails."))
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification.pk)
        if row.state == State.SENT:
            raise WrongState(_("This mail was sent already: it is never sent twice."))
        before = row.state
        row.state, row.next_attempt_at = State.PENDING, None
        if before == State.FAILED:
            row.attempts = 0
        row.save(update_fields=["state", "next_attempt_at", "attempts"])
        audit_record(actor=actor, action=AuditAction.NOTIFICATION_RETRIED, subject=row, from_state=before,
                     to_state=row.state, data={"key": row.key, "attempts_before": notification.attempts})
        enqueue_on_commit("endorsement.tasks.deliver_notification", row.pk)
    return row
