"""The one way a side effect leaves a transaction: a Celery task enqueued after commit.

Services name the task by its dotted path, `enqueue_on_commit("badges.tasks.fetch_evidence", pk)`,
and never import a tasks module: tasks call services, so a service importing its tasks would close an
import circle (tests/test_architecture.py refuses any). The name is resolved when the side effect
runs, as a Celery worker resolves a message's task name. Nothing is sent if the transaction rolls
back, and with no broker configured (CELERY_TASK_ALWAYS_EAGER) the task runs in-process right after
commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from celery import Task
from django.db import transaction


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
        task_named(self.task).delay(*self.args, **self.kwargs)


def enqueue_on_commit(task: str, *args: Any, **kwargs: Any) -> None:
    """After this transaction commits, send the task named `task` with these arguments."""
    task_named(task)  # a misspelt name fails here, in the service, not later in a callback
    transaction.on_commit(Enqueue(task, args, kwargs))


def enqueued(callbacks: list[Any], task: Task | str) -> list[Enqueue]:
    """Of the on-commit callbacks a transaction registered, those that send `task`."""
    name = task if isinstance(task, str) else task.name
    return [c for c in callbacks if isinstance(c, Enqueue) and c.task == name]
