"""With a broker, the signed list of endorsed issuers is signed once per window after registry
changes (config.tasking.EnqueueDebounced), never in the request that changed the registry; with the
broker down, the change stands and the next one schedules the signing again."""

import json
import logging
from collections.abc import Iterator

import kombu.pools
import pytest
import redis
from django.core.cache import cache

from config.celery import app as celery_app
from config.tasking import EnqueueDebounced, enqueued
from endorsement import registry as registry_module
from endorsement.models import TrustListCredential
from endorsement.registry import registry_refresh
from tests.factories import awarding_setup
from tests.integration.faults import broker_of_this_process

pytestmark = pytest.mark.django_db
TASK = "endorsement.tasks.sign_trust_list"
KEY = registry_module._TRUST_LIST_PENDING_KEY


def _reset_broker_connections() -> None:
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_url: str, settings) -> Iterator[redis.Redis]:
    """This process sends tasks to the Redis at TEST_REDIS_URL (emptied first) instead of running
    them; restored afterwards. Yields a client of that Redis to read the queue."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = redis_url, False
    celery_app.conf.update(broker_url=redis_url, task_always_eager=False)
    _reset_broker_connections()
    client = redis.Redis.from_url(redis_url)
    client.delete("default")
    cache.delete(KEY)
    try:
        yield client
    finally:
        celery_app.conf.update(saved)
        _reset_broker_connections()
        client.delete("default")
        cache.delete(KEY)


def _queued(client: redis.Redis) -> list[dict]:
    return [json.loads(m)["headers"] for m in client.lrange("default", 0, -1)]


def test_every_new_registry_version_of_a_window_schedules_one_delayed_signing(
        broker, django_capture_on_commit_callbacks):
    awarding_setup()
    signed = TrustListCredential.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        registry_refresh()  # a new registry version
    [schedule] = enqueued(callbacks, TASK)
    assert schedule == EnqueueDebounced(TASK, KEY, registry_module.TRUST_LIST_DELAY_SECONDS, eager=False)
    for _change in range(3):  # three changes in one window
        schedule()
    queued = _queued(broker)
    assert [h["task"] for h in queued] == [TASK]
    assert queued[0]["eta"]  # delayed by the window
    assert TrustListCredential.objects.count() == signed  # nothing signed in the request
    cache.delete(KEY)  # the key expires a second before the signing runs: the next change schedules another
    schedule()
    assert [h["task"] for h in _queued(broker)] == [TASK, TASK]
    assert registry_module.TRUST_LIST_DELAY_SECONDS > 1


def test_with_the_broker_down_the_change_stands_and_the_slot_is_given_back(caplog):
    cache.delete(KEY)
    awarding_setup()
    signed = TrustListCredential.objects.count()
    # Nothing listens on port 1 of the loopback: every connection is refused at once.
    unreachable = broker_of_this_process("redis://127.0.0.1:1/0", "unreachable")
    with unreachable, caplog.at_level(logging.ERROR, "config.tasking"):
        EnqueueDebounced(TASK, KEY, registry_module.TRUST_LIST_DELAY_SECONDS)()  # must not raise
    assert f"could not schedule {TASK} after commit" in caplog.text
    assert cache.get(KEY) is None  # the next change schedules the signing again
    assert TrustListCredential.objects.count() == signed
