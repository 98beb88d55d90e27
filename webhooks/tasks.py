"""Celery tasks of the webhooks: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from endorsement.outbox import notification_deliver
from webhooks import delivery

TRANSIENT = (OperationalError, ConnectionError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def deliver_webhook(delivery_id: int) -> bool:
    """One attempt at a pending delivery (after commit of what caused it, a replay, or the sweep).
    A delivery sent already, or being sent, is left alone. A failure is recorded on the row, with
    its next attempt for the sweep: the receiver's failures are not Celery retries."""
    return delivery.delivery_send(delivery_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def deliver_due_webhooks() -> int:
    """Beat, every RECOVERY_SWEEP_SECONDS: the retries due, and any first attempt whose task was lost."""
    return delivery.deliveries_send_due()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_endpoint_notice(notification_id: int) -> bool:
    """The mail telling an endpoint's owners it was disabled (an outbox row: sent once)."""
    return notification_deliver(notification_id)
