"""With a real Redis broker and a real Celery worker process: publishing through the services
enqueues the registry refresh after commit, and the worker (not this process) renders the snapshot.
The worker reads the same PostgreSQL test database this test writes to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
import pytest
from django.db import connection

from config.celery import app as celery_app
from endorsement import services
from endorsement.models import ApplicationState, Endorsement, RegistrySnapshot
from tests.conftest import REPO_ROOT
from tests.factories import application_in

pytestmark = [pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]
WAIT_SECONDS = 30


def _reset_broker_connections() -> None:
    """Forget pooled broker connections (kombu keeps them in a process-wide registry)."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_url: str, settings) -> Iterator[str]:
    """This process sends tasks to Redis instead of running them eagerly; restored afterwards."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = redis_url, False
    celery_app.conf.update(broker_url=redis_url, task_always_eager=False)
    _reset_broker_connections()
    celery_app.control.purge()  # nothing left over from an earlier run reaches our worker
    try:
        yield redis_url
    finally:
        celery_app.conf.update(saved)
        _reset_broker_connections()


def _test_database_url() -> str:
    """DATABASE_URL, pointed at the database pytest-django created (test_<name>)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def worker(postgres, broker: str, tmp_path: Path) -> Iterator[Path]:
    """A `celery worker` process on the test database and broker; its log file is yielded. It is
    terminated whatever happens in the test."""
    log = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_BROKER_URL": broker,
           "DATABASE_URL": _test_database_url()}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
             "-Q", "default", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--hostname", f"test-{os.getpid()}@%h"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while " ready." not in log.read_text(errors="replace"):
            assert process.poll() is None, f"the worker exited:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"the worker did not start:\n{log.read_text(errors='replace')}"
            time.sleep(0.2)
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_the_worker_refreshes_the_registry_after_a_publication(worker: Path):
    application, cast = application_in(ApplicationState.ENDORSED)
    public_id = str(application.programme.public_id)
    assert not any(public_id in [e["id"] for e in s.entries] for s in RegistrySnapshot.objects.all())

    services.application_publish(actor=cast.manager, application=application)

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        latest = RegistrySnapshot.objects.order_by("-id").first()
        if latest is not None and public_id in [e["id"] for e in latest.entries]:
            break
        assert time.monotonic() < deadline, f"no snapshot shows the programme:\n{worker.read_text()}"
        time.sleep(0.3)

    entry = next(e for e in latest.entries if e["id"] == public_id)
    assert entry["endorsement"]["state"] == "active"
    log = worker.read_text(errors="replace")
    assert "Task endorsement.tasks.refresh_registry[" in log and "succeeded" in log
    assert f"'{latest.digest}'" in log  # the digest the worker returned is the snapshot we read


def test_the_worker_signs_a_new_endorsement_and_its_status_list(worker: Path):
    application, cast = application_in(ApplicationState.IN_REVIEW)
    review = application.reviews.get()
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": c.code, "verdict": "met"} for c in application.criteria_table.criteria.all()])
    services.review_complete(actor=cast.reviewer, review=review)

    endorsement = services.application_endorse(actor=cast.manager, application=application)
    assert endorsement.credential is None  # nothing signed in this process

    deadline = time.monotonic() + WAIT_SECONDS
    while not Endorsement.objects.filter(pk=endorsement.pk, credential__isnull=False).exists():
        assert time.monotonic() < deadline, f"the credential was not signed:\n{worker.read_text()}"
        time.sleep(0.3)
    assert "Task endorsement.tasks.sign_endorsement_credential[" in worker.read_text(errors="replace")
