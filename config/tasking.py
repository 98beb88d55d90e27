"""The one way a side effect leaves a transaction: a Celery task enqueued after commit.

Services call `enqueue_on_commit(task, *args)`; nothing is sent if the transaction rolls back, and
with no broker configured (CELERY_TASK_ALWAYS_EAGER) the task runs in-process right after commit.

Sending happens after the commit, so it must never fail the request or the task that committed:
the change is made and the answer must say so. A send that fails (the broker is down) is logged
and left to the recovery sweeps (badges.recovery, endorsement.outbox), which find the work from
the database (a pending mail, a stalled batch, a link never fetched) and do it later.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    def send() -> None:
        try:
            task.delay(*args, **kwargs)
        except Exception:
            if task.app.conf.task_always_eager:
                raise  # no broker: the task itself failed, in this process; let it show
            log.exception("could not enqueue %s%r after commit; the recovery sweep will do it", task.name, args)

    transaction.on_commit(send)
