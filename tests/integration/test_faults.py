"""Faults, with real processes killed on purpose (issue 8, "Faults"): a Celery worker SIGKILLed in
a batch chunk, a pool process killed while it mails learners, Redis killed and restarted during a
batch, Redis down while an award is posted, PostgreSQL restarted mid-batch. Each test starts its
own services (tests/integration/faults.py) and checks the end state: every row issued exactly once,
the counts true, every learner mailed exactly once (as the test's SMTP server saw it), every
evidence link fetched. Recovery timings are shortened through the same environment variables a
deployment sets (docs/operations.md, "Failure modes")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db.models import Count

from badges.batches import award_batch_create, rows_from_json
from badges.models import Award, AwardBatch, EvidenceCheck
from bench._setup import evidence_server
from endorsement.models import Notification
from tests.conftest import REPO_ROOT
from tests.factories import api_client, awarding_setup
from tests.integration.faults import (
    Beat,
    PrivateCluster,
    PrivateRedis,
    SmtpSink,
    Worker,
    broker_of_this_process,
    database_url_of_tests,
    running,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def evidence() -> Iterator[str]:
    with evidence_server() as base:
        yield base


@pytest.fixture
def queue() -> str:
    return f"fault-{uuid.uuid4().hex[:8]}"


def _rows(n: int, evidence_base: str | None = None, tag: str = "") -> list:
    return rows_from_json([{"email": f"learner{tag}{i}@example.org", "name": f"Learner {tag}{i}",
                            **({"evidence_url": f"{evidence_base}/work/{tag}{i}"} if evidence_base else {})}
                           for i in range(n)])


def _batch(pk: int) -> AwardBatch:
    return AwardBatch.objects.get(pk=pk)


def _assert_issued_exactly_once(batch: AwardBatch) -> None:
    awards = Award.objects.filter(batch=batch)
    assert batch.state == AwardBatch.State.DONE, (batch.state, batch.error)
    assert awards.count() == batch.total == batch.issued
    assert sorted(awards.values_list("batch_row", flat=True)) == list(range(batch.total))
    emails = awards.values("recipient_email").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in emails)


def _mail_keys(batch: AwardBatch) -> list[str]:
    return [f"award-issued:{p}" for p in Award.objects.filter(batch=batch).values_list("public_id", flat=True)]


def _all_mailed(batch: AwardBatch, smtp: SmtpSink) -> bool:
    keys = _mail_keys(batch)
    sent = Notification.objects.filter(key__in=keys, state=Notification.State.SENT).count()
    return sent == len(keys) and len(smtp.by_recipient()) >= len(keys)


def _assert_each_learner_mailed_once(batch: AwardBatch, smtp: SmtpSink) -> None:
    learners = set(Award.objects.filter(batch=batch).values_list("recipient_email", flat=True))
    counts = smtp.by_recipient()
    assert {email: counts.get(email, 0) for email in learners} == dict.fromkeys(learners, 1)
    assert not Notification.objects.filter(key__in=_mail_keys(batch)).exclude(state=Notification.State.SENT).exists()


# --- 1. A worker SIGKILLed in the middle of a batch chunk -------------------------------------------
@DB
def test_a_batch_whose_worker_is_sigkilled_mid_chunk_finishes_every_row_once(
        postgres, redis_server: PrivateRedis, smtp: SmtpSink, queue: str, tmp_path: Path):
    """The worker and its pool die at once while a chunk is being signed: its message stays
    unacknowledged in Redis. With the visibility timeout set (here 4 s; 900 s by default instead of
    kombu's hour) the next worker is handed it again and the batch completes. The stall sweep is
    switched off here, so the broker's redelivery alone is what is shown."""
    programme, _application, _cast, issuer = awarding_setup()
    env = worker_env(database_url=database_url_of_tests(), broker=redis_server.url, queue=queue,
                     smtp_port=smtp.port, CELERY_VISIBILITY_TIMEOUT_SECONDS=4, BATCH_STALL_SECONDS=3600)
    first = Worker(env, tmp_path / "first.log", queue)
    second = Worker(env, tmp_path / "second.log", queue)
    with running(first, second), broker_of_this_process(redis_server.url, queue):
        first.start()
        batch = award_batch_create(actor=issuer, programme=programme, rows=_rows(300))
        broker = redis.Redis(port=redis_server.port)
        # Once a chunk has committed and the worker holds the next one (taken, not acknowledged).
        wait_for(lambda: _batch(batch.pk).issued >= 100 and broker.hlen("unacked") >= 1, 90, "a chunk in progress",
                 every=0.01, details=first.read_log)
        first.kill()
        killed_at = _batch(batch.pk)
        assert killed_at.issued < killed_at.total and killed_at.state == AwardBatch.State.RUNNING
        assert broker.hlen("unacked") >= 1  # its chunk was taken and is never acknowledged

        second.start()
        wait_for(lambda: _batch(batch.pk).state == AwardBatch.State.DONE, 90, "the batch to finish",
                 details=second.read_log)
        _assert_issued_exactly_once(_batch(batch.pk))
        wait_for(lambda: _all_mailed(batch, smtp), 60, "every learner's mail", details=second.read_log)
    _assert_each_learner_mailed_once(_batch(batch.pk), smtp)


# --- 2. A pool process killed while it sends learners' mails ---------------------------------------
@DB
def test_a_pool_process_killed_while_mailing_learners_loses_no_mail_and_sends_none_twice(
        postgres, redis_server: PrivateRedis, smtp: SmtpSink, queue: str, tmp_path: Path):
    """The SMTP server holds the 10th message unanswered and the pool process sending it is
    SIGKILLed: nine learners have their mail, 21 do not. The message is requeued (not acknowledged
    as lost) and the outbox sweep sends what is still pending: every learner gets exactly one
    mail, the one cut short included, and none of the nine a second."""
    programme, _application, _cast, issuer = awarding_setup()
    env = worker_env(database_url=database_url_of_tests(), broker=redis_server.url, queue=queue,
                     smtp_port=smtp.port, RECOVERY_SWEEP_SECONDS=1, OUTBOX_GRACE_SECONDS=2,
                     OUTBOX_CLAIM_SECONDS=5)  # the killed run's claim on its chunk's mails runs out
    worker = Worker(env, tmp_path / "worker.log", queue)
    beat = Beat(env, tmp_path / "beat.log")
    smtp.hold_at = 10
    with running(worker, beat), broker_of_this_process(redis_server.url, queue):
        worker.start()
        beat.start()
        batch = award_batch_create(actor=issuer, programme=programme, rows=_rows(30))
        assert smtp.held.wait(90), f"no 10th mail reached the SMTP server\n{worker.read_log()}"
        children = worker.pool_children()
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)
        smtp.release.set()
        assert len(smtp.accepted) == 9
        wait_for(lambda: _all_mailed(batch, smtp), 60, "every learner's mail", details=worker.read_log)
        log = worker.read_log()
    _assert_issued_exactly_once(_batch(batch.pk))
    _assert_each_learner_mailed_once(_batch(batch.pk), smtp)
    assert "WorkerLostError" in log or "exited with 'signal 9" in log  # the kill did land in a task
    assert len({m.message_id for m in smtp.accepted}) == 30


