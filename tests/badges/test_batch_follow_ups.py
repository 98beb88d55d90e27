"""The work around a batch chunk, done per chunk and in bulk: each chunk reads only its own rows,
its learners are mailed over one SMTP connection (each once, whatever fails), and status lists
are published once per batch (debounced while it runs), revocations at once."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges.awards import award_emails_send, award_revoke
from badges.batches import award_batch_create, award_batch_issue_chunk, batch_rows_data, rows_from_json
from badges.models import Award, AwardBatch, AwardBatchRow, StatusAllocation, StatusList
from badges.status_publish import status_lists_issued_in_batch, status_publish_plan
from badges.tasks import publish_status_list
from config.tasking import enqueued
from endorsement.models import Notification
from endorsement.outbox import MailServerUnavailable, message_id, notifications_send_pending
from tests.factories import awarding_setup
from tests.integration.faults import SmtpSink

pytestmark = pytest.mark.django_db
State = Notification.State


def rows(n):
    return rows_from_json([{"email": f"learner{i}@example.org", "name": f"Learner {i}",
                            "evidence_narrative": "Passed."} for i in range(n)])


def created_batch(capture, n):
    """A batch of `n` rows whose chunk tasks were not run (their callbacks kept, not executed)."""
    programme, _, _, issuer = awarding_setup()
    with capture(execute=False):
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows(n))
    return batch


# --- rows: a chunk reads its own -----------------------------------------------------------------
def test_rows_are_stored_one_per_position_and_a_chunk_reads_only_its_slice(django_capture_on_commit_callbacks):
    batch = created_batch(django_capture_on_commit_callbacks, 5)
    assert list(AwardBatchRow.objects.filter(batch=batch).order_by("index").values_list("index", flat=True)) == [
        0, 1, 2, 3, 4]
    assert [r["recipient_email"] for r in batch_rows_data(batch.pk, 2, 4).values()] == [
        "learner2@example.org", "learner3@example.org"]

    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
        assert award_batch_issue_chunk(batch.pk, 2, 4) == 2
    row_reads = [q["sql"] for q in queries.captured_queries if 'FROM "badges_awardbatchrow"' in q["sql"]]
    assert len(row_reads) == 1 and '"index" >= 2' in row_reads[0] and '"index" < 4' in row_reads[0]
    assert sorted(Award.objects.filter(batch=batch).values_list("batch_row", flat=True)) == [2, 3]
    assert all('"badges_awardbatch"."rows"' not in q["sql"] for q in queries.captured_queries)


def test_a_chunk_run_again_issues_nothing_twice_and_reads_no_rows(django_capture_on_commit_callbacks):
    batch = created_batch(django_capture_on_commit_callbacks, 3)
    with django_capture_on_commit_callbacks(execute=False):
        assert award_batch_issue_chunk(batch.pk, 0, 3) == 3
    awards = set(Award.objects.filter(batch=batch).values_list("public_id", flat=True))
    allocations = StatusAllocation.objects.count()
    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
        assert award_batch_issue_chunk(batch.pk, 0, 3) == 0  # the batch is done: a retry finds nothing to do
        AwardBatch.objects.filter(pk=batch.pk).update(state=AwardBatch.State.RUNNING)  # as if redelivered early
        assert award_batch_issue_chunk(batch.pk, 0, 3) == 0
    assert set(Award.objects.filter(batch=batch).values_list("public_id", flat=True)) == awards
    assert StatusAllocation.objects.count() == allocations  # nothing allocated for rows already issued
    assert not any('FROM "badges_awardbatchrow"' in q["sql"] for q in queries.captured_queries)


# --- learner mails: one connection, each learner once --------------------------------------------
def issued_unmailed(capture, n):
    """A batch of `n` issued, its mails written pending and not sent (the task's callback not run)."""
    batch = created_batch(capture, n)
    Notification.objects.update(state=State.SENT)  # the set-up's own mails (its workflow's events)
    with capture(execute=False) as callbacks:
        award_batch_issue_chunk(batch.pk, 0, n)
    assert enqueued(callbacks, "badges.tasks.send_award_emails")
    ids = list(Award.objects.filter(batch=batch).order_by("batch_row").values_list("pk", flat=True))
    keys = [f"award-issued:{p}" for p in Award.objects.filter(pk__in=ids).order_by("batch_row")
            .values_list("public_id", flat=True)]
    return ids, keys


def smtp_to(settings, sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5


def test_a_chunks_mails_go_over_one_smtp_connection_and_a_second_run_sends_none(
        django_capture_on_commit_callbacks, settings):
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 4)
    with SmtpSink() as sink:
        smtp_to(settings, sink)
        assert award_emails_send(ids) == 4
        assert award_emails_send(ids) == 0
    assert sink.connections == 1
    assert sorted(sink.by_recipient().items()) == [(f"learner{i}@example.org", 1) for i in range(4)]
    assert sorted(m.message_id for m in sink.accepted) == sorted(message_id(k) for k in keys)
    assert list(Notification.objects.filter(key__in=keys).values_list("state", "attempts").distinct()) == [
        (State.SENT, 1)]
    # Each marked with its moment, its claim's backoff and error cleared (a plain UPDATE: _mark_sent).
    for row in Notification.objects.filter(key__in=keys):
        assert (row.last_error, row.next_attempt_at) == ("", None)
        assert row.sent_at is not None and abs(timezone.now() - row.sent_at) < timedelta(minutes=1)


def test_a_chunks_sent_marks_do_not_wait_for_the_disk_and_the_connection_is_reset_after(
        django_capture_on_commit_callbacks, monkeypatch, postgres):
    # Each mark is its own commit; on PostgreSQL they are committed without waiting for the WAL
    # flush while the run sends (endorsement.outbox), and the connection is as before afterwards,
    # also when the run fails.
    from django.core.mail.backends.locmem import EmailBackend

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    seen: list[str] = []
    real = EmailBackend.send_messages

    def send(self, messages):
        seen.append(setting())
        if len(seen) == 5:
            raise ConnectionResetError("the mail server went away")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send)
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 3)
    assert setting() == "on"
    assert award_emails_send(ids) == 3
    assert seen == ["off"] * 3 and setting() == "on"
    more, _keys = issued_unmailed(django_capture_on_commit_callbacks, 3)
    with pytest.raises(MailServerUnavailable):
        award_emails_send(more)
    assert seen == ["off"] * 5 and setting() == "on"
    assert Notification.objects.filter(key__in=keys, state=State.SENT).count() == 3


