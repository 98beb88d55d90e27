"""The recovery sweep of the badges app (beat, every RECOVERY_SWEEP_SECONDS): work the database
says is due but whose task was lost.

Tasks are sent after commit (config.tasking); a send can fail (the broker is down), and a message
can be lost with its worker or with a broker restarted without its data. None of that loses work,
because each kind of work is visible in the database and this sweep does what is left:

* a batch with no progress for BATCH_STALL_SECONDS is resumed (badges.batches);
* an evidence link never fetched, of an award issued more than OUTBOX_GRACE_SECONDS ago and not in
  a batch still being issued, is fetched (badges.evidence; a fetch is done once, so a second send
  fetches nothing);
* a status list never signed, or with a badge revoked after it was signed, is published;
* Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS are forgotten.

Learners' mails are in the outbox of endorsement.outbox, swept by its own task. Every step is
idempotent, so two sweeps at once, or a sweep racing the original task, double no result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from badges.awards import EVIDENCE_GROUP
from badges.batches import award_batches_resume_stalled
from badges.models import AwardBatch, EvidenceCheck, IdempotencyKey, StatusList, StatusPurpose
from config.tasking import enqueue_on_commit

log = logging.getLogger(__name__)
# Most evidence links sent for a first fetch by one sweep.
EVIDENCE_PER_SWEEP = 500


@dataclass(frozen=True)
class Recovered:
    batches: int
    evidence_links: int
    status_lists: int
    keys_forgotten: int

    def __str__(self) -> str:
        return (f"{self.batches} batches resumed, {self.evidence_links} evidence links sent for fetching, "
                f"{self.status_lists} status lists sent for publishing, {self.keys_forgotten} idempotency keys "
                "forgotten")


def evidence_unfetched_send(*, now: datetime) -> int:
    """Send for fetching the links never fetched of awards issued before the grace period."""
    before = now - timedelta(seconds=settings.OUTBOX_GRACE_SECONDS)
    # The links of a batch still being issued wait for it: their fetches are queued behind its chunks
    # (sending them again would only queue duplicates); once it is done or failed, what is left is lost.
    award_ids = list(EvidenceCheck.objects.filter(
        last_checked_at__isnull=True, award__revoked_at__isnull=True, award__issued_at__lte=before,
    ).filter(Q(award__batch__isnull=True) | Q(award__batch__state__in=[AwardBatch.State.DONE,
                                                                         AwardBatch.State.FAILED]))
        .order_by("pk").values_list("award_id", flat=True)[:EVIDENCE_PER_SWEEP])
    for start in range(0, len(award_ids), EVIDENCE_GROUP):
        enqueue_on_commit("badges.tasks.fetch_evidence_group", award_ids[start:start + EVIDENCE_GROUP])
    return len(award_ids)


def status_lists_stale_send() -> int:
    """Send for publishing every list never signed, every revocation list with a badge revoked
    after its signature, and the suspension lists (the body's: few, and their bits follow the
    endorsements' states, which carry no time of change)."""
    stale = (StatusList.objects.filter(
        Q(credential__isnull=True) | Q(signed_at__isnull=True) | Q(purpose=StatusPurpose.SUSPENSION)
        | Q(allocations__award__revoked_at__gt=F("signed_at"))).distinct().order_by("pk")
        .values_list("pk", flat=True))
    ids = list(stale)
    for pk in ids:
        enqueue_on_commit("badges.tasks.publish_status_list", pk)
    return len(ids)


def recover_stalled_work(*, now: datetime | None = None) -> Recovered:
    """One sweep (see the module's docstring)."""
    now = now or timezone.now()
    forgotten, _by_model = IdempotencyKey.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)).delete()
    recovered = Recovered(
        batches=award_batches_resume_stalled(),
        evidence_links=evidence_unfetched_send(now=now),
        status_lists=status_lists_stale_send(),
        keys_forgotten=forgotten,
    )
    if recovered.batches or recovered.evidence_links:
        log.info("recovery sweep: %s", recovered)
    return recovered