# --- 3. Redis killed and restarted (empty) during a batch ------------------------------------------
@DB
def test_redis_killed_and_restarted_during_a_batch_leaves_true_counts_and_every_follow_up_done(
        postgres, redis_server: PrivateRedis, smtp: SmtpSink, evidence: str, queue: str, tmp_path: Path):
    """Redis dies without persistence mid-batch: the queued chunks, mails and evidence fetches are
    gone with it. The chunk running at that moment commits and counts itself; when Redis is back the
    worker and beat reconnect, the sweep resumes the stalled batch, sends the pending mails and
    fetches the links never fetched. Issued equals the awards committed, each learner is mailed
    once, each link fetched."""
    programme, _application, _cast, issuer = awarding_setup()
    env = worker_env(database_url=database_url_of_tests(), broker=redis_server.url, queue=queue,
                     smtp_port=smtp.port, RECOVERY_SWEEP_SECONDS=1, BATCH_STALL_SECONDS=3, OUTBOX_GRACE_SECONDS=2)
    worker = Worker(env, tmp_path / "worker.log", queue)
    beat = Beat(env, tmp_path / "beat.log")
    with running(worker, beat), broker_of_this_process(redis_server.url, queue):
        worker.start()
        beat.start()
        batch = award_batch_create(actor=issuer, programme=programme, rows=_rows(300, evidence))
        wait_for(lambda: _batch(batch.pk).issued >= 100, 90, "the first chunk", every=0.02, details=worker.read_log)
        redis_server.kill()
        wait_for(lambda: "Connection to broker lost" in worker.read_log() or "Cannot connect" in worker.read_log(),
                 30, "the worker to notice", details=worker.read_log)
        during = _batch(batch.pk)
        assert during.issued < during.total
        redis_server.start()  # the same port, empty
        wait_for(lambda: _batch(batch.pk).state in (AwardBatch.State.DONE, AwardBatch.State.FAILED), 120,
                 "the batch to finish", details=lambda: worker.read_log()[-5000:])
        _assert_issued_exactly_once(_batch(batch.pk))
        wait_for(lambda: _all_mailed(batch, smtp), 90, "every learner's mail",
                 details=lambda: worker.read_log()[-5000:])
        wait_for(lambda: not EvidenceCheck.objects.filter(award__batch=batch, last_checked_at__isnull=True).exists(),
                 90, "every evidence link fetched", details=lambda: worker.read_log()[-5000:])
    _assert_each_learner_mailed_once(_batch(batch.pk), smtp)
    checks = EvidenceCheck.objects.filter(award__batch=batch)
    assert checks.count() == 300
    assert set(checks.values_list("standing", flat=True)) == {EvidenceCheck.Standing.REACHABLE}


