"""Celery tasks of the badges app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from badges import status

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def publish_status_list(status_list_id: int) -> str:
    """Recompute and re-sign one status list; unchanged bits sign nothing. Returns the ETag."""
    return status.status_list_publish(status_list_id).etag
