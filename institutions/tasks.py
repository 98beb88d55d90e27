"""Celery tasks of the institutions app: thin, take ids, safe to run twice."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.db import OperationalError

TRANSIENT = (OperationalError, smtplib.SMTPException, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_staff_invitation(invitation_id: int, token: str) -> bool:
    """Mail an invitation's single-use link, once (keyed by the invitation)."""
    from institutions.invitation_mail import invitation_mail_send

    return invitation_mail_send(invitation_id, token)