# --- 4. Redis down while an award and a batch are posted --------------------------------------------
@DB
def test_with_redis_down_a_posted_award_is_answered_as_committed_and_a_retry_awards_nothing_more(
        postgres, redis_server: PrivateRedis, smtp: SmtpSink, evidence: str, queue: str, tmp_path: Path):
    """The broker is down: the award is committed and the answer says so (201, never a 500); the
    same request again with its Idempotency-Key answers the same award; the key on another body is
    refused (422) with nothing written. A batch posted meanwhile is accepted and stays pending. When
    Redis is back, the sweeps start the batch and send every mail and evidence fetch that was never
    enqueued."""
    programme, _application, _cast, issuer = awarding_setup()
    client = api_client(issuer)
    url = f"/api/v1/programmes/{programme.public_id}/awards"
    body = {"recipient_email": "solo@example.org", "recipient_name": "Solo", "evidence_url": f"{evidence}/work/solo"}
    redis_server.kill()
    with broker_of_this_process(redis_server.url, queue):
        first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me-1")
        assert first.status_code == 201, first.content
        assert Award.objects.filter(programme=programme).count() == 1

        again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me-1")
        assert again.status_code == 201 and again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Award.objects.filter(programme=programme).count() == 1

        other = client.post(url, {**body, "recipient_email": "else@example.org"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="retry-me-1")
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
        assert Award.objects.filter(programme=programme).count() == 1
        assert not Notification.objects.filter(recipients__contains=["else@example.org"]).exists()

        posted = client.post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                             [{"email": f"b{i}@example.org", "evidence_url": f"{evidence}/work/b{i}"}
                              for i in range(150)], format="json")
        assert posted.status_code == 201, posted.content
        batch = AwardBatch.objects.get(public_id=posted.json()["public_id"])
        assert batch.state == AwardBatch.State.PENDING and not Award.objects.filter(batch=batch).exists()

        solo = Award.objects.get(public_id=first.json()["public_id"])
        assert Notification.objects.get(key=f"award-issued:{solo.public_id}").state == Notification.State.PENDING

        redis_server.start()
        env = worker_env(database_url=database_url_of_tests(), broker=redis_server.url, queue=queue,
                         smtp_port=smtp.port, RECOVERY_SWEEP_SECONDS=1, BATCH_STALL_SECONDS=3,
                         OUTBOX_GRACE_SECONDS=2)
        worker = Worker(env, tmp_path / "worker.log", queue)
        beat = Beat(env, tmp_path / "beat.log")
        with running(worker, beat):
            worker.start()
            beat.start()
            wait_for(lambda: _batch(batch.pk).state == AwardBatch.State.DONE, 90, "the batch to be started and done",
                     details=worker.read_log)
            _assert_issued_exactly_once(_batch(batch.pk))
            wait_for(lambda: _all_mailed(batch, smtp) and smtp.by_recipient().get("solo@example.org"), 60,
                     "every mail", details=worker.read_log)
            wait_for(lambda: not EvidenceCheck.objects.filter(last_checked_at__isnull=True).exists(), 60,
                     "every evidence link fetched", details=worker.read_log)
    assert smtp.by_recipient()["solo@example.org"] == 1
    _assert_each_learner_mailed_once(_batch(batch.pk), smtp)
    assert EvidenceCheck.objects.get(award=solo).standing == EvidenceCheck.Standing.REACHABLE


