"""Celery tasks of the badges app: thin, take ids, safe to run twice."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import OperationalError

from badges import evidence, status
from badges.fetch import FetchPool
from badges.models import Award

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def publish_status_list(status_list_id: int) -> str:
    """Recompute and re-sign one status list; unchanged bits sign nothing. Returns the ETag."""
    return status.status_list_publish(status_list_id).etag


@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def issue_award_batch_chunk(self, batch_id: int, start: int, end: int) -> int:
    """Issue rows [start, end) of an award batch that have no award yet; returns how many were
    issued now. Safe to run twice, and on several workers at once (a unique batch + row). A final
    failure is written on the batch, where its page shows it."""
    from badges import batches

    try:
        return batches.award_batch_issue_chunk(batch_id, start, end)
    except TRANSIENT:
        if self.request.retries >= self.max_retries:
            batches.award_batch_fail(batch_id, f"Rows {start + 1}–{end} could not be issued: the database "
                                               "or a service stayed unavailable.")
        raise
    except Exception as error:
        batches.award_batch_fail(batch_id, f"Rows {start + 1}–{end} could not be issued: {error}")
        raise


@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_award_emails(self, award_ids: list[int]) -> int:
    """Mail each learner the link to their new badge, once per award (the outbox rows written on
    issue), all over one connection to the mail server; returns how many were sent now. A lost
    connection retries the task (the mails sent stay sent; endorsement.outbox.MailServerUnavailable
    is a ConnectionError); a refused mail, or one this task never reaches (killed, never sent),
    stays pending for the outbox sweep. The mails are claimed under this task's id: delivered
    again after its worker was killed (acks_late), it takes back the ones it had claimed at once."""
    from badges.awards import award_emails_send

    return award_emails_send(award_ids, claim=self.request.id or "")


# --- Evidence links (badges.evidence) ---------------------------------------------------------------
# A link that does not answer is a result (standing "gone"), not a task failure: only database and
# mail errors are retried.
EVIDENCE_TRANSIENT = (OperationalError, smtplib.SMTPException)


@shared_task(autoretry_for=EVIDENCE_TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def fetch_evidence(award_id: int) -> str:
    """Fetch an award's evidence link once, on issue. Idempotent: a link fetched before is not
    fetched again. Returns the standing ("" when the award has no evidence link)."""
    check = evidence.evidence_fetch(award_id)
    return check.standing if check else ""


@shared_task(autoretry_for=EVIDENCE_TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def fetch_evidence_group(award_ids: list[int]) -> int:
    """`fetch_evidence` for the awards of a batch chunk, one after another; returns how many of them
    have their link checked (now or before). The organisation is told once per batch, when its last
    link has been fetched (`evidence_notify_batch`), not once per link. A retry (database or mail
    unavailable) fetches only what was not fetched yet. A link whose fetch breaks otherwise is logged
    and left to the beat's re-check (never-checked links first); the others go on."""
    fetched = 0
    with FetchPool() as connections:  # links on one host reuse a kept-alive connection (badges.fetch)
        for award_id in award_ids:
            try:
                check = evidence.evidence_fetch(award_id, notify=False, pool=connections)
            except EVIDENCE_TRANSIENT:
                raise
            except Exception:
                log.exception("first fetch of the evidence of award %s failed", award_id)
                continue
            fetched += check is not None
    batches = set(Award.objects.filter(pk__in=award_ids, batch__isnull=False).values_list("batch_id", flat=True))
    for batch_id in sorted(batches):
        evidence.evidence_notify_batch(batch_id)
    loose = set(Award.objects.filter(pk__in=award_ids, batch__isnull=True).values_list("organisation_id", flat=True))
    for organisation_id in sorted(loose):
        evidence.evidence_notify(organisation_id=organisation_id)
    return fetched


@shared_task(autoretry_for=EVIDENCE_TRANSIENT, retry_backoff=True, max_retries=5)
def recheck_evidence() -> int:
    """Beat: re-check a bounded batch of evidence links due for a check and mail organisations of
    changes. Safe to repeat: nothing is checked twice within the interval, nothing mailed twice."""
    return evidence.evidence_recheck_due()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def recover_stalled_work() -> str:
    """Beat, every RECOVERY_SWEEP_SECONDS: resume stalled batches, fetch evidence links never
    fetched, publish stale status lists (badges.recovery). Safe to run twice at once."""
    from badges.recovery import recover_stalled_work as sweep

    return str(sweep())


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def remove_expired_evidence() -> int:
    """Beat, daily: withdraw the archived evidence of badges that ended (expired or revoked) more
    than EVIDENCE_RETENTION_DAYS ago and delete its bytes (badges.archive); forget files uploaded
    for a batch more than EVIDENCE_UPLOAD_KEEP_DAYS ago (their bytes go unless a badge holds them);
    re-hash the archived copies last verified longest ago. Safe to repeat: a withdrawn copy is never
    due again. Returns how many copies were withdrawn."""
    from badges.archive import blobs_verify_due, evidence_retention_sweep
    from badges.batch_files import evidence_uploads_sweep

    withdrawn = evidence_retention_sweep()
    evidence_uploads_sweep()
    blobs_verify_due()
    return withdrawn


@shared_task(autoretry_for=EVIDENCE_TRANSIENT, retry_backoff=True, retry_backoff_max=300, max_retries=8)
def notify_evidence(organisation_id: int) -> int:
    """Tell an organisation of its evidence links whose standing changed (a single award's link
    that did not answer when it was fetched before signing). Sends nothing twice; a lost task is
    covered by the beat's re-check, which tells every organisation of what is left."""
    return evidence.evidence_notify(organisation_id=organisation_id)
