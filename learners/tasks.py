"""Celery tasks of the learners app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def send_learner_mail(notification_id: int) -> bool:
    """Deliver one learner's link mail (the outbox row written with it); a failed send stays pending
    for the outbox sweep."""
    from endorsement.outbox import notification_deliver

    return notification_deliver(notification_id)
