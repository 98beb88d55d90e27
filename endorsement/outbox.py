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

Many at once (`notifications_deliver_many`: a batch chunk's learners): the pending rows are claimed
in one short transaction (attempts counted, `next_attempt_at` set the setting OUTBOX_CLAIM_SECONDS ahead, so
every other sender skips them meanwhile), sent over ONE connection to the mail server, and each is
marked sent by its own UPDATE as soon as the server accepted it: the window above stays one message.
A message the server refuses is recorded and the others go on; a connection that fails stops the
run: that message is recorded, the ones not reached are given back (due at once) and
`MailServerUnavailable` is raised for the caller's task to retry them. The claim names its run and
the caller's task (`claim`, the Celery task id): when the worker is killed mid-way and the broker
delivers the same task again (acks_late), that delivery takes back the rows its first delivery
claimed at once instead of leaving them to the sweep after OUTBOX_CLAIM_SECONDS, and a run whose
rows were taken back (a delivery still running when the broker gave out its message again) stops at
its next message: the window stays the one message in flight.

Those marks are committed without waiting for the disk (PostgreSQL `synchronous_commit = off` for
the run's connection, reset afterwards): each is visible to every other session at once, so a
worker killed mid-way still leaves one message in flight, but the commit no longer waits for the
WAL flush (3 ms each on the bench machine: 100 learners, 0.3 s of a chunk's mail task). What this
gives up: if the PostgreSQL server itself crashes, marks of the last moments (at most three
`wal_writer_delay`, 0.6 s by default) are lost and those mails go out a second time, with the same
Message-ID.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.db.models import F, Q
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
# What the mail server answers about one message (the connection stays usable): recorded on that
# row, and the next message is sent. Any other error means the connection is gone.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                   smtplib.SMTPNotSupportedError, ValueError, UnicodeError)


class MailServerUnavailable(ConnectionError):
    """The mail server could not be reached or dropped the connection: retry the mails not sent."""


def _due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def _message(row: Notification) -> EmailMessage:
    return EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, row.recipients,
                        headers={"Message-ID": message_id(row.key)})


def _failure_fields(row: Notification, error: BaseException, now: datetime) -> dict:
    """What a failed attempt (already counted in `row.attempts`) records: the error, and the backoff
    before the next attempt or, after OUTBOX_MAX_ATTEMPTS, the end."""
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        row.state = State.FAILED
        log.error("gave up on mail %s after %d attempts: %s", row.key, row.attempts, row.last_error)
    else:
        wait = timedelta(seconds=settings.OUTBOX_GRACE_SECONDS) * 2 ** (row.attempts - 1)
        row.next_attempt_at = now + min(wait, MAX_BACKOFF)
        log.warning("mail %s not sent (attempt %d): %s", row.key, row.attempts, row.last_error)
    return {"last_error": row.last_error, "state": row.state, "next_attempt_at": row.next_attempt_at}


def message_id(key: str) -> str:
    """The same Message-ID for every attempt at one notification."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def notification_write(*, key: str, recipients: Iterable[str], subject: str, body: str) -> Notification | None:
    """A pending mail, in the caller's transaction; None if one with this key exists already."""
    row, created = Notification.objects.get_or_create(
        key=key, defaults={"recipients": sorted(set(recipients)), "subject": subject[:300], "body": body})
    return row if created else None


def notification_deliver(notification_id: int, *, now: datetime | None = None) -> bool:
    """Send one pending mail and mark it sent, under its row lock. True if sent now; False if it was
    sent before, is being sent by another process (locked, or claimed by `notifications_deliver_many`
    until its `next_attempt_at`), or failed (recorded on the row for the sweep). Database errors
    propagate (the caller's task retries). `now`: the sweep's moment (a row backing off until later
    is not due)."""
    with transaction.atomic():
        now = now or timezone.now()
        row = (Notification.objects.select_for_update(skip_locked=True)
               .filter(_due(now), pk=notification_id, state=State.PENDING).first())
        if row is None:
            return False
        row.attempts += 1
        try:
            _message(row).send()
        except Exception as error:  # SMTP refusals, connection errors, timeouts: all retried later
            _failure_fields(row, error, now)
            row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            return False
        row.state, row.sent_at, row.last_error = State.SENT, now, ""
        row.save(update_fields=["attempts", "last_error", "state", "sent_at"])
    return True


def notifications_deliver_many(notification_ids: Sequence[int], *, claim: str = "") -> int:
    """Send these pending mails over one connection to the mail server (see the module's notes);
    returns how many were sent now. Rows sent before, being sent by another process or backing off
    are left alone, but those an earlier run with the same `claim` (the caller's task id) claimed,
    which are taken back. Raises `MailServerUnavailable` when the connection fails, after recording
    that message and giving back those not reached (the ones sent stay sent)."""
    now = timezone.now()
    claim = claim[:80]  # a Celery task id is 36 characters; claimed_by holds 100
    run = f"{claim} {secrets.token_hex(8)}" if claim else secrets.token_hex(8)
    takeable = (_due(now) | Q(claimed_by__startswith=f"{claim} ")) if claim else _due(now)
    with transaction.atomic():
        rows = list(Notification.objects.select_for_update(skip_locked=True)
                    .filter(takeable, pk__in=list(notification_ids), state=State.PENDING).order_by("pk"))
        if not rows:
            return 0
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS),
            claimed_by=run)
    sent, opened = 0, False
    mark_sent = _mark_sent_statement()
    connection = get_connection()
    try:
        _marks_without_waiting_for_disk(True)
        for position, row in enumerate(rows):
            row.attempts += 1
            try:
                if not opened:  # opened here, so send_messages neither opens nor closes it per message
                    connection.open()
                    opened = True
                connection.send_messages([_message(row)])
            except MESSAGE_REFUSED as error:
                Notification.objects.filter(pk=row.pk).update(**_failure_fields(row, error, timezone.now()),
                                                              claimed_by="")
                continue
            except Exception as error:
                Notification.objects.filter(pk=row.pk).update(**_failure_fields(row, error, timezone.now()),
                                                              claimed_by="")
                rest = [r.pk for r in rows[position + 1:]]
                Notification.objects.filter(pk__in=rest, state=State.PENDING, claimed_by=run).update(
                    attempts=F("attempts") - 1, next_attempt_at=None, claimed_by="")
                raise MailServerUnavailable(
                    f"{sent} of {len(rows)} mails sent; then {type(error).__name__}: {error}") from error
            marked = _mark_sent(mark_sent, row.pk, run)
            sent += 1
            if not marked:  # another delivery of the same task took the rows back: it sends the rest
                Notification.objects.filter(pk=row.pk, state=State.PENDING).update(
                    state=State.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None)
                log.warning("mails %s…: taken back by another delivery of task %s after %d sent", rows[0].key,
                            claim, sent)
                break
    finally:
        _marks_without_waiting_for_disk(False)
        try:
            connection.close()
        except Exception:  # a connection already broken: nothing more to close
            log.debug("closing the mail connection failed", exc_info=True)
    return sent


