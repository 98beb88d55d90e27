"""Continuous quality assurance: between renewals the body reviews an endorsed programme's standing
at any time, and anyone may report a concern from the registry.

Quality reviews (`QualityReview.state`, docs/workflow.md): a manager opens one on an endorsement in
force (active or suspended) with a reason, assigns reviewers under the same conflict-of-interest
rules as an application (`services.reviewer_conflict`), starts it, each reviewer records a finding,
and the manager ends it with no change, conditions to meet by a date (later met, or followed by a
suspension or revocation), a suspension or a revocation. Suspending and revoking go through the
endorsement services, so the registry, the status list and the mark show the new standing as they
do for any change of standing. Every step is audited; one open review per endorsement.

Concerns: a short public form on a programme's registry page (throttled per client address) files a
`Concern`; managers read it in the admin and open a quality review from it or dismiss it. A concern
is never shown publicly.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Programme
from config.errors import DomainError, InvalidInput, NotFound, NotPermitted, WrongState
from config.fsm import check_transition
from endorsement import services
from endorsement.audit import AuditAction, audit_record
from endorsement.models import (
    ApplicationState,
    Concern,
    Endorsement,
    EndorsementState,
    QualityReview,
    QualityReviewAssignment,
    QualityReviewState,
)
from endorsement.registry import registry_refresh_on_commit
from institutions.permissions import UserLike, is_manager

MAX_TEXT = 4_000
MAX_CONCERN = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
QR = QualityReviewState


class TooManyConcerns(DomainError):
    """Throttled: too many concerns from one client address in the window (HTTP 429)."""

    status_code = 429


def _text(value: Any, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(_("This field is required."), field_errors={field: [_("This field is required.")]})
    if len(text) > limit:
        message = _("At most %(max)d characters.") % {"max": limit}
        raise InvalidInput(message, field_errors={field: [message]})
    if _CONTROL.search(text):
        message = _("Remove the control characters.")
        raise InvalidInput(message, field_errors={field: [message]})
    return text


def _locked(review: QualityReview) -> QualityReview:
    return QualityReview.objects.select_for_update().select_related("endorsement", "organisation").get(pk=review.pk)


def _record(review: QualityReview, name: str, *, actor: UserLike, action: AuditAction, comment: str = "",
            data: dict[str, Any] | None = None) -> None:
    """Check, take and record one transition of a locked quality review; the organisation is told
    of decisions (endorsement.notifications)."""
    services.run_transition(review, name, actor=actor, action=action, comment=comment, data=data)


# --- Quality reviews ------------------------------------------------------------------------------
@transaction.atomic
def quality_review_open(*, actor: UserLike, endorsement: Endorsement, reason: Any,
                        concern: Concern | None = None) -> QualityReview:
    """A manager opens a review of an endorsement's standing (active or suspended), with a reason.
    Refused with nothing written: not a manager (403), no reason (400), an endorsement not in force
    or one that already has an open review (409)."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body open quality reviews."))
    reason = _text(reason, "reason")
    endorsement = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
    if endorsement.state not in (EndorsementState.ACTIVE, EndorsementState.SUSPENDED):
        raise WrongState(_("Only an endorsement in force (active or suspended) can be reviewed."))
    if endorsement.pathway_id:  # quality reviews and concerns are about programmes (docs/pathways.md)
        raise WrongState(_("A pathway's endorsement has no quality review: suspend or revoke it directly."))
    try:
        with transaction.atomic():
            review = QualityReview.objects.create(
                endorsement=endorsement, programme_id=endorsement.programme_id,
                organisation_id=endorsement.organisation_id, reason=reason, opened_by=actor,
            )
    except IntegrityError:
        raise WrongState(_("This endorsement already has an open quality review.")) from None
    event = audit_record(actor=actor, action=AuditAction.QUALITY_REVIEW_OPENED, subject=review,
                         to_state=review.state, comment=reason,
                         data={"endorsement": str(endorsement.public_id),
                               "concern": str(concern.public_id) if concern else None})
    services.notify(event)
    return review


def open_review_of(endorsement: Endorsement) -> QualityReview | None:
    return QualityReview.objects.filter(endorsement=endorsement, state__in=[QR.OPEN, QR.IN_REVIEW, QR.CONDITIONS]
                                        ).first()


@transaction.atomic
def quality_review_assign_reviewer(*, actor: UserLike, review: QualityReview, reviewer: Any) -> QualityReviewAssignment:
    """A manager assigns a reviewer while the review is open or in review. The same rules as for an
    application: body staff only, never the organisation's own staff, nobody who declared a conflict
    of interest with it, nobody twice. The reviewer is told."""
    review = _locked(review)
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body assign reviewers."))
    if review.state not in (QR.OPEN, QR.IN_REVIEW):
        raise WrongState(_("Reviewers can be assigned only while the quality review is open or in review."))
    problem = services.reviewer_conflict(review, reviewer)
    if problem:
        raise InvalidInput(problem, field_errors={"reviewer": [problem]})
    if review.assignments.filter(reviewer=reviewer).exists():
        raise WrongState(_("%(user)s is already assigned.") % {"user": reviewer})
    assignment = QualityReviewAssignment.objects.create(quality_review=review, reviewer=reviewer, assigned_by=actor)
    event = audit_record(actor=actor, action=AuditAction.QUALITY_REVIEW_REVIEWER_ASSIGNED, subject=review,
                         from_state=review.state, to_state=review.state,
                         data={"reviewer_id": reviewer.pk, "reviewer": str(reviewer)})
    services.notify(event)
    return assignment