def test_a_connection_lost_mid_chunk_keeps_the_sent_ones_sent_and_the_rest_are_sent_once_later(
        django_capture_on_commit_callbacks, settings):
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 4)
    with SmtpSink() as sink:
        smtp_to(settings, sink)
        sink.drop_at = 3  # the server goes away while the third message is sent
        with pytest.raises(MailServerUnavailable) as caught:
            award_emails_send(ids)
        assert "2 of 4 mails sent" in str(caught.value)
        assert isinstance(caught.value, ConnectionError)  # what send_award_emails retries
        rows = {n.key: n for n in Notification.objects.filter(key__in=keys)}
        first, second, third, fourth = (rows[k] for k in keys)
        assert (first.state, second.state) == (State.SENT, State.SENT)
        assert third.state == State.PENDING and third.attempts == 1 and third.last_error
        assert third.next_attempt_at > timezone.now()  # backing off, as any failed attempt
        assert fourth.state == State.PENDING and fourth.attempts == 0 and fourth.next_attempt_at is None
        assert sorted(sink.by_recipient()) == ["learner0@example.org", "learner1@example.org"]

        sink.drop_at = None
        assert award_emails_send(ids) == 1  # the task's retry: the one never tried; not the sent ones
        assert notifications_send_pending(now=third.next_attempt_at + timedelta(seconds=1)) == 1  # the sweep
        assert award_emails_send(ids) == 0
    assert sink.by_recipient() == {f"learner{i}@example.org": 1 for i in range(4)}
    assert set(Notification.objects.filter(key__in=keys).values_list("state", flat=True)) == {State.SENT}


def test_mails_claimed_by_a_run_are_not_sent_by_another_meanwhile(django_capture_on_commit_callbacks):
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 2)
    claimed = timezone.now() + timedelta(minutes=10)
    Notification.objects.filter(key=keys[0]).update(attempts=1, next_attempt_at=claimed)  # another run's claim
    assert award_emails_send(ids) == 1
    assert [m.to for m in mail.outbox] == [["learner1@example.org"]]
    first = Notification.objects.get(key=keys[0])
    assert first.state == State.PENDING and first.attempts == 1 and first.next_attempt_at == claimed


class Killed(BaseException):
    """The worker process killed mid-run: nothing after it runs, not even the give-back."""


