"""Celery tasks of pathway completion (pathways.completion); idempotent, enqueued on commit."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.db import OperationalError

TRANSIENT = (OperationalError, smtplib.SMTPException, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def recheck_pathway_credentials() -> int:
    """Beat: re-verify the component credentials of issued pathway credentials (the least recently
    checked first); a component that no longer holds is recorded and its organisation mailed, once.
    Returns how many completions have a problem."""
    from pathways.completion import completions_recheck

    return completions_recheck()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def deliver_notification(notification_id: int) -> bool:
    """Send one outbox mail (endorsement.outbox); the outbox sweep retries what this never sends."""
    from endorsement.outbox import notification_deliver

    return notification_deliver(notification_id)
