"""The body's judgement: criteria tables, applications (the state machine), reviews, endorsements,
the audit trail and the public registry snapshot."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from badges.models import Programme
from config.fsm import condition
from institutions.models import MEMBER_ROLES, Organisation
from institutions.permissions import can_edit_for, is_manager, staff_of


def _manager(instance: models.Model, user) -> bool:
    return is_manager(user)


def _editor(instance: models.Model, user) -> bool:
    return can_edit_for(user, instance.organisation)


# --- Criteria tables ------------------------------------------------------------------------------
class TableStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class CriteriaTable(FSMModelMixin, models.Model):
    """One version of a criteria table. A draft is editable; a published one never changes."""

    code = models.SlugField(max_length=40)
    version = models.PositiveIntegerField()
    title_en = models.CharField(max_length=200)
    title_ja = models.CharField(max_length=200, blank=True)
    rule = models.TextField(blank=True)
    status = FSMField(max_length=16, choices=TableStatus.choices, default=TableStatus.DRAFT, protected=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="criteria_table_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(status="published"), name="one_published_version_per_table"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title_en} (v{self.version}, {self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status == TableStatus.DRAFT

    @transition(field=status, source=TableStatus.DRAFT, target=TableStatus.PUBLISHED, permission=_manager)
    def publish(self) -> None:
        pass

    @transition(field=status, source=TableStatus.PUBLISHED, target=TableStatus.RETIRED, permission=_manager)
    def retire(self) -> None:
        pass


class Criterion(models.Model):
    table = models.ForeignKey(CriteriaTable, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(max_length=40)
    position = models.PositiveIntegerField(default=0)
    required = models.BooleanField(default=True)
    title_en = models.CharField(max_length=200)
    title_ja = models.CharField(max_length=200, blank=True)
    guidance_en = models.TextField(blank=True)
    guidance_ja = models.TextField(blank=True)

    class Meta:
        ordering = ["table", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["table", "code"], name="criterion_code_per_table")]

    def __str__(self) -> str:
        return f"{self.code}: {self.title_en}"

    def save(self, *args, **kwargs) -> None:
        # A published or retired table is frozen: reviews pinned to it must keep meaning the same.
        if not CriteriaTable.objects.filter(pk=self.table_id, status=TableStatus.DRAFT).exists():
            raise ValidationError(_("Criteria of a published or retired table cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not CriteriaTable.objects.filter(pk=self.table_id, status=TableStatus.DRAFT).exists():
            raise ValidationError(_("Criteria of a published or retired table cannot be removed."))
        return super().delete(*args, **kwargs)


# --- Applications ---------------------------------------------------------------------------------
class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    ENDORSED = "endorsed", _("Endorsed")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = ApplicationState


class ReviewDepth(models.TextChoices):
    FULL = "full", _("Full review")
    MINOR = "minor", _("Minor change: one reviewer decides")


class ApplicationKind(models.TextChoices):
    NEW = "new", _("New application")
    RENEWAL = "renewal", _("Renewal")
    CHANGE = "change", _("Change to an endorsed programme")
# States in which an application holds its programme: no second application may be opened.
OPEN_STATES = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.ENDORSED]


class Application(FSMModelMixin, models.Model):
    """A request for certification of one programme: the state machine of docs/workflow.md.

    Transition methods only change fields in memory and declare their conditions; the services in
    endorsement.services check permissions, lock the row, save, audit and enqueue side effects.
    """

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    state = FSMField(max_length=24, choices=ApplicationState.choices, default=S.DRAFT, protected=True)
    criteria_table = models.ForeignKey(
        CriteriaTable, on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    snapshot_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    revision = models.PositiveIntegerField(default=0, editable=False)
    changes_message = models.TextField(blank=True)
    decision_comment = models.TextField(blank=True)
    # A renewal names the endorsement it renews; a change application (a revision of an endorsed
    # programme) the endorsement whose version it revises. At most one of the two is set.
    renews = models.ForeignKey(
        "Endorsement", on_delete=models.PROTECT, null=True, blank=True, related_name="renewals"
    )
    revises = models.ForeignKey(
        "Endorsement", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    review_depth = models.CharField(max_length=8, choices=ReviewDepth.choices, default=ReviewDepth.FULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme"], condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_application_per_programme",
            ),
            models.CheckConstraint(condition=Q(renews__isnull=True) | Q(revises__isnull=True),
                                   name="application_renews_or_revises"),
            models.CheckConstraint(condition=Q(review_depth="full") | Q(revises__isnull=False),
                                   name="only_a_change_is_reviewed_as_minor"),
        ]

    def __str__(self) -> str:
        return f"Application #{self.pk} for {self.programme}"

    @property
    def kind(self) -> str:
        if self.renews_id:
            return ApplicationKind.RENEWAL
        if self.revises_id:
            return ApplicationKind.CHANGE
        return ApplicationKind.NEW

    @property
    def replaces(self) -> Endorsement | None:
        """The endorsement this application would replace when endorsed (renewed or revised)."""
        return self.renews or self.revises

    # Conditions are plain functions of the instance, also used by the pages to explain a refusal.
    @condition(_("The programme is incomplete: fill in every required field first."))
    def programme_is_complete(self) -> bool:
        from badges.services import programme_missing_fields

        return not programme_missing_fields(self.programme)

    @condition(_("Only an active member organisation may apply."))
    def organisation_is_active(self) -> bool:
        return self.organisation.is_active_member

    @condition(_("Assign at least one reviewer first."))
    def has_reviewers(self) -> bool:
        return self.reviews.exists()

    @condition(_("Every assigned review must be complete and every required criterion judged met by every reviewer."))
    def criteria_all_met(self) -> bool:
        from endorsement.rules import endorsement_allowed

        return endorsement_allowed(self).allowed

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED,
                conditions=[programme_is_complete, organisation_is_active], permission=_editor)
    def submit(self) -> None:
        self.revision += 1

    @transition(field=state, source=S.CHANGES_REQUESTED, target=S.SUBMITTED,
                conditions=[programme_is_complete, organisation_is_active], permission=_editor)
    def resubmit(self) -> None:
        self.revision += 1

    @transition(field=state, source=S.SUBMITTED, target=S.IN_REVIEW, conditions=[has_reviewers],
                permission=_manager)
    def start_review(self) -> None:
        pass

    @transition(field=state, source=S.IN_REVIEW, target=S.CHANGES_REQUESTED, permission=_manager)
    def request_changes(self) -> None:
        pass

    @transition(field=state, source=S.IN_REVIEW, target=S.ENDORSED, conditions=[criteria_all_met],
                permission=_manager)
    def endorse(self) -> None:
        pass

    @condition(_("The EndorsementCredential is still being signed; publish again in a moment."))
    def credential_signed(self) -> bool:
        endorsement = getattr(self, "endorsement", None)
        return bool(endorsement and endorsement.credential)

    @transition(field=state, source=S.ENDORSED, target=S.PUBLISHED, conditions=[credential_signed],
                permission=_manager)
    def publish(self) -> None:
        pass

    @transition(field=state, source=S.IN_REVIEW, target=S.REJECTED, permission=_manager)
    def reject(self) -> None:
        pass

    @transition(field=state, source=[S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED], target=S.WITHDRAWN,
                permission=_editor)
    def withdraw(self) -> None:
        pass


# --- Reviews --------------------------------------------------------------------------------------
class Review(models.Model):
    """One assigned reviewer's review of an application: a judgement per criterion, then completion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments_made"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The application revision this review was completed against; a resubmission reopens it.
    completed_revision = models.PositiveIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["application", "assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="one_review_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"Review of {self.application} by {self.reviewer}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class Verdict(models.TextChoices):
    MET = "met", _("Met")
    PARTIALLY_MET = "partially_met", _("Partially met")
    NOT_MET = "not_met", _("Not met")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Judgement(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="judgements")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="judgements")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_judgement_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.verdict}"


