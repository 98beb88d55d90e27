"""The append-only, hash-chained audit trail.

Each event stores the SHA-256 of the previous event and its own hash over a canonical JSON of its
content and that previous hash. Appending locks the single `AuditHead` row, so concurrent
transactions form one chain in commit order; a rolled-back transaction leaves neither an event
nor a moved head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from endorsement.models import AuditEvent, AuditHead

GENESIS = "0" * 64


class AuditAction(models.TextChoices):
    ORGANISATION_APPLIED = "organisation.applied"
    ORGANISATION_APPROVED = "organisation.approved"
    ORGANISATION_REJECTED = "organisation.rejected"
    ORGANISATION_SUSPENDED = "organisation.suspended"
    ORGANISATION_REINSTATED = "organisation.reinstated"
    ORGANISATION_WITHDRAWN = "organisation.withdrawn"
    ORGANISATION_RECIPIENT_NAMES_SET = "organisation.recipient_names_set"
    STAFF_ADDED = "staff.added"
    STAFF_INVITED = "staff.invited"
    STAFF_INVITATION_ACCEPTED = "staff.invitation_accepted"
    STAFF_INVITATION_REVOKED = "staff.invitation_revoked"
    STAFF_INVITATION_EXPIRED = "staff.invitation_expired"
    STAFF_ROLE_CHANGED = "staff.role_changed"
    STAFF_REMOVED = "staff.removed"
    CONFLICT_DECLARED = "conflict.declared"
    CRITERIA_TABLE_CREATED = "criteria_table.created"
    CRITERIA_TABLE_PUBLISHED = "criteria_table.published"
    CRITERIA_TABLE_RETIRED = "criteria_table.retired"
    APPLICATION_CREATED = "application.created"
    APPLICATION_SUBMITTED = "application.submitted"
    APPLICATION_RESUBMITTED = "application.resubmitted"
    APPLICATION_REVIEWER_ASSIGNED = "application.reviewer_assigned"
    APPLICATION_REVIEW_STARTED = "application.review_started"
    REVIEW_COMPLETED = "review.completed"
    APPLICATION_CHANGES_REQUESTED = "application.changes_requested"
    APPLICATION_ENDORSED = "application.endorsed"
    APPLICATION_PUBLISHED = "application.published"
    APPLICATION_REJECTED = "application.rejected"
    APPLICATION_WITHDRAWN = "application.withdrawn"
    ENDORSEMENT_SUSPENDED = "endorsement.suspended"
    ENDORSEMENT_REINSTATED = "endorsement.reinstated"
    ENDORSEMENT_REVOKED = "endorsement.revoked"
    ENDORSEMENT_EXPIRED = "endorsement.expired"
    ENDORSEMENT_SIGNED = "endorsement.signed"
    ENDORSEMENT_STARTED = "endorsement.started"
    ENDORSEMENT_SUPERSEDED = "endorsement.superseded"
    ENDORSEMENT_EXPIRY_REMINDED = "endorsement.expiry_reminded"
    APPLICATION_REVIEW_DEPTH_SET = "application.review_depth_set"
    AWARD_ISSUED = "award.issued"
    AWARD_REVOKED = "award.revoked"
    EVIDENCE_WITHDRAWN = "evidence.withdrawn"
    AWARD_BATCH_CREATED = "award_batch.created"
    AWARD_BATCH_RESTARTED = "award_batch.restarted"
    AWARD_BATCH_RESUMED = "award_batch.resumed"
    ISSUANCE_REPORT_FILED = "issuance_report.filed"
    ISSUANCE_REPORT_CORRECTED = "issuance_report.corrected"
    ISSUANCE_REPORT_WITHDRAWN = "issuance_report.withdrawn"
    ISSUANCE_REPORT_DUE = "issuance_report.due"
    REPORTING_CYCLE_SET = "reporting_cycle.set"
    QUALITY_REVIEW_OPENED = "quality_review.opened"
    QUALITY_REVIEW_REVIEWER_ASSIGNED = "quality_review.reviewer_assigned"
    QUALITY_REVIEW_STARTED = "quality_review.started"
    QUALITY_REVIEW_FINDING = "quality_review.finding_recorded"
    QUALITY_REVIEW_CLOSED = "quality_review.closed_no_change"
    QUALITY_REVIEW_CONDITIONS = "quality_review.conditions_imposed"
    QUALITY_REVIEW_CONDITIONS_MET = "quality_review.conditions_met"
    QUALITY_REVIEW_SUSPENDED = "quality_review.suspended"
    QUALITY_REVIEW_REVOKED = "quality_review.revoked"
    CONCERN_RECEIVED = "concern.received"
    CONCERN_REVIEW_OPENED = "concern.review_opened"
    CONCERN_DISMISSED = "concern.dismissed"
    KEY_ROTATED = "key.rotated"
    KEY_COMPROMISED = "key.compromised"


def _event_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_repr,
        "action": event.action,
        "subject": f"{event.subject_type}:{event.subject_id}",
        "from": event.from_state,
        "to": event.to_state,
        "comment": event.comment,
        "data": event.data,
        "prev": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    canonical = json.dumps(_event_payload(event), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: Any,
    action: AuditAction,
    subject: models.Model,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction that made the change."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        is_user = actor is not None and getattr(actor, "pk", None) is not None
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now().replace(microsecond=0),
            actor=actor if is_user else None,
            actor_repr=str(actor) if actor is not None else "system",
            action=str(action),
            subject_type=subject._meta.model_name,
            subject_id=str(subject.pk),
            from_state=from_state or "",
            to_state=to_state or "",
            comment=comment or "",
            data=data or {},
            prev_hash=head.hash,
        )
        event.hash = event_hash(event)
        event.save()
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    #: True when the chain verifies on its own but disagrees with a signed checkpoint.
    against_checkpoint: bool = False


def audit_verify() -> ChainReport:
    """Walk the chain in order; report the first event whose link or own hash does not hold."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.seq, "its previous-hash does not match the event before")
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head and (head.seq != checked or head.hash != expected_prev):
        return ChainReport(False, checked, checked + 1, "the chain ends before its recorded head (events removed)")
    return ChainReport(True, checked)


def audit_for(subject: models.Model) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        subject_type=subject._meta.model_name, subject_id=str(subject.pk)
    ).select_related("actor")
