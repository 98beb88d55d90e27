"""Services the integration tests need, found or not: a skip on a developer's machine, a failure
under CI=true (tests.conftest.need)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import need


@pytest.fixture
def redis_url() -> str:
    """A Redis server for the broker, at TEST_REDIS_URL (a database the tests may purge)."""
    url = os.environ.get("TEST_REDIS_URL", "")
    need(bool(url), "needs TEST_REDIS_URL=redis://host:port/db")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        need(False, f"Redis at {url} does not answer: {exc}")
    return url