# --- Endorsements ---------------------------------------------------------------------------------
class EndorsementState(models.TextChoices):
    SCHEDULED = "scheduled", _("Granted, starts later")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


E = EndorsementState


class Endorsement(FSMModelMixin, models.Model):
    """The body's endorsement of one version of a programme, granted by `endorse`. One per
    application (the unique one-to-one is what keeps two simultaneous decisions from granting two).

    A renewal or a change is a new endorsement whose `predecessor` is the one it replaces: one
    successor per endorsement that is not revoked, and at most one active and one scheduled
    endorsement per programme (partial unique constraints), so two never stand side by side."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="endorsement")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="endorsements")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="endorsements")
    state = FSMField(max_length=16, choices=EndorsementState.choices, default=E.ACTIVE, protected=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Filled by the signing task (endorsement.credentials); empty until signed, never faked.
    credential = models.JSONField(null=True, blank=True, editable=False)
    status = models.OneToOneField(
        "badges.StatusAllocation", on_delete=models.PROTECT, null=True, blank=True, related_name="endorsement"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # The endorsement this one renews or revises. One successor each, a revoked one aside (a
    # renewal granted and then revoked before it started leaves the way open for another).
    predecessor = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="successors"
    )
    # The programme version it endorses: 1 for the first endorsed content, +1 whenever an endorsed
    # snapshot differs from the one endorsed before. Names the Achievement id (badges.achievements).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["programme"], condition=Q(state="active"),
                                    name="one_active_endorsement_per_programme"),
            models.UniqueConstraint(fields=["programme"], condition=Q(state="scheduled"),
                                    name="one_scheduled_endorsement_per_programme"),
            models.UniqueConstraint(fields=["predecessor"], condition=~Q(state="revoked"),
                                    name="one_successor_per_endorsement"),
        ]

    def __str__(self) -> str:
        return f"Endorsement of {self.programme} ({self.state})"

    @property
    def successor(self) -> Endorsement | None:
        """The endorsement that renews or revises this one (a revoked one does not count)."""
        return self.successors.exclude(state=E.REVOKED).first()

    @transition(field=state, source=E.SCHEDULED, target=E.ACTIVE)
    def start(self) -> None:
        pass

    @transition(field=state, source=[E.ACTIVE, E.SUSPENDED], target=E.SUPERSEDED)
    def supersede(self) -> None:
        pass

    @transition(field=state, source=E.ACTIVE, target=E.SUSPENDED, permission=_manager)
    def suspend(self) -> None:
        pass

    @transition(field=state, source=E.SUSPENDED, target=E.ACTIVE, permission=_manager)
    def reinstate(self) -> None:
        pass

    @transition(field=state, source=[E.SCHEDULED, E.ACTIVE, E.SUSPENDED], target=E.REVOKED, permission=_manager)
    def revoke(self) -> None:
        pass

    @transition(field=state, source=[E.ACTIVE, E.SUSPENDED], target=E.EXPIRED)
    def expire(self) -> None:
        pass


# --- Audit trail ----------------------------------------------------------------------------------
class AuditEvent(models.Model):
    """One link of the append-only, hash-chained audit trail (endorsement.audit writes it)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=64)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only.")


