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
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from endorsement.models import AuditEvent, AuditHead

GENESIS = "0" * 64


class AuditAction(models.TextChoices):
    """Every event code the trail records, with the words people read for it (the code itself stays in
    the chain, the API and every machine output; endorsement.audit_labels shows the words)."""

    ORGANISATION_APPLIED = "organisation.applied", _("Organisation applied for membership")
    ORGANISATION_APPROVED = "organisation.approved", _("Membership approved")
    ORGANISATION_REJECTED = "organisation.rejected", _("Membership refused")
    ORGANISATION_SUSPENDED = "organisation.suspended", _("Membership suspended")
    ORGANISATION_REINSTATED = "organisation.reinstated", _("Membership reinstated")
    ORGANISATION_WITHDRAWN = "organisation.withdrawn", _("Membership withdrawn")
    ORGANISATION_RECIPIENT_NAMES_SET = "organisation.recipient_names_set", _("Learners' names in badges set")
    ORGANISATION_LOGO_SET = "organisation.logo_set", _("Organisation's logo changed")
    STAFF_ADDED = "staff.added", _("Staff member added")
    STAFF_INVITED = "staff.invited", _("Staff member invited")
    STAFF_INVITATION_ACCEPTED = "staff.invitation_accepted", _("Staff invitation accepted")
    STAFF_INVITATION_REVOKED = "staff.invitation_revoked", _("Staff invitation revoked")
    STAFF_INVITATION_EXPIRED = "staff.invitation_expired", _("Staff invitation expired")
    STAFF_ROLE_CHANGED = "staff.role_changed", _("Staff role changed")
    STAFF_REMOVED = "staff.removed", _("Staff member removed")
    CONFLICT_DECLARED = "conflict.declared", _("Conflict of interest declared")
    CRITERIA_TABLE_CREATED = "criteria_table.created", _("Criteria table drafted")
    CRITERIA_TABLE_PUBLISHED = "criteria_table.published", _("Criteria table published")
    CRITERIA_TABLE_RETIRED = "criteria_table.retired", _("Criteria table retired")
    APPLICATION_CREATED = "application.created", _("Application opened")
    APPLICATION_SUBMITTED = "application.submitted", _("Application submitted")
    APPLICATION_RESUBMITTED = "application.resubmitted", _("Application resubmitted")
    APPLICATION_REVIEWER_ASSIGNED = "application.reviewer_assigned", _("Reviewer assigned")
    APPLICATION_REVIEW_STARTED = "application.review_started", _("Review started")
    REVIEW_COMPLETED = "review.completed", _("A review was completed")
    APPLICATION_CHANGES_REQUESTED = "application.changes_requested", pgettext_lazy("audit action", "Changes requested")
    APPLICATION_ENDORSED = "application.endorsed", _("Application endorsed")
    APPLICATION_PUBLISHED = "application.published", _("Published in the registry")
    APPLICATION_REJECTED = "application.rejected", _("Application rejected")
    APPLICATION_WITHDRAWN = "application.withdrawn", _("Application withdrawn")
    ENDORSEMENT_SUSPENDED = "endorsement.suspended", _("Endorsement suspended")
    ENDORSEMENT_REINSTATED = "endorsement.reinstated", _("Endorsement reinstated")
    ENDORSEMENT_REVOKED = "endorsement.revoked", _("Endorsement revoked")
    ENDORSEMENT_EXPIRED = "endorsement.expired", _("Endorsement expired")
    ENDORSEMENT_SIGNED = "endorsement.signed", _("EndorsementCredential signed")
    ENDORSEMENT_STARTED = "endorsement.started", _("Endorsement took effect")
    ENDORSEMENT_SUPERSEDED = "endorsement.superseded", _("Endorsement superseded")
    ENDORSEMENT_EXPIRY_REMINDED = "endorsement.expiry_reminded", _("Reminded of the endorsement's end")
    APPLICATION_REVIEW_DEPTH_SET = "application.review_depth_set", _("Review depth set")
    AWARD_ISSUED = "award.issued", _("Badge issued")
    AWARD_REVOKED = "award.revoked", _("Badge revoked")
    PATHWAY_COMPLETION_OPENED = "pathway_completion.opened", _("Pathway completion opened for a learner")
    PATHWAY_CREDENTIAL_ISSUED = "pathway_completion.issued", _("Pathway credential and learner record issued")
    PATHWAY_COMPONENT_FAILED = "pathway_completion.component_failed", _(
        "A component of an issued pathway credential no longer holds")
    PATHWAY_CREDENTIAL_FLAGGED = "pathway_completion.flagged", _("Pathway credential kept, flagged")
    PATHWAY_CREDENTIAL_REVOKED = "pathway_completion.revoked", _("Pathway credential revoked")
    EVIDENCE_WITHDRAWN = "evidence.withdrawn", _("Evidence withdrawn")
    EVIDENCE_UPLOADED = "evidence.uploaded", _("Evidence file uploaded for a batch")
    AWARD_BATCH_CREATED = "award_batch.created", _("Batch of badges uploaded")
    AWARD_BATCH_RESTARTED = "award_batch.restarted", _("Batch restarted")
    AWARD_BATCH_RESUMED = "award_batch.resumed", _("Stalled batch resumed")
    ISSUANCE_REPORT_FILED = "issuance_report.filed", _("Issuance report filed")
    ISSUANCE_REPORT_CORRECTED = "issuance_report.corrected", _("Issuance report corrected")
    ISSUANCE_REPORT_WITHDRAWN = "issuance_report.withdrawn", _("Issuance report withdrawn")
    ISSUANCE_REPORT_DUE = "issuance_report.due", _("Issuance report due")
    REPORTING_CYCLE_SET = "reporting_cycle.set", _("Reporting cycle set")
    QUALITY_REVIEW_OPENED = "quality_review.opened", _("Quality review opened")
    QUALITY_REVIEW_REVIEWER_ASSIGNED = "quality_review.reviewer_assigned", _("Reviewer assigned to the quality review")
    QUALITY_REVIEW_STARTED = "quality_review.started", _("Quality review started")
    QUALITY_REVIEW_FINDING = "quality_review.finding_recorded", _("Finding recorded")
    QUALITY_REVIEW_CLOSED = "quality_review.closed_no_change", _("Quality review closed: no change")
    QUALITY_REVIEW_CONDITIONS = "quality_review.conditions_imposed", _("Conditions imposed")
    QUALITY_REVIEW_CONDITIONS_MET = "quality_review.conditions_met", _("Conditions met")
    QUALITY_REVIEW_SUSPENDED = "quality_review.suspended", _("Quality review closed: endorsement suspended")
    QUALITY_REVIEW_REVOKED = "quality_review.revoked", _("Quality review closed: endorsement revoked")
    CONCERN_RECEIVED = "concern.received", _("Concern received")
    CONCERN_REVIEW_OPENED = "concern.review_opened", _("Concern taken into a quality review")
    CONCERN_DISMISSED = "concern.dismissed", _("Concern dismissed")
    PATHWAY_CREATED = "pathway.created", _("Pathway created")
    PATHWAY_UPDATED = "pathway.updated", _("Pathway changed")
    PATHWAY_FLAGGED = "pathway.flagged", _("Pathway flagged: a component lost its endorsement")
    PATHWAY_FLAG_CLEARED = "pathway.flag_cleared", _("Pathway flag cleared")
    KEY_ROTATED = "key.rotated", _("Signing key rotated")
    KEY_COMPROMISED = "key.compromised", _("Signing key withdrawn as compromised")
    WEBHOOK_REGISTERED = "webhook.registered", _("Webhook endpoint registered")
    WEBHOOK_CHANGED = "webhook.changed", _("Webhook endpoint changed")
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", _("Webhook secret replaced")
    WEBHOOK_ENABLED = "webhook.enabled", _("Webhook endpoint enabled")
    WEBHOOK_DISABLED = "webhook.disabled", _("Webhook endpoint disabled")
    WEBHOOK_REMOVED = "webhook.removed", _("Webhook endpoint removed")
    AWARD_CLAIMED = "award.claimed", _("Badge claimed by its learner")
    AWARD_HIDDEN = "award.hidden", _("Badge's page made private by its learner")
    AWARD_SHOWN = "award.shown", _("Badge's page made public again by its learner")
    WALLET_ACCESS_GRANTED = "wallet_access.granted", _("Learner allowed a wallet to read their badges")
    WALLET_ACCESS_REVOKED = "wallet_access.revoked", _("Learner revoked a wallet's access")
    WALLET_TOKEN_REVOKED = "wallet_access.token_revoked", _("Wallet revoked its own token")
    NOTIFICATION_RETRIED = "notification.retried", _("Outbox mail sent again by hand")


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
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
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
            return ChainReport(False, checked, expected_seq, _("event #%(seq)s is missing") % {"seq": expected_seq})
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.seq, _("its previous-hash does not match the event before"))
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.seq, _("its content does not match its hash"))
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head and (head.seq != checked or head.hash != expected_prev):
        return ChainReport(False, checked, checked + 1, _("the chain ends before its recorded head (events removed)"))
    return ChainReport(True, checked)


def audit_for(subject: models.Model) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        subject_type=subject._meta.model_name, subject_id=str(subject.pk)
    ).select_related("actor")
