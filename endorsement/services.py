"""Every write of the endorsement workflow: one service per transition.

Each service: opens a transaction, re-reads the row with select_for_update(), checks the state,
the conditions and the actor's permission (raising config.errors, never django-fsm's bare
TransitionNotAllowed), calls the transition, saves, appends an audit event, and registers side
effects (tasks) to run after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Programme
from badges.services import programme_snapshot, snapshot_digest
from config.errors import InvalidInput, NotPermitted, WrongState
from config.fsm import check_transition
from config.tasking import enqueue_on_commit
from endorsement import renewals
from endorsement.audit import AuditAction, audit_record
from endorsement.credentials import publish_status_of
from endorsement.models import (
    OPEN_QUALITY_STATES,
    OPEN_STATES,
    Application,
    ApplicationState,
    CriteriaTable,
    Criterion,
    Endorsement,
    EndorsementState,
    Judgement,
    QualityReviewAssignment,
    Review,
    TableStatus,
    TableSubject,
    Verdict,
)
from endorsement.rules import endorsement_allowed
from endorsement.transitions import locked, notify, refresh_registry_on_commit, run_transition
from institutions.models import ConflictOfInterest, Organisation, StaffMember
from institutions.permissions import can_edit_for, is_body_staff, is_manager
from pathways.flags import flag_pathways_of
from pathways.models import Pathway
from pathways.permissions import can_edit_pathway
from pathways.snapshots import pathway_snapshot


def _required(field: str) -> dict[str, list[str]]:
    return {field: [_("This field is required.")]}


_refresh_registry = refresh_registry_on_commit


# --- Applications ---------------------------------------------------------------------------------
@transaction.atomic
@transaction.atomic
def pathway_application_create(*, actor: Any, pathway: Pathway) -> Application:
    """Open a draft application for a pathway: the same machinery as a programme's. Owners and
    editors of its organisation; for a pathway of the body itself, its managers."""
    if not can_edit_pathway(actor, pathway.organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may apply for certification."))
    return _application_open(actor, "pathway", pathway, _("This pathway already has an open application."))


@transaction.atomic
def application_create(*, actor: Any, programme: Programme) -> Application:
    """Open a draft application for a programme. One open application per programme at a time."""
    if not can_edit_for(actor, programme.organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may apply for certification."))
    return _application_open(actor, "programme", programme, _("This programme already has an open application."))


def _application_open(actor: Any, field: str, subject: Programme | Pathway, already_open: str) -> Application:
    """The draft application for `subject` (under `field`: "programme" or "pathway"), one open at a
    time; for a subject whose endorsement is in force it is a change (a revision)."""
    if Application.objects.filter(**{field: subject}, state__in=OPEN_STATES).exists():
        raise WrongState(already_open)
    revises = renewals.revision_target(subject)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                **{field: subject}, organisation=subject.organisation, created_by=actor, revises=revises
            )
    except IntegrityError:  # a concurrent request opened one first
        raise WrongState(already_open) from None
    data = {field: str(subject.public_id)}
    if revises is not None:
        data.update(kind="change", revises=str(revises.public_id))
    audit_record(actor=actor, action=AuditAction.APPLICATION_CREATED, subject=application,
                 to_state=application.state, data=data)
    return application


def _freeze(application: Application) -> None:
    if application.pathway_id:
        # The pathway row is locked like a programme (pathways.services.pathway_update locks it too).
        pathway = (Pathway.objects.select_for_update(of=("self",)).select_related("organisation")
                   .get(pk=application.pathway_id))
        application.snapshot = pathway_snapshot(pathway)
        application.snapshot_sha256 = snapshot_digest(application.snapshot)
        application.submitted_at = timezone.now()
        return
    # Lock the programme as programme_update does: an edit in flight finishes first and is frozen
    # with it, and an edit that comes after sees the submitted application and is refused.
    programme = (Programme.objects.select_for_update(of=("self",)).select_related("organisation")
                 .get(pk=application.programme_id))
    application.snapshot = programme_snapshot(programme)
    application.snapshot_sha256 = snapshot_digest(application.snapshot)
    application.submitted_at = timezone.now()


@transaction.atomic
def application_submit(*, actor: Any, application: Application) -> Application:
    """Submit a draft: freeze the programme snapshot and pin the published criteria table.
    Side effects: managers are told. Refused for an incomplete programme or an inactive member."""
    application = locked(Application, application.pk)
    subject = TableSubject.PATHWAY if application.pathway_id else TableSubject.PROGRAMME
    table = (CriteriaTable.objects.filter(status=TableStatus.PUBLISHED, subject=subject)
             .order_by("-published_at").first())
    if table is None:
        raise WrongState(_("No criteria table is published; the body cannot accept applications yet."))
    check_transition(application, "submit", actor)
    _freeze(application)
    application.criteria_table = table
    run_transition(application, "submit", actor=actor, action=AuditAction.APPLICATION_SUBMITTED,
                    data={"snapshot_sha256": application.snapshot_sha256, "criteria_table": table.pk})
    return application


@transaction.atomic
def application_resubmit(*, actor: Any, application: Application, comment: str = "") -> Application:
    """Resubmit after changes were requested: refreeze the snapshot and reopen every review
    (reviewers keep their judgements to revise). The pinned criteria table stays the same."""
    application = locked(Application, application.pk)
    check_transition(application, "resubmit", actor)
    _freeze(application)
    run_transition(application, "resubmit", actor=actor, action=AuditAction.APPLICATION_RESUBMITTED,
                    comment=comment, data={"snapshot_sha256": application.snapshot_sha256})
    application.reviews.update(completed_at=None)
    return application


@transaction.atomic
def application_withdraw(*, actor: Any, application: Application, comment: str = "") -> Application:
    application = locked(Application, application.pk)
    run_transition(application, "withdraw", actor=actor, action=AuditAction.APPLICATION_WITHDRAWN,
                    comment=comment)
    return application


def reviewer_conflict(application: Application, reviewer: Any) -> str | None:
    """Why `reviewer` may not review `application`, or None."""
    if not is_body_staff(reviewer):
        return _("%(user)s is not a reviewer or manager of the certification body.") % {"user": reviewer}
    if getattr(application, "pathway_id", None) and application.organisation.is_certification_body:
        # A pathway the body defined itself: every reviewer is its staff, so the conflict is the
        # author's: whoever opened the application does not review it.
        if reviewer.pk == application.created_by_id:
            return _("%(user)s wrote this pathway for the body and may not review it.") % {"user": reviewer}
    elif StaffMember.objects.filter(user=reviewer, organisation_id=application.organisation_id).exists():
        return _("%(user)s is staff of the applying organisation.") % {"user": reviewer}
    if ConflictOfInterest.objects.filter(reviewer=reviewer, organisation_id=application.organisation_id).exists():
        return _("%(user)s declared a conflict of interest with this organisation.") % {"user": reviewer}
    return None


@transaction.atomic
def application_assign_reviewer(*, actor: Any, application: Application, reviewer: Any) -> Review:
    """A manager assigns a reviewer (while submitted or in review). The reviewer is told."""
    application = locked(Application, application.pk)
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body assign reviewers."))
    if application.state not in {ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW}:
        raise WrongState(_("Reviewers can be assigned only to a submitted application or one in review."))
    problem = reviewer_conflict(application, reviewer)
    if problem:
        raise InvalidInput(problem, field_errors={"reviewer": [problem]})
    if application.reviews.filter(reviewer=reviewer).exists():
        raise WrongState(_("%(user)s is already assigned.") % {"user": reviewer})
    review = Review.objects.create(application=application, reviewer=reviewer, assigned_by=actor)
    event = audit_record(actor=actor, action=AuditAction.APPLICATION_REVIEWER_ASSIGNED, subject=application,
                         from_state=application.state, to_state=application.state,
                         data={"reviewer_id": reviewer.pk, "reviewer": str(reviewer)})
    notify(event)
    return review


@transaction.atomic
def application_start_review(*, actor: Any, application: Application) -> Application:
    application = locked(Application, application.pk)
    run_transition(application, "start_review", actor=actor, action=AuditAction.APPLICATION_REVIEW_STARTED)
    return application


def _open_review(review: Review, actor: Any) -> Review:
    review = Review.objects.select_for_update().select_related("application").get(pk=review.pk)
    if review.reviewer_id != getattr(actor, "pk", None):
        raise NotPermitted(_("Only the assigned reviewer may judge in this review."))
    if review.application.state != ApplicationState.IN_REVIEW:
        raise WrongState(_("Judgements can be recorded only while the application is in review."))
    if review.is_complete:
        raise WrongState(_("This review is complete; it reopens if the organisation resubmits."))
    return review


@transaction.atomic
def review_record_judgements(*, actor: Any, review: Review, judgements: list[dict[str, str]]) -> Review:
    """Record or replace judgements: a list of {criterion: code, verdict, comment}. All or nothing."""
    review = _open_review(review, actor)
    criteria = {c.code: c for c in review.application.criteria_table.criteria.all()}
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(judgements):
        code, verdict = item.get("criterion"), item.get("verdict")
        criterion = criteria.get(code)
        if criterion is None:
            errors[f"judgements[{i}].criterion"] = [_("Unknown criterion %(code)r.") % {"code": code}]
        elif verdict not in Verdict.values:
            errors[f"judgements[{i}].verdict"] = [_("Choose one of: %(v)s.") % {"v": ", ".join(Verdict.values)}]
        elif verdict == Verdict.NOT_APPLICABLE and criterion.required:
            errors[f"judgements[{i}].verdict"] = [
                _("%(code)s is required; it cannot be judged not applicable.") % {"code": code}
            ]
    if errors:
        raise InvalidInput(_("Some judgements are invalid; none was recorded."), field_errors=errors)
    for item in judgements:
        Judgement.objects.update_or_create(
            review=review, criterion=criteria[item["criterion"]],
            defaults={"verdict": item["verdict"], "comment": item.get("comment", "")},
        )
    return review


@transaction.atomic
def review_complete(*, actor: Any, review: Review, summary: str = "") -> Review:
    """Complete a review once every criterion of the pinned table has a judgement."""
    review = _open_review(review, actor)
    application = review.application
    judged = set(review.judgements.values_list("criterion__code", flat=True))
    missing = [c.code for c in application.criteria_table.criteria.all() if c.code not in judged]
    if missing:
        raise WrongState(_("Judge every criterion first; missing: %(codes)s.") % {"codes": ", ".join(missing)})
    review.completed_at = timezone.now()
    review.completed_revision = application.revision
    review.summary = summary
    review.save(update_fields=["completed_at", "completed_revision", "summary"])
    audit_record(actor=actor, action=AuditAction.REVIEW_COMPLETED, subject=application,
                 from_state=application.state, to_state=application.state, comment=summary,
                 data={"review_id": review.pk,
                       "verdicts": dict(review.judgements.values_list("criterion__code", "verdict"))})
    return review


@transaction.atomic
def application_request_changes(*, actor: Any, application: Application, message: str) -> Application:
    """Send the application back with a message the organisation sees; it may then resubmit."""
    if not message.strip():
        raise InvalidInput(_("Say what should change."), field_errors=_required("message"))
    application = locked(Application, application.pk)
    check_transition(application, "request_changes", actor)
    application.changes_message = message.strip()
    run_transition(application, "request_changes", actor=actor,
                    action=AuditAction.APPLICATION_CHANGES_REQUESTED, comment=application.changes_message)
    return application


@transaction.atomic
def application_reject(*, actor: Any, application: Application, comment: str) -> Application:
    if not comment.strip():
        raise InvalidInput(_("Give the reason for rejecting."), field_errors=_required("comment"))
    application = locked(Application, application.pk)
    check_transition(application, "reject", actor)
    application.decision_comment = comment.strip()
    application.decided_at = timezone.now()
    run_transition(application, "reject", actor=actor, action=AuditAction.APPLICATION_REJECTED,
                    comment=application.decision_comment)
    return application


@transaction.atomic
def application_endorse(*, actor: Any, application: Application, comment: str = "") -> Endorsement:
    """Endorse: allowed only when the criteria rule holds. Creates the Endorsement and, after
    commit, the signing of its EndorsementCredential. A new application's endorsement is active
    from now for ENDORSEMENT_VALIDITY_DAYS; a renewal's or a change's follows the one it replaces
    (`endorsement.renewals.successor_terms`). Two managers endorsing at once: the row lock
    serialises them and the second gets WrongState."""
    application = locked(Application, application.pk)
    try:
        check_transition(application, "endorse", actor)
    except WrongState as refused:
        _explain_unmet(application, refused)
        raise
    now = timezone.now()
    terms = renewals.successor_terms(application, now=now)
    application.decision_comment = comment.strip()
    application.decided_at = now
    run_transition(application, "endorse", actor=actor, action=AuditAction.APPLICATION_ENDORSED,
                    comment=application.decision_comment, data=terms.as_data())
    try:
        with transaction.atomic():
            endorsement = Endorsement.objects.create(
                application=application, programme_id=application.programme_id, pathway_id=application.pathway_id,
                organisation_id=application.organisation_id, state=terms.state, valid_from=terms.valid_from,
                valid_until=terms.valid_until, version=terms.version, predecessor=terms.predecessor,
                comment=application.decision_comment, decided_by=actor, state_changed_at=now,
            )
    except IntegrityError:  # the partial unique constraints: never two active (or scheduled) at once
        raise WrongState(_("This programme already has an endorsement standing; it was not endorsed twice.")
                         if application.programme_id else
                         _("This pathway already has an endorsement standing; it was not endorsed twice.")) from None
    _after_endorse(endorsement)
    return endorsement


def _explain_unmet(application: Application, refused: WrongState) -> None:
    """A refused endorse in review names each unmet criterion and who judged it so: in the message,
    and machine-readable in `details` (the API's 409 body carries `unmet_criteria` and
    `incomplete_reviews`)."""
    if application.state != ApplicationState.IN_REVIEW:
        return
    result = endorsement_allowed(application)
    if result.allowed:
        return
    refused.message = " ".join([refused.message, *result.reasons])
    refused.args = (refused.message,)
    refused.details = {"unmet_criteria": result.unmet, "incomplete_reviews": result.incomplete}


def _after_endorse(endorsement: Endorsement) -> None:
    """The endorse side effect: the EndorsementCredential is signed after commit, by a task."""

    enqueue_on_commit("endorsement.tasks.sign_endorsement_credential", endorsement.pk)


@transaction.atomic
def application_publish(*, actor: Any, application: Application) -> Application:
    """Publish an endorsed programme on the public registry (refreshed after commit)."""
    application = locked(Application, application.pk)
    run_transition(application, "publish", actor=actor, action=AuditAction.APPLICATION_PUBLISHED)
    now = timezone.now()
    Endorsement.objects.filter(application=application).update(published_at=now)
    # A published change starts now and supersedes the endorsement it revises; a renewal waits for
    # the renewed endorsement's end (the beat task starts it then).
    renewals.endorsement_start_if_due(application.endorsement, now=now)
    _refresh_registry(application.endorsement)
    return application


# --- Endorsement standing -------------------------------------------------------------------------
def _endorsement_transition(endorsement: Endorsement, name: str, *, actor: Any, action: AuditAction,
                            comment: str) -> Endorsement:
    endorsement = locked(Endorsement, endorsement.pk)
    check_transition(endorsement, name, actor)
    endorsement.state_changed_at = timezone.now()
    run_transition(endorsement, name, actor=actor, action=action, comment=comment)
    _refresh_registry(endorsement)
    publish_status_of(endorsement)
    if name in {"suspend", "revoke"}:
        flag_pathways_of(endorsement, actor=actor)
    return endorsement


@transaction.atomic
def endorsement_suspend(*, actor: Any, endorsement: Endorsement, comment: str) -> Endorsement:
    if not comment.strip():
        raise InvalidInput(_("Give the reason for suspending."), field_errors=_required("comment"))
    return _endorsement_transition(endorsement, "suspend", actor=actor,
                                   action=AuditAction.ENDORSEMENT_SUSPENDED, comment=comment)


@transaction.atomic
def endorsement_reinstate(*, actor: Any, endorsement: Endorsement, comment: str = "") -> Endorsement:
    return _endorsement_transition(endorsement, "reinstate", actor=actor,
                                   action=AuditAction.ENDORSEMENT_REINSTATED, comment=comment)


@transaction.atomic
def endorsement_revoke(*, actor: Any, endorsement: Endorsement, comment: str) -> Endorsement:
    if not comment.strip():
        raise InvalidInput(_("Give the reason for revoking."), field_errors=_required("comment"))
    return _endorsement_transition(endorsement, "revoke", actor=actor,
                                   action=AuditAction.ENDORSEMENT_REVOKED, comment=comment)


def endorsements_expire_due(*, now: Any = None) -> int:
    """Expire every active or suspended endorsement past its end. Safe to repeat: an expired row is
    no longer selected, and each row is re-checked under its lock. Returns how many expired."""
    now = now or timezone.now()
    # Renewals due start first: the endorsement they renew ends as superseded, not expired.
    renewals.endorsements_start_due(now=now)
    due = Endorsement.objects.filter(
        state__in=[EndorsementState.ACTIVE, EndorsementState.SUSPENDED], valid_until__lte=now
    ).exclude(
        # A suspended endorsement whose renewal is granted waits for the body's decision: expiring
        # it would let the renewal start as if the suspension had been lifted.
        state=EndorsementState.SUSPENDED, successors__state=EndorsementState.SCHEDULED,
    ).values_list("pk", flat=True)
    expired: list[Endorsement] = []
    for pk in list(due):
        with transaction.atomic():
            endorsement = locked(Endorsement, pk)
            if endorsement.state not in {EndorsementState.ACTIVE, EndorsementState.SUSPENDED}:
                continue
            if (endorsement.state == EndorsementState.SUSPENDED
                    and Endorsement.objects.filter(predecessor=endorsement, state=EndorsementState.SCHEDULED).exists()):
                continue
            endorsement.state_changed_at = now
            run_transition(endorsement, "expire", actor=None, action=AuditAction.ENDORSEMENT_EXPIRED,
                            comment="valid until " + endorsement.valid_until.isoformat())
            if not endorsement.successors.exclude(state=EndorsementState.REVOKED).exists():
                flag_pathways_of(endorsement)  # expired without a renewal or change to follow it
            expired.append(endorsement)
    if expired:
        with transaction.atomic():
            _refresh_registry(*expired)
    return len(expired)


# --- Criteria tables ------------------------------------------------------------------------------
@transaction.atomic
def criteria_table_new_version(*, actor: Any, table: CriteriaTable) -> CriteriaTable:
    """Copy a table (any status) into a new draft version, to edit and publish later."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers edit criteria tables."))
    latest = CriteriaTable.objects.filter(code=table.code).order_by("-version").first()
    draft = CriteriaTable.objects.create(code=table.code, version=latest.version + 1, title_en=table.title_en,
                                         title_ja=table.title_ja, rule=table.rule, subject=table.subject)
    Criterion.objects.bulk_create([
        Criterion(table=draft, code=c.code, position=c.position, required=c.required, title_en=c.title_en,
                  title_ja=c.title_ja, guidance_en=c.guidance_en, guidance_ja=c.guidance_ja)
        for c in table.criteria.all()
    ])
    audit_record(actor=actor, action=AuditAction.CRITERIA_TABLE_CREATED, subject=draft,
                 to_state=draft.status, data={"copied_from": table.pk})
    return draft


