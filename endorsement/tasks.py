"""Celery tasks of the endorsement app: thin, take ids, safe to run twice."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import OperationalError

from endorsement import checkpoints, notifications, outbox, registry, renewals, services, trust

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, smtplib.SMTPException, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def sign_trust_list() -> str:
    """Sign the list of endorsed issuers if it changed or is a day old (beat, hourly; and after a
    registry refresh that wrote a new snapshot). Idempotent: an unchanged, fresh list signs nothing.
    Returns the list's valid-until time."""
    return trust.trust_list_refresh().valid_until.isoformat()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def refresh_registry() -> str:
    """Re-render the registry entries noted as changed (endorsement.registry.registry_refresh_pending)
    and the organisations and pathways. Idempotent: an unchanged registry writes nothing. Returns
    the snapshot digest."""
    return registry.registry_refresh_pending().digest


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def rebuild_registry() -> str:
    """Re-render every registry entry (beat, daily: the reconciliation that repairs anything a
    change site failed to note). Writes only the entries that differ. Returns the snapshot digest."""
    return registry.registry_refresh().digest


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_notification(event_id: int) -> bool:
    """Send the e-mail an audit event causes, once (keyed by the event)."""
    return notifications.notification_send(event_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def deliver_notification(notification_id: int) -> bool:
    """Send one outbox mail now (a manager's "retry now"); a sent row is left alone."""
    return outbox.notification_deliver(notification_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def send_pending_notifications() -> int:
    """Beat, every RECOVERY_SWEEP_SECONDS: send the outbox's mails still pending after their grace
    period (their task never ran, was killed, or the mail server refused). Never a second mail for
    a sent one. Returns how many were sent now."""
    return outbox.notifications_send_pending()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def expire_endorsements() -> int:
    """Beat: expire endorsements past their end date. Running it twice expires nothing twice."""
    count = services.endorsements_expire_due()
    if count:
        log.info("expired %d endorsements", count)
    return count


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def remind_expiring_endorsements() -> int:
    """Beat (daily): remind the organisation and the managers before an endorsement ends, once per
    threshold of RENEWAL_REMINDER_DAYS. Running it twice reminds nobody twice."""
    count = renewals.endorsement_expiry_reminders()
    if count:
        log.info("sent %d endorsement expiry reminders", count)
    return count


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def sign_endorsement_credential(endorsement_id: int) -> str:
    """Sign the EndorsementCredential of a new endorsement. Idempotent: signed once, returned after."""
    from endorsement.credentials import endorsement_sign

    return endorsement_sign(endorsement_id).credential["id"]


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def remind_issuance_reports() -> int:
    """Beat (daily): remind organisations of issuance reports due and not filed, once per period."""
    from endorsement.reports import issuance_reports_remind_due

    count = issuance_reports_remind_due()
    if count:
        log.info("sent %d issuance report reminders", count)
    return count


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def make_audit_checkpoint() -> int:
    """Beat: sign a checkpoint of the audit chain (endorsement.checkpoints). Running it twice with
    no new event writes nothing. A chain that does not verify is refused and logged as an error."""
    try:
        return checkpoints.checkpoint_make().seq
    except checkpoints.CheckpointError as error:
        log.error("audit checkpoint refused: %s", error)
        raise
