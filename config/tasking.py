"""The one way a side effect leaves a transaction: a Celery task enqueued after commit.

Services call `enqueue_on_commit(task, *args)`; nothing is sent if the transaction rolls back, and
with no broker configured (CELERY_TASK_ALWAYS_EAGER) the task runs in-process right after commit.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