def _mark_sent_statement() -> str:
    """The statement of `_mark_sent`, written once a run: `UPDATE … SET state, sent_at, last_error,
    next_attempt_at WHERE id AND claimed_by`, the names from the model, quoted for the database."""
    meta, quote = Notification._meta, db_connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    return (f"UPDATE {quote(meta.db_table)} SET {column('state')} = %s, {column('sent_at')} = %s, "  # noqa: S608 (names from the model, quoted; values are parameters)
            f"{column('last_error')} = '', {column('next_attempt_at')} = NULL "
            f"WHERE {column('id')} = %s AND {column('claimed_by')} = %s")


def _mark_sent(statement: str, pk: int, run: str) -> int:
    """`Notification.objects.filter(pk=pk, claimed_by=run).update(state=SENT, sent_at=now,
    last_error="", next_attempt_at=None)` as one plain statement (`_mark_sent_statement`; 1 if
    marked): the queryset cost 0.29 ms of CPU to build and compile, half a learner's mail, where
    the statement costs 0.06."""
    with db_connection.cursor() as cursor:
        cursor.execute(statement, [State.SENT.value, db_connection.ops.adapt_datetimefield_value(timezone.now()),
                                   pk, run])
        return cursor.rowcount


def _marks_without_waiting_for_disk(on: bool) -> None:
    """Commits of this connection stop (or resume) waiting for the WAL flush (see the module's
    notes). PostgreSQL only; a broken connection is left as it is (Django discards it)."""
    if db_connection.vendor != "postgresql":
        return
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF" if on else "RESET synchronous_commit")
    except DatabaseError:
        if on:
            raise
        log.debug("resetting synchronous_commit failed", exc_info=True)


def notifications_send_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweep: deliver pending mails written at least OUTBOX_GRACE_SECONDS ago (the task after
    commit had its chance) whose backoff has passed, oldest first, at most `limit`. Safe to run
    twice at once: each row is delivered under its lock. Returns how many were sent now."""
    now = now or timezone.now()
    due = (Notification.objects.filter(state=State.PENDING,
                                       created_at__lte=now - timedelta(seconds=settings.OUTBOX_GRACE_SECONDS))
           .exclude(next_attempt_at__gt=now).order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    sent = sum(notification_deliver(pk, now=now) for pk in list(due))
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