@transaction.atomic
def quality_review_start(*, actor: UserLike, review: QualityReview) -> QualityReview:
    review = _locked(review)
    _record(review, "start_review", actor=actor, action=AuditAction.QUALITY_REVIEW_STARTED)
    return review


@transaction.atomic
def quality_review_record_finding(*, actor: UserLike, assignment: QualityReviewAssignment,
                                  finding: Any) -> QualityReviewAssignment:
    """The assigned reviewer records (or revises) their finding while the review is in review."""
    assignment = (QualityReviewAssignment.objects.select_for_update().select_related("quality_review")
                  .get(pk=assignment.pk))
    if assignment.reviewer_id != getattr(actor, "pk", None):
        raise NotPermitted(_("Only the assigned reviewer may record a finding in this review."))
    review = assignment.quality_review
    if review.state != QR.IN_REVIEW:
        raise WrongState(_("Findings can be recorded only while the quality review is in review."))
    assignment.finding = _text(finding, "finding")
    assignment.completed_at = timezone.now()
    assignment.save(update_fields=["finding", "completed_at"])
    audit_record(actor=actor, action=AuditAction.QUALITY_REVIEW_FINDING, subject=review, from_state=review.state,
                 to_state=review.state, comment=assignment.finding, data={"assignment_id": assignment.pk})
    return assignment


def _decide(review: QualityReview, name: str, *, actor: UserLike, action: AuditAction, comment: str,
            data: dict[str, Any] | None = None) -> QualityReview:
    check_transition(review, name, actor)
    review.decision_comment = comment
    review.decided_at = timezone.now()
    _record(review, name, actor=actor, action=action, comment=comment, data=data)
    return review


@transaction.atomic
def quality_review_close(*, actor: UserLike, review: QualityReview, comment: Any) -> QualityReview:
    """End the review with no change to the endorsement; the comment (required) says why."""
    comment = _text(comment, "comment")
    return _decide(_locked(review), "close_no_change", actor=actor, action=AuditAction.QUALITY_REVIEW_CLOSED,
                   comment=comment)


def _due(value: Any) -> date:
    if isinstance(value, date):
        due = value
    else:
        text = str(value or "").strip()
        if not text:
            raise InvalidInput(_("This field is required."), field_errors={"due": [_("This field is required.")]})
        try:
            due = date.fromisoformat(text)
        except ValueError:
            message = _("Enter a date as YYYY-MM-DD.")
            raise InvalidInput(message, field_errors={"due": [message]}) from None
    if due <= timezone.localdate():
        message = _("The date must be in the future.")
        raise InvalidInput(message, field_errors={"due": [message]})
    return due


@transaction.atomic
def quality_review_impose_conditions(*, actor: UserLike, review: QualityReview, conditions: Any,
                                     due: Any) -> QualityReview:
    """End the review with conditions the organisation must meet by `due` (a future date). The
    endorsement stays in force; the review stays open (state `conditions`) until the manager records
    that they were met, or suspends or revokes."""
    conditions = _text(conditions, "conditions")
    due = _due(due)
    review = _locked(review)
    check_transition(review, "impose_conditions", actor)
    review.conditions, review.conditions_due = conditions, due
    _decide(review, "impose_conditions", actor=actor, action=AuditAction.QUALITY_REVIEW_CONDITIONS,
            comment=conditions, data={"due": due.isoformat()})
    registry_refresh_on_commit(programmes=[review.endorsement.programme_id])
    return review


@transaction.atomic
def quality_review_conditions_met(*, actor: UserLike, review: QualityReview, comment: Any = "") -> QualityReview:
    review = _decide(_locked(review), "conditions_met", actor=actor, action=AuditAction.QUALITY_REVIEW_CONDITIONS_MET,
                     comment=_text(comment, "comment", required=False))
    registry_refresh_on_commit(programmes=[review.endorsement.programme_id])
    return review


@transaction.atomic
def quality_review_suspend(*, actor: UserLike, review: QualityReview, comment: Any) -> QualityReview:
    """End the review by suspending the endorsement (the registry and status list show it). An
    endorsement already suspended stays suspended."""
    comment = _text(comment, "comment")
    review = _locked(review)
    check_transition(review, "suspend", actor)
    if review.endorsement.state != EndorsementState.SUSPENDED:
        services.endorsement_suspend(actor=actor, endorsement=review.endorsement, comment=comment)
    return _decide(review, "suspend", actor=actor, action=AuditAction.QUALITY_REVIEW_SUSPENDED, comment=comment)