# --- 5. PostgreSQL restarted mid-batch --------------------------------------------------------------
def test_a_batch_survives_postgresql_restarted_mid_batch(redis_server: PrivateRedis, smtp: SmtpSink,
                                                          evidence: str, queue: str, tmp_path: Path):
    """A cluster of the test's own, restarted in immediate mode (every backend killed, recovery
    from the WAL) while the worker issues a batch: the chunk tasks retry the lost connection with
    backoff, and the batch completes with every row once and every learner mailed once."""
    cluster = PrivateCluster()
    try:
        cluster.create()
        cluster.sql("CREATE DATABASE endorse", database="postgres")
        env = worker_env(database_url=cluster.url("endorse"), broker=redis_server.url, queue=queue,
                         smtp_port=smtp.port, RECOVERY_SWEEP_SECONDS=1, OUTBOX_GRACE_SECONDS=2)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO_ROOT, env=env,
                       check=True, timeout=180)
        worker = Worker(env, tmp_path / "worker.log", queue)
        beat = Beat(env, tmp_path / "beat.log")
        with running(worker, beat):
            worker.start()
            beat.start()
            driver = subprocess.run([sys.executable, "-m", "tests.integration.fault_driver", "300", evidence],
                                    cwd=REPO_ROOT, env=env, capture_output=True, timeout=180, check=False)
            assert driver.returncode == 0, driver.stderr.decode(errors="replace")[-3000:]
            batch_id = int(driver.stdout.split()[-1])

            def issued() -> tuple:
                return cluster.sql("SELECT state, issued, total FROM badges_awardbatch WHERE id = %s",
                                   (batch_id,))[0]

            wait_for(lambda: issued()[1] >= 100, 90, "the first chunk", every=0.05, details=worker.read_log)
            cluster.restart_immediately()
            _state, count, total = issued()
            assert count < total
            wait_for(lambda: issued()[0] == "done", 120, "the batch to finish",
                     details=lambda: worker.read_log()[-5000:])
            rows = cluster.sql("SELECT count(*), count(DISTINCT batch_row), min(batch_row), max(batch_row) "
                               "FROM badges_award WHERE batch_id = %s", (batch_id,))[0]
            assert rows == (300, 300, 0, 299) and issued() == ("done", 300, 300)
            wait_for(lambda: cluster.sql("SELECT count(*) FROM endorsement_notification WHERE key LIKE "
                                         "'award-issued:%%' AND state = 'sent'")[0][0] == 300, 90,
                     "every learner's mail", details=lambda: worker.read_log()[-5000:])
            log = worker.read_log()
        counts = smtp.by_recipient()
        assert {f"learner{i}@example.org": counts.get(f"learner{i}@example.org", 0) for i in range(300)} == {
            f"learner{i}@example.org": 1 for i in range(300)}
        assert "OperationalError" in log or "terminating connection" in log or "server closed" in log, \
            "the restart did not reach the worker"
    finally:
        cluster.remove()

