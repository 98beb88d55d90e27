"""Real concurrency for the PostgreSQL tests: callables in threads of their own, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(*work: Callable[[], Any], join_timeout: float = 60) -> list[Any]:
    """Run each callable in its own thread and connection, released at once by a barrier; return
    each one's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def runner(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=20)
            results[i] = fn()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()  # this thread's connection

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results