class AuditHead(models.Model):
    """A single row locked while an event is appended, so concurrent writers form one chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement of the audit chain's length and head hash (endorsement.checkpoints).

    Published at /audit/checkpoints/ for anyone to keep: a checkpoint held outside the database is
    what `verify_audit --against` compares the chain with, so deleting the last events or
    rewriting an event and recomputing the later hashes is found. Append-only, like the events.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    made_at = models.DateTimeField()
    origin = models.CharField(max_length=300)
    verification_method = models.CharField(max_length=400)
    signature = models.CharField(max_length=200)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.seq}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit checkpoints are append-only.")


# --- Notifications and the registry ---------------------------------------------------------------
class Notification(models.Model):
    """A sent e-mail, keyed so that running the notification task twice sends it once."""

    key = models.CharField(max_length=200, unique=True)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class RegistrySnapshot(models.Model):
    """The public registry as rendered by `refresh_registry`; pages read the newest row only."""

    generated_at = models.DateTimeField(auto_now_add=True)
    digest = models.CharField(max_length=64)
    entries = models.JSONField(default=list)
    # One entry per member organisation (profile, membership standing, DID, endorsed programmes).
    organisations = models.JSONField(default=list)

    class Meta:
        ordering = ["-generated_at", "-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"registry snapshot {self.digest[:12]} ({len(self.entries)} entries)"


# --- Issuance figures -----------------------------------------------------------------------------
def _reporter(instance: models.Model, user) -> bool:
    staff = staff_of(user)
    return staff is not None and staff.organisation_id == instance.organisation_id and staff.role in MEMBER_ROLES


class ReportStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    CORRECTED = "corrected", _("Corrected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class IssuanceReport(FSMModelMixin, models.Model):
    """How many badges an organisation issued under an endorsed programme on another platform in a
    period, as the organisation reported it (the body asks members for these figures). The registry
    shows the filed reports beside the count of badges issued by this server. Written by
    `endorsement.reports` only.

    A filed report is never edited: a correction files a new revision (`corrects` points to the old
    one, which becomes `corrected` and stays readable), a withdrawal keeps the row as `withdrawn`.
    Only `filed` reports count."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="issuance_reports",
                                     verbose_name=_("organisation"))
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="issuance_reports",
                                  verbose_name=_("programme"))
    endorsement = models.ForeignKey(Endorsement, on_delete=models.PROTECT, related_name="issuance_reports",
                                    verbose_name=_("endorsement"))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    count = models.PositiveIntegerField(_("badges issued"))
    platform = models.CharField(_("platform"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reported by"))
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    status = FSMField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.FILED,
                      protected=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    corrects = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="corrected_by", verbose_name=_("corrects"))
    # Why it was corrected or withdrawn, by whom and when (empty while filed).
    reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="+", verbose_name=_("status changed by"))

    class Meta:
        ordering = ["-period_end", "-period_start", "platform", "-revision", "id"]
        verbose_name = _("issuance report")
        verbose_name_plural = _("issuance reports")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=0), name="issuance_report_count_not_negative"),
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")),
                                   name="issuance_report_period_in_order"),
            models.UniqueConstraint(fields=["endorsement", "period_start", "period_end", "platform"],
                                    condition=Q(status="filed"),
                                    name="one_filed_issuance_report_per_period_and_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.count} badges of {self.programme} on {self.platform} ({self.period_start}–{self.period_end})"

    @transition(field=status, source=ReportStatus.FILED, target=ReportStatus.CORRECTED, permission=_reporter)
    def correct(self) -> None:
        pass

    @transition(field=status, source=ReportStatus.FILED, target=ReportStatus.WITHDRAWN, permission=_reporter)
    def withdraw(self) -> None:
        pass


class ReportingCycle(models.Model):
    """How often the body expects an organisation's issuance reports: periods of `months` months
    counted from `starts_on`. Set by managers (endorsement.reports.reporting_cycle_set); the beat task
    reminds the organisation of a period that ended without a filed report."""

    class Months(models.IntegerChoices):
        MONTHLY = 1, _("Monthly")
        QUARTERLY = 3, _("Quarterly")
        HALF_YEARLY = 6, _("Every six months")
        YEARLY = 12, _("Yearly")

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="reporting_cycle",
                                        verbose_name=_("organisation"))
    months = models.PositiveSmallIntegerField(_("cycle"), choices=Months.choices, default=Months.YEARLY)
    starts_on = models.DateField(_("first period starts on"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("set by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("reporting cycle")
        verbose_name_plural = _("reporting cycles")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.get_months_display()} from {self.starts_on}"


class IssuanceReportReminder(models.Model):
    """One reminder sent for one programme and one due period; the unique constraint makes the beat
    task send it once however often it runs."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="issuance_report_reminders")
    period_start = models.DateField()
    period_end = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "programme"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "period_start", "period_end"],
                                    name="one_issuance_report_reminder_per_period"),
        ]

    def __str__(self) -> str:
        return f"reminder: {self.programme} {self.period_start}–{self.period_end}"


# --- Continuous quality assurance ----------------------------------------------------------------
class QualityReviewState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_REVIEW = "in_review", _("In review")
    CONDITIONS = "conditions", _("Conditions to meet")
    NO_CHANGE = "no_change", _("Closed: no change")
    CONDITIONS_MET = "conditions_met", _("Closed: conditions met")
    SUSPENDED = "suspended", _("Closed: endorsement suspended")
    REVOKED = "revoked", _("Closed: endorsement revoked")


QR = QualityReviewState
OPEN_QUALITY_STATES = [QR.OPEN, QR.IN_REVIEW, QR.CONDITIONS]


class QualityReview(FSMModelMixin, models.Model):
    """A review of an endorsed programme's standing between renewals (a complaint, a report that
    looks wrong, ...): opened by a manager at any time, reviewed by assigned reviewers under the same
    conflict-of-interest rules as an application, and ended with no change, conditions to meet by a
    date, suspension or revocation of the endorsement. One open review per endorsement at a time.
    Written by endorsement.quality only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endorsement = models.ForeignKey(Endorsement, on_delete=models.PROTECT, related_name="quality_reviews",
                                    verbose_name=_("endorsement"))
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="quality_reviews",
                                  verbose_name=_("programme"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="quality_reviews",
                                     verbose_name=_("organisation"))
    state = FSMField(_("state"), max_length=16, choices=QualityReviewState.choices, default=QR.OPEN,
                     protected=True)
    reason = models.TextField(_("reason for the review"))
    conditions = models.TextField(_("conditions"), blank=True)
    conditions_due = models.DateField(_("conditions to be met by"), null=True, blank=True)
    decision_comment = models.TextField(_("decision"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("quality review")
        verbose_name_plural = _("quality reviews")
        constraints = [
            models.UniqueConstraint(fields=["endorsement"], condition=Q(state__in=["open", "in_review", "conditions"]),
                                    name="one_open_quality_review_per_endorsement"),
        ]

    def __str__(self) -> str:
        return f"Quality review #{self.pk} of {self.programme}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_QUALITY_STATES

    @condition(_("Assign at least one reviewer first."))
    def has_reviewers(self) -> bool:
        return self.assignments.exists()

    @condition(_("Every assigned reviewer must record a finding first."))
    def findings_complete(self) -> bool:
        return self.assignments.exists() and not self.assignments.filter(completed_at__isnull=True).exists()

    @transition(field=state, source=QR.OPEN, target=QR.IN_REVIEW, conditions=[has_reviewers], permission=_manager)
    def start_review(self) -> None:
        pass

    @transition(field=state, source=QR.IN_REVIEW, target=QR.NO_CHANGE, conditions=[findings_complete],
                permission=_manager)
    def close_no_change(self) -> None:
        pass

    @transition(field=state, source=QR.IN_REVIEW, target=QR.CONDITIONS, conditions=[findings_complete],
                permission=_manager)
    def impose_conditions(self) -> None:
        pass

    @transition(field=state, source=QR.CONDITIONS, target=QR.CONDITIONS_MET, permission=_manager)
    def conditions_met(self) -> None:
        pass

    @transition(field=state, source=[QR.IN_REVIEW, QR.CONDITIONS], target=QR.SUSPENDED, permission=_manager)
    def suspend(self) -> None:
        pass

    @transition(field=state, source=[QR.IN_REVIEW, QR.CONDITIONS], target=QR.REVOKED, permission=_manager)
    def revoke(self) -> None:
        pass


class QualityReviewAssignment(models.Model):
    """One reviewer assigned to a quality review, and the finding they record."""

    quality_review = models.ForeignKey(QualityReview, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quality_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    finding = models.TextField(_("finding"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["quality_review", "assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["quality_review", "reviewer"], name="one_assignment_per_quality_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.quality_review}"


class ConcernState(models.TextChoices):
    NEW = "new", _("New")
    REVIEW_OPENED = "review_opened", _("Taken into a review")
    DISMISSED = "dismissed", _("Dismissed")


class Concern(FSMModelMixin, models.Model):
    """A concern anyone reported from a programme's registry page. It reaches the managers' queue in
    the admin and is never shown publicly. Written by endorsement.quality only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="concerns",
                                  verbose_name=_("programme"))
    endorsement = models.ForeignKey(Endorsement, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="concerns", verbose_name=_("endorsement"))
    message = models.TextField(_("concern"))
    email = models.EmailField(_("e-mail"), blank=True)
    # A SHA-256 of the client address: enough to see that many concerns came from one place, not who.
    address_hash = models.CharField(_("client address (SHA-256)"), max_length=64, editable=False)
    state = FSMField(_("state"), max_length=16, choices=ConcernState.choices, default=ConcernState.NEW,
                     protected=True)
    quality_review = models.ForeignKey(QualityReview, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="concerns", verbose_name=_("quality review"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("handled by"))
    handled_comment = models.TextField(_("comment"), blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")

    def __str__(self) -> str:
        return f"Concern #{self.pk} about {self.programme}"

    @transition(field=state, source=ConcernState.NEW, target=ConcernState.REVIEW_OPENED, permission=_manager)
    def open_review(self) -> None:
        pass

    @transition(field=state, source=ConcernState.NEW, target=ConcernState.DISMISSED, permission=_manager)
    def dismiss(self) -> None:
        pass