@transaction.atomic
def quality_review_revoke(*, actor: UserLike, review: QualityReview, comment: Any) -> QualityReview:
    """End the review by revoking the endorsement (final; the registry and status list show it)."""
    comment = _text(comment, "comment")
    review = _locked(review)
    check_transition(review, "revoke", actor)
    services.endorsement_revoke(actor=actor, endorsement=review.endorsement, comment=comment)
    return _decide(review, "revoke", actor=actor, action=AuditAction.QUALITY_REVIEW_REVOKED, comment=comment)


# --- Concerns -------------------------------------------------------------------------------------
def _throttle_key(address: str) -> str:
    return "concerns:addr:" + hashlib.sha256(address.encode()).hexdigest()


def concern_throttled(address: str) -> bool:
    return (cache.get(_throttle_key(address)) or 0) >= settings.CONCERN_LIMIT


def _count_concern(address: str) -> None:
    key, timeout = _throttle_key(address), max(1, math.ceil(settings.CONCERN_WINDOW.total_seconds()))
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=timeout)


def programme_in_registry(public_id: Any) -> tuple[Programme, Endorsement]:
    """A programme with a published endorsement, and its newest one; 404 otherwise."""
    endorsement = (Endorsement.objects.filter(programme__public_id=public_id,
                                              application__state=ApplicationState.PUBLISHED)
                   .select_related("programme").order_by("-valid_from", "-pk").first())
    if endorsement is None:
        raise NotFound(_("No such programme in the registry."))
    return endorsement.programme, endorsement


def concern_report(*, public_id: Any, message: Any, email: Any = "", address: str) -> Concern:
    """Anyone reports a concern about a programme in the registry. At most CONCERN_LIMIT concerns
    per client address in CONCERN_WINDOW (429 after). Refused with nothing written: no such programme
    (404), an empty or too long message, a malformed e-mail (400), throttled (429). Managers are told."""
    if concern_throttled(address):
        minutes = max(1, math.ceil(settings.CONCERN_WINDOW.total_seconds() / 60))
        raise TooManyConcerns(_("Too many concerns were sent from your address. Please try again in %(minutes)d "
                                "minutes, or write to the body.") % {"minutes": minutes})
    programme, endorsement = programme_in_registry(public_id)
    errors: dict[str, list[str]] = {}
    try:
        text = _text(message, "message", limit=MAX_CONCERN)
    except InvalidInput as refused:
        errors.update(refused.field_errors)
        text = ""
    mail = str(email or "").strip()
    if mail:
        try:
            validate_email(mail)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address, or leave it empty.")]
        if len(mail) > 254:
            errors["email"] = [_("At most %(max)d characters.") % {"max": 254}]
    if errors:
        raise InvalidInput(_("The concern was not sent: correct the fields in error."), field_errors=errors)
    with transaction.atomic():
        concern = Concern.objects.create(programme=programme, endorsement=endorsement, message=text, email=mail,
                                         address_hash=hashlib.sha256(address.encode()).hexdigest())
        event = audit_record(actor=None, action=AuditAction.CONCERN_RECEIVED, subject=concern,
                             to_state=concern.state, data={"programme": str(programme.public_id)})
        services.notify(event)
    _count_concern(address)
    return concern


@transaction.atomic
def concern_open_review(*, actor: UserLike, concern: Concern, reason: Any = "") -> QualityReview:
    """A manager acts on a concern: a quality review of the programme's endorsement is opened (or the
    open one is used) and the concern is linked to it. Returns the review."""
    # of=self: the endorsement is a nullable join, which PostgreSQL cannot lock.
    concern = Concern.objects.select_for_update(of=("self",)).select_related("endorsement").get(pk=concern.pk)
    check_transition(concern, "open_review", actor)
    if concern.endorsement is None:
        raise WrongState(_("This concern is about no endorsement."))
    review = open_review_of(concern.endorsement)
    if review is None:
        reason = str(reason or "").strip() or _("A concern was reported: %(text)s") % {"text": concern.message}
        review = quality_review_open(actor=actor, endorsement=concern.endorsement, reason=reason[:MAX_TEXT],
                                     concern=concern)
    concern.quality_review = review
    concern.handled_by = actor
    concern.handled_comment = str(reason or "").strip()
    services.run_transition(concern, "open_review", actor=actor, action=AuditAction.CONCERN_REVIEW_OPENED,
                            data={"quality_review": review.pk})
    return review


@transaction.atomic
def concern_dismiss(*, actor: UserLike, concern: Concern, comment: Any) -> Concern:
    """A manager dismisses a concern, saying why (kept in the admin, never shown publicly)."""
    comment = _text(comment, "comment")
    concern = Concern.objects.select_for_update().get(pk=concern.pk)
    check_transition(concern, "dismiss", actor)
    concern.handled_by, concern.handled_comment = actor, comment
    services.run_transition(concern, "dismiss", actor=actor, action=AuditAction.CONCERN_DISMISSED, comment=comment)
    return concern
