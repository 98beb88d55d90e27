"""The one way a side effect leaves a transaction: a Celery task enqueued after commit.

Services call `enqueue_on_commit(task, *args)`; nothing is sent if the transaction rolls back, and
with no broker configured (CELERY_TASK_ALWAYS_EAGER) the task runs in-process right after commit.
`task` is a Celery task or its dotted name (`"institutions.tasks.send_staff_invitation"`), so that a
service need not import the module of the task it starts.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction
from django.utils.module_loading import import_string


def enqueue_on_commit(task: Task | str, *args: Any, **kwargs: Any) -> None:
    def send() -> None:
        resolved = import_string(task) if isinstance(task, str) else task
        resolved.delay(*args, **kwargs)

    transaction.on_commit(send)