@transaction.atomic
def criteria_table_publish(*, actor: Any, table: CriteriaTable) -> CriteriaTable:
    """Publish a draft; the version published before it is retired (applications keep their pin)."""
    table = locked(CriteriaTable, table.pk)
    check_transition(table, "publish", actor)
    if not table.criteria.exists():
        raise WrongState(_("A criteria table needs at least one criterion."))
    published = CriteriaTable.objects.select_for_update().filter(code=table.code, status=TableStatus.PUBLISHED)
    for previous in published:
        run_transition(previous, "retire", actor=actor, action=AuditAction.CRITERIA_TABLE_RETIRED, field="status")
    table.published_at = timezone.now()
    run_transition(table, "publish", actor=actor, action=AuditAction.CRITERIA_TABLE_PUBLISHED, field="status")
    return table


# --- Conflicts of interest ------------------------------------------------------------------------
@transaction.atomic
def conflict_declare(*, actor: Any, organisation: Organisation, reason: str) -> ConflictOfInterest:
    """A reviewer declares a conflict with an organisation; open reviews of its applications, and
    assignments to open quality reviews of its endorsements, that the reviewer has not completed are
    withdrawn from them."""
    if not is_body_staff(actor):
        raise NotPermitted(_("Only reviewers and managers of the body declare conflicts of interest."))
    if not reason.strip():
        raise InvalidInput(_("Give the reason."), field_errors=_required("reason"))
    conflict, _created = ConflictOfInterest.objects.get_or_create(
        reviewer=actor, organisation=organisation, defaults={"reason": reason.strip()}
    )
    Review.objects.filter(
        reviewer=actor, application__organisation=organisation, completed_at__isnull=True,
        application__state__in=[ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW],
    ).delete()
    # The same for the quality reviews of its endorsements (endorsement.quality).
    QualityReviewAssignment.objects.filter(
        reviewer=actor, quality_review__organisation=organisation, completed_at__isnull=True,
        quality_review__state__in=OPEN_QUALITY_STATES,
    ).delete()
    audit_record(actor=actor, action=AuditAction.CONFLICT_DECLARED, subject=organisation,
                 comment=reason.strip())
    return conflict