@contextlib.contextmanager
def before_each_message(monkeypatch, what):
    """`what(count)` runs before the outbox builds each message (count from 1), within the block."""
    from endorsement import outbox

    real_message, built = outbox._message, []

    def message(row):
        built.append(row.key)
        what(len(built))
        return real_message(row)

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_message", message)
        yield


def test_a_mail_task_delivered_again_after_its_worker_was_killed_takes_back_its_claim_at_once(
        django_capture_on_commit_callbacks, monkeypatch):
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 3)

    def killed_at_the_second(count):
        if count == 2:
            raise Killed

    with before_each_message(monkeypatch, killed_at_the_second), pytest.raises(Killed):
        award_emails_send(ids, claim="task-1")
    assert [m.to for m in mail.outbox] == [["learner0@example.org"]]
    # The unsent two stay claimed: another task (and the sweep) leave them until OUTBOX_CLAIM_SECONDS...
    assert award_emails_send(ids, claim="task-2") == 0
    assert notifications_send_pending(now=timezone.now() + timedelta(minutes=5)) == 0
    # ...but the same task, delivered again by the broker, takes them back at once, and sends each once.
    assert award_emails_send(ids, claim="task-1") == 2
    assert sorted(m.to[0] for m in mail.outbox) == [f"learner{i}@example.org" for i in range(3)]
    rows = list(Notification.objects.filter(key__in=keys).order_by("key"))
    assert {r.state for r in rows} == {State.SENT} and sorted(r.attempts for r in rows) == [1, 2, 2]


def test_a_run_whose_claim_another_delivery_took_back_stops_at_its_next_message(
        django_capture_on_commit_callbacks, monkeypatch):
    ids, keys = issued_unmailed(django_capture_on_commit_callbacks, 3)

    def taken_back_while_sending(count):
        if count == 1:  # the broker gave the same task to another worker, which claimed the rows
            Notification.objects.filter(key__in=keys, state=State.PENDING).update(claimed_by="task-1 second")

    with before_each_message(monkeypatch, taken_back_while_sending):
        assert award_emails_send(ids, claim="task-1") == 1  # the message in flight, then it stops
    first = Notification.objects.get(key=keys[0])
    assert first.state == State.SENT
    assert award_emails_send(ids, claim="task-1") == 2
    assert sorted(m.to[0] for m in mail.outbox) == [f"learner{i}@example.org" for i in range(3)]


# --- status lists: once per batch, revocations at once -------------------------------------------
def test_a_chunk_on_a_signed_list_schedules_one_delayed_publish_per_window(settings):
    cache.clear()
    settings.STATUS_PUBLISH_DELAY_SECONDS = 2
    assert status_publish_plan([7, 8], unsigned={8}, eager=False) == [(7, 2), (8, 0)]
    assert status_publish_plan([7, 8], unsigned={8}, eager=False) == []  # within the window: covered
    time.sleep(1.1)  # the slot lasts a second less than the delay
    assert status_publish_plan([7], unsigned=set(), eager=False) == [(7, 2)]
    assert status_publish_plan([9], unsigned=set(), eager=True) == [(9, 0)]  # no broker: now


def test_a_batch_publishes_its_list_when_done_and_a_revocation_at_once(django_capture_on_commit_callbacks):
    cache.clear()
    batch = created_batch(django_capture_on_commit_callbacks, 3)
    with django_capture_on_commit_callbacks(execute=False) as chunk_callbacks:
        award_batch_issue_chunk(batch.pk, 0, 2)
    # The list is new (never signed): the chunk's commit sends its publish at once, not one per chunk.
    assert not enqueued(chunk_callbacks, publish_status_list)
    status_list = StatusList.objects.get(allocations__award__batch=batch, allocations__award__batch_row=0)
    assert status_list.signed_at is None
    with django_capture_on_commit_callbacks(execute=True):
        status_lists_issued_in_batch([status_list.pk])
    status_list.refresh_from_db()
    assert status_list.signed_at is not None  # eager: the never-signed list published now

    with django_capture_on_commit_callbacks(execute=False) as last:
        award_batch_issue_chunk(batch.pk, 2, 3)
    assert AwardBatch.objects.get(pk=batch.pk).state == AwardBatch.State.DONE
    assert [c.args for c in enqueued(last, publish_status_list)] == [(status_list.pk,)]  # the batch is done

    award = Award.objects.filter(batch=batch).first()
    with django_capture_on_commit_callbacks(execute=False) as revoked:
        award_revoke(actor=batch.created_by, award=award, reason="Plagiarism found.")
    assert [c.args for c in enqueued(revoked, publish_status_list)] == [(status_list.pk,)]  # never debounced
