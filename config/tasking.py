"""The one way a side effect leaves a transaction: a Celery task enqueued after commit.

Services name the task by its dotted path, `enqueue_on_commit("badges.tasks.fetch_evidence", pk)`,
and never import a tasks module: tasks call services, so a service importing its tasks would close an
import circle (tests/test_architecture.py refuses any). The name is resolved when the side effect
runs, as a Celery worker resolves a message's task name. Nothing is sent if the transaction rolls
back, and with no broker configured (CELERY_TASK_ALWAYS_EAGER) the task runs in-process right after
commit.

Sending happens after the commit, so it must never fail the request or the task that committed:
the change is made and the answer must say so. A send that fails (the broker is down) is logged
and left to the recovery sweeps (badges.recovery, endorsement.outbox), which find the work from
the database (a pending mail, a stalled batch, a link never fetched) and do it later.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from celery import Task
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)


def task_named(name: str) -> Task:
    """The Celery task defined at the dotted path `name` ("<module>.<function>")."""
    module, _, attr = name.rpartition(".")
    task = getattr(import_module(module), attr, None) if module else None
    if not isinstance(task, Task):
        raise LookupError(f"{name!r} is not a Celery task")
    return task


@dataclass(frozen=True)
class Enqueue:
    """The on-commit callback that sends one task: which, and with what (tests read these)."""

    task: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __call__(self) -> None:
        task = task_named(self.task)
        try:
            task.delay(*self.args, **self.kwargs)
        except Exception:
            if task.app.conf.task_always_eager:
                raise  # no broker: the task itself failed, in this process; let it show
            log.exception("could not enqueue %s%r after commit; the recovery sweep will do it", self.task, self.args)


def enqueue_on_commit(task: str, *args: Any, **kwargs: Any) -> None:
    """After this transaction commits, send the task named `task` with these arguments. Outside a
    transaction, now. A send that fails is logged, never raised (see above)."""
    task_named(task)  # a misspelt name fails here, in the service, not later in a callback
    transaction.on_commit(Enqueue(task, args, kwargs))


@dataclass(frozen=True)
class EnqueueDebounced:
    """The on-commit callback that sends `task` (no arguments) at most once per `delay` seconds.

    With a broker, the first change of a window claims `key` in the cache (it expires a second
    before the task runs) and schedules the task `delay` seconds later; later changes of the window
    find the key taken and send nothing, since the task reads the database when it runs and so sees
    them. A change committed after the key expired (while the task runs, say) schedules another, so
    none is lost. Without a broker (eager tasks) nothing can run later: the task runs now, unless
    `eager` is False (work whose first reader does it, the change having marked it due)."""

    task: str
    key: str
    delay: int
    eager: bool = True

    def __call__(self) -> None:
        task = task_named(self.task)
        if task.app.conf.task_always_eager:
            if self.eager:
                task.delay()  # no broker: nothing can run later, so now (a failure shows, as in Enqueue)
            return
        try:
            if cache.add(self.key, "1", timeout=max(1, self.delay - 1)):
                task.apply_async(countdown=self.delay)
        except Exception:
            # After commit: never fail the request (above). Give the slot back, so that the next
            # change schedules the task again.
            with contextlib.suppress(Exception):  # the cache itself is down; the log below says so
                cache.delete(self.key)
            log.exception("could not schedule %s after commit", self.task)


def enqueue_debounced_on_commit(task: str, key: str, delay: int, *, eager: bool = True) -> None:
    """After this transaction commits, send the task named `task` once per `delay` seconds at
    most (EnqueueDebounced; `eager=False`: not at all without a broker); outside a transaction, now."""
    task_named(task)
    transaction.on_commit(EnqueueDebounced(task, key, delay, eager))


def enqueued(callbacks: list[Any], task: Task | str) -> list[Enqueue | EnqueueDebounced]:
    """Of the on-commit callbacks a transaction registered, those that send `task`."""
    name = task if isinstance(task, str) else task.name
    return [c for c in callbacks if isinstance(c, Enqueue | EnqueueDebounced) and c.task == name]
