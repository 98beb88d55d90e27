"""The body's judgement: criteria tables, applications (the state machine), reviews, endorsements,
the audit trail and the public registry snapshot."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from badges.models import Programme
from config.fsm import condition
from institutions.models import MEMBER_ROLES, Organisation
from institutions.permissions import can_edit_for, is_manager, staff_of
from pathways.models import Pathway


def _manager(instance: models.Model, user) -> bool:
    return is_manager(user)


def _editor(instance: models.Model, user) -> bool:
    # The body's own pathways are drafted and submitted by its managers (docs/pathways.md).
    if getattr(instance, "pathway_id", None) and instance.organisation.is_certification_body:
        return is_manager(user)
    return can_edit_for(user, instance.organisation)


def same_subject(row: models.Model) -> dict[str, int | None]:
    """Filter arguments for the rows about the same subject as `row` (an application or an
    endorsement): its programme, or its pathway."""
    if getattr(row, "pathway_id", None):
        return {"pathway_id": row.pathway_id}
    return {"programme_id": row.programme_id}


# --- Criteria tables ------------------------------------------------------------------------------
class TableStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class TableSubject(models.TextChoices):
    PROGRAMME = "programme", _("Programmes")
    PATHWAY = "pathway", _("Pathways")


class CriteriaTable(FSMModelMixin, models.Model):
    """One version of a criteria table. A draft is editable; a published one never changes.
    `subject`: what it judges — programmes, or pathways (their own table, docs/pathways.md)."""

    code = models.SlugField(_("code"), max_length=40)
    subject = models.CharField(_("judges"), max_length=16, choices=TableSubject.choices,
                               default=TableSubject.PROGRAMME)
    version = models.PositiveIntegerField(_("version"))
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200, blank=True)
    rule = models.TextField(_("rule"), blank=True)
    status = FSMField(_("status"), max_length=16, choices=TableStatus.choices, default=TableStatus.DRAFT,
                      protected=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("criteria table")
        verbose_name_plural = _("criteria tables")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="criteria_table_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(status="published"), name="one_published_version_per_table"
            ),
        ]

    def __str__(self) -> str:
        title = (self.title_ja or self.title_en) if (get_language() or "").startswith("ja") else self.title_en
        return gettext("%(title)s (version %(version)s, %(status)s)") % {
            "title": title, "version": self.version, "status": self.get_status_display()}

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
    table = models.ForeignKey(CriteriaTable, verbose_name=_("criteria table"), on_delete=models.CASCADE,
                              related_name="criteria")
    code = models.CharField(_("code"), max_length=40)
    position = models.PositiveIntegerField(_("position"), default=0)
    required = models.BooleanField(_("required"), default=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_ja = models.CharField(_("title (Japanese)"), max_length=200, blank=True)
    guidance_en = models.TextField(_("guidance (English)"), blank=True)
    guidance_ja = models.TextField(_("guidance (Japanese)"), blank=True)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
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

    def _in_language(self, field: str) -> str:
        """`field_ja` for a reader in Japanese when filled, else `field_en` (and the reverse)."""
        first, second = ("ja", "en") if (get_language() or "").startswith("ja") else ("en", "ja")
        return getattr(self, f"{field}_{first}") or getattr(self, f"{field}_{second}")

    @property
    def title(self) -> str:
        """The title in the reader's language (the active translation), else the other one."""
        return self._in_language("title")

    @property
    def guidance(self) -> str:
        """The guidance in the reader's language, else the other one."""
        return self._in_language("guidance")

    @property
    def shown_lang(self) -> str:
        """The language `title` is in ("ja" or "en"), for a `lang` attribute."""
        if (get_language() or "").startswith("ja"):
            return "ja" if self.title_ja else "en"
        return "en" if self.title_en else "ja"


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
    """A request for certification of one programme — or of one pathway (exactly one of the two is
    set; docs/pathways.md): the state machine of docs/workflow.md.

    Transition methods only change fields in memory and declare their conditions; the services in
    endorsement.services check permissions, lock the row, save, audit and enqueue side effects.
    """

    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT,
                                  related_name="applications", null=True, blank=True)
    pathway = models.ForeignKey(Pathway, verbose_name=_("pathway"), on_delete=models.PROTECT,
                                related_name="applications", null=True, blank=True)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="applications")
    state = FSMField(_("state"), max_length=24, choices=ApplicationState.choices, default=S.DRAFT, protected=True)
    criteria_table = models.ForeignKey(
        CriteriaTable, verbose_name=_("criteria table"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="applications",
    )
    snapshot = models.JSONField(_("frozen snapshot"), null=True, blank=True, editable=False)
    snapshot_sha256 = models.CharField(_("snapshot SHA-256"), max_length=64, blank=True, editable=False)
    revision = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    changes_message = models.TextField(_("changes requested"), blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    # A renewal names the endorsement it renews; a change application (a revision of an endorsed
    # programme) the endorsement whose version it revises. At most one of the two is set.
    renews = models.ForeignKey(
        "Endorsement", verbose_name=_("renews"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="renewals",
    )
    revises = models.ForeignKey(
        "Endorsement", verbose_name=_("revises"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="revisions",
    )
    review_depth = models.CharField(_("review depth"), max_length=8, choices=ReviewDepth.choices,
                                    default=ReviewDepth.FULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
        related_name="applications_created",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme"], condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_application_per_programme",
            ),
            models.UniqueConstraint(
                fields=["pathway"], condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_application_per_pathway",
            ),
            models.CheckConstraint(
                condition=Q(programme__isnull=False, pathway__isnull=True)
                | Q(programme__isnull=True, pathway__isnull=False),
                name="application_programme_or_pathway",
            ),
            models.CheckConstraint(condition=Q(renews__isnull=True) | Q(revises__isnull=True),
                                   name="application_renews_or_revises"),
            models.CheckConstraint(condition=Q(review_depth="full") | Q(revises__isnull=False),
                                   name="only_a_change_is_reviewed_as_minor"),
        ]

    def __str__(self) -> str:
        return gettext("Application #%(pk)s for %(programme)s") % {"pk": self.pk, "programme": self.subject}

    @property
    def subject(self) -> Programme | Pathway:
        """What the application is for: its programme, or its pathway."""
        return self.programme if self.programme_id else self.pathway

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
        if self.pathway_id:
            from pathways.snapshots import pathway_missing_fields

            return not pathway_missing_fields(self.pathway)
        from badges.services import programme_missing_fields

        return not programme_missing_fields(self.programme)

    @condition(_("Only an active member organisation may apply."))
    def organisation_is_active(self) -> bool:
        # The body may define pathways of its own and have them reviewed (docs/pathways.md).
        if self.pathway_id and self.organisation.is_certification_body:
            return True
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

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT,
                                 related_name="reviews")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT,
        related_name="review_assignments_made",
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # The application revision this review was completed against; a resubmission reopens it.
    completed_revision = models.PositiveIntegerField(_("completed for revision"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["application", "assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="one_review_per_reviewer")
        ]

    def __str__(self) -> str:
        return gettext("Review of %(application)s by %(reviewer)s") % {
            "application": self.application, "reviewer": self.reviewer}

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class Verdict(models.TextChoices):
    MET = "met", _("Met")
    PARTIALLY_MET = "partially_met", _("Partially met")
    NOT_MET = "not_met", _("Not met")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Judgement(models.Model):
    review = models.ForeignKey(Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="judgements")
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT,
                                  related_name="judgements")
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("judgement")
        verbose_name_plural = _("judgements")
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

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    application = models.OneToOneField(Application, verbose_name=_("application"), on_delete=models.PROTECT,
                                       related_name="endorsement")
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT,
                                  related_name="endorsements", null=True, blank=True)
    pathway = models.ForeignKey(Pathway, verbose_name=_("pathway"), on_delete=models.PROTECT,
                                related_name="endorsements", null=True, blank=True)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="endorsements")
    state = FSMField(_("state"), max_length=16, choices=EndorsementState.choices, default=E.ACTIVE, protected=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT,
                                   related_name="+")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)
    # Filled by the signing task (endorsement.credentials); empty until signed, never faked.
    credential = models.JSONField(_("signed EndorsementCredential"), null=True, blank=True, editable=False)
    status = models.OneToOneField(
        "badges.StatusAllocation", verbose_name=_("status list entry"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="endorsement",
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # The endorsement this one renews or revises. One successor each, a revoked one aside (a
    # renewal granted and then revoked before it started leaves the way open for another).
    predecessor = models.ForeignKey(
        "self", verbose_name=_("predecessor"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="successors",
    )
    # The programme version it endorses: 1 for the first endorsed content, +1 whenever an endorsed
    # snapshot differs from the one endorsed before. Names the Achievement id (badges.achievements).
    version = models.PositiveIntegerField(_("programme version"), default=1)

    class Meta:
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")
        ordering = ["-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["programme"], condition=Q(state="active"),
                                    name="one_active_endorsement_per_programme"),
            models.UniqueConstraint(fields=["programme"], condition=Q(state="scheduled"),
                                    name="one_scheduled_endorsement_per_programme"),
            models.UniqueConstraint(fields=["pathway"], condition=Q(state="active"),
                                    name="one_active_endorsement_per_pathway"),
            models.UniqueConstraint(fields=["pathway"], condition=Q(state="scheduled"),
                                    name="one_scheduled_endorsement_per_pathway"),
            models.CheckConstraint(
                condition=Q(programme__isnull=False, pathway__isnull=True)
                | Q(programme__isnull=True, pathway__isnull=False),
                name="endorsement_programme_or_pathway",
            ),
            models.UniqueConstraint(fields=["predecessor"], condition=~Q(state="revoked"),
                                    name="one_successor_per_endorsement"),
        ]

    def __str__(self) -> str:
        return gettext("Endorsement of %(programme)s (%(state)s)") % {
            "programme": self.subject, "state": self.get_state_display()}

    @property
    def subject(self) -> Programme | Pathway:
        """What is endorsed: the programme, or the pathway."""
        return self.programme if self.programme_id else self.pathway

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

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(_("actor (as recorded)"), max_length=200)
    action = models.CharField(_("action code"), max_length=64)
    subject_type = models.CharField(_("subject type (code)"), max_length=40)
    subject_id = models.CharField(_("subject ID"), max_length=64)
    from_state = models.CharField(_("from state (code)"), max_length=24, blank=True)
    to_state = models.CharField(_("to state (code)"), max_length=24, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"

    # Keyword arguments only: Django 5.1 deprecated positional ones to save() and delete().
    def save(self, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(**kwargs)

    def delete(self, **kwargs):
        raise ValidationError("Audit events are append-only.")


class AuditHead(models.Model):
    """A single row locked while an event is appended, so concurrent writers form one chain."""

    id = models.PositiveSmallIntegerField(_("ID"), primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(_("sequence number"), default=0)
    hash = models.CharField(_("hash"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit head")
        verbose_name_plural = _("audit heads")

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement of the audit chain's length and head hash (endorsement.checkpoints).

    Published at /audit/checkpoints/ for anyone to keep: a checkpoint held outside the database is
    what `verify_audit --against` compares the chain with, so deleting the last events or
    rewriting an event and recomputing the later hashes is found. Append-only, like the events.
    """

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    head_hash = models.CharField(_("head hash"), max_length=64)
    made_at = models.DateTimeField(_("made at"))
    origin = models.CharField(_("origin"), max_length=300)
    verification_method = models.CharField(_("verification method"), max_length=400)
    signature = models.CharField(_("signature"), max_length=200)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.seq}"

    # Keyword arguments only: Django 5.1 deprecated positional ones to save() and delete().
    def save(self, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit checkpoints are append-only.")
        super().save(**kwargs)

    def delete(self, **kwargs):
        raise ValidationError("Audit checkpoints are append-only.")


# --- Notifications and the registry ---------------------------------------------------------------
class Notification(models.Model):
    """An e-mail in the outbox: written pending in the transaction that causes it (an audit event, a
    badge issued), sent by a task after commit or, if that task never ran or was cut short, by the
    periodic sweep (endorsement.outbox). The key makes it unique: one mail per event or award, and a
    sent one is never sent again."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    key = models.CharField(_("key"), max_length=200, unique=True)
    recipients = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the sweep may try again after a failed send (backoff); null: as soon as it is due.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The run of `notifications_deliver_many` that claimed this pending row ("<task id> <random>"),
    # so that the same task delivered again (its worker killed) takes it back at once.
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["state", "created_at"], name="notification_outbox")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class RegistrySnapshot(models.Model):
    """A version of the public registry (endorsement.registry): its digest, time, member
    organisations and pathways. The entries themselves are rows of `RegistryEntry`, updated in
    place one by one; a new version row is written whenever the digest changes."""

    generated_at = models.DateTimeField(_("generated at"), auto_now_add=True)
    digest = models.CharField(_("digest"), max_length=64)
    # XOR of every RegistryEntry digest (hex): updated per changed entry, so the registry's digest
    # is known without reading every entry.
    entries_digest = models.CharField(_("entries digest"), max_length=64, default="0" * 64)
    entry_count = models.PositiveIntegerField(_("entry count"), default=0)
    # One profile per member organisation (membership standing, DID); their programmes come from the
    # entries (`organisations`).
    organisation_profiles = models.JSONField(_("organisations"), default=list)
    # One entry per pathway with a published endorsement (pathways.registry).
    pathways = models.JSONField(_("pathways"), default=list)

    class Meta:
        verbose_name = _("registry snapshot")
        verbose_name_plural = _("registry snapshots")
        ordering = ["-generated_at", "-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"registry snapshot {self.digest[:12]} ({self.entry_count} entries)"

    @property
    def entries(self) -> list[dict]:
        """The registry's entries now, newest endorsed first (read from RegistryEntry)."""
        return stored_entries()

    @property
    def organisations(self) -> list[dict]:
        """The organisation profiles, each with its endorsed programmes (read from RegistryEntry)."""
        return with_programmes(self.organisation_profiles)


class RegistryEntry(models.Model):
    """One programme as the public registry shows it: the rendered entry (JSON) and the columns
    pages filter and sort on. Rewritten only when what it renders changed (its digest)."""

    programme_id = models.BigIntegerField(_("programme"), unique=True)
    public_id = models.UUIDField(_("public id"), unique=True)
    organisation_id = models.BigIntegerField(_("organisation"), db_index=True)
    organisation_slug = models.CharField(_("organisation slug"), max_length=100, db_index=True)
    body = models.TextField(_("entry (JSON)"))
    digest = models.CharField(_("digest"), max_length=64)
    search_text = models.TextField(_("search text"), default="")
    tags = models.TextField(_("tags (folded, one a line)"), default="")
    state = models.CharField(_("state"), max_length=20, db_index=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), db_index=True)
    renewal_from = models.DateTimeField(_("renewal from"), null=True)
    changed = models.DateTimeField(_("changed"))
    published = models.DateTimeField(_("published"), db_index=True)
    hours = models.FloatField(_("learning hours"), null=True)
    name_en_key = models.CharField(_("sort name (English first)"), max_length=255, db_index=True)
    name_ja_key = models.CharField(_("sort name (Japanese first)"), max_length=255, db_index=True)
    level = models.CharField(_("level"), max_length=100, db_index=True, default="")
    achievement_type = models.CharField(_("achievement type"), max_length=100, db_index=True, default="")
    credential_pattern = models.CharField(_("credential pattern"), max_length=50, db_index=True, default="")

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        indexes = [models.Index(fields=["-valid_from", "programme_id"], name="registry_entry_newest")]

    def __str__(self) -> str:
        return f"registry entry {self.public_id}"


# The filter columns of RegistryToken in its index, after the token: the equality filters first.
TOKEN_INDEX_COLUMNS = ("level", "state", "organisation_slug", "achievement_type", "credential_pattern", "valid_until",
                       "renewal_from")
# PostgreSQL's operator classes of that index: the token's for prefixes (LIKE 'x%'), then each
# column's default (PostgreSQL asks for one per column once one is named).
TOKEN_INDEX_OPCLASSES = ("varchar_pattern_ops", "text_ops", "text_ops", "text_ops", "text_ops", "text_ops",
                         "timestamptz_ops", "timestamptz_ops", "int8_ops")


class RegistryToken(models.Model):
    """The search index: one row per distinct word (Latin scripts, folded) or character bigram
    (Japanese and Chinese script) of an entry's search text (endorsement.registry.tokens)."""

    entry = models.ForeignKey(RegistryEntry, on_delete=models.CASCADE, related_name="tokens",
                              verbose_name=_("entry"), db_index=False)
    token = models.CharField(_("token"), max_length=64)
    # The entry's filter columns, copied (TOKEN_FILTER_COLUMNS): a filtered search reads the rows
    # of its rarest token and needs no join to filter them. An entry's tokens are rewritten with it.
    organisation_slug = models.CharField(_("organisation slug"), max_length=100, default="")
    level = models.CharField(_("level"), max_length=100, default="")
    achievement_type = models.CharField(_("achievement type"), max_length=100, default="")
    credential_pattern = models.CharField(_("credential pattern"), max_length=50, default="")
    state = models.CharField(_("state"), max_length=20, default="")
    valid_until = models.DateTimeField(_("valid until"), null=True)
    renewal_from = models.DateTimeField(_("renewal from"), null=True)

    class Meta:
        verbose_name = _("registry search token")
        verbose_name_plural = _("registry search tokens")
        # A term's rows with the filter columns and the entry (token first): the rarest term's rows
        # are read and filtered from the index alone, never from the table (issue 14's profile). On
        # PostgreSQL the token's operator class is varchar_pattern_ops, so that `token LIKE 'data%'`
        # (a word's prefix, endorsement.registry_views._starting) is a range on this index whatever
        # the database's collation (migration 0017); SQLite ignores operator classes.
        indexes = [models.Index(fields=["token", *TOKEN_INDEX_COLUMNS, "entry"], name="registry_token_filtered",
                                opclasses=TOKEN_INDEX_OPCLASSES),
                   # An entry's tokens: the other words of a search are checked per candidate.
                   models.Index(fields=["entry", "token"], name="registry_token_entry")]

    def __str__(self) -> str:
        return self.token


# The columns of RegistryEntry that RegistryToken copies (what the search form filters on).
TOKEN_FILTER_COLUMNS = ("organisation_slug", "level", "achievement_type", "credential_pattern", "state",
                        "valid_until", "renewal_from")


REGISTRY_ORDER = ("-valid_from", "programme_id")  # the registry's own order: newest endorsed first


def stored_entries() -> list[dict]:
    """Every stored entry with its search text, newest endorsed first (tests, tasks and bench)."""
    rows = RegistryEntry.objects.order_by(*REGISTRY_ORDER).values_list("body", "search_text")
    return [{**json.loads(body), "search_text": search} for body, search in rows]


def with_programmes(profiles: list[dict]) -> list[dict]:
    """The organisation profiles, each with `programmes`: its entries' ids, newest endorsed first."""
    programmes: dict[str, list[str]] = {}
    rows = RegistryEntry.objects.order_by(*REGISTRY_ORDER).values_list("organisation_slug", "public_id")
    for slug, public_id in rows.iterator(chunk_size=5000):
        programmes.setdefault(slug, []).append(str(public_id))
    return [{**profile, "programmes": programmes.get(profile["slug"], [])} for profile in profiles]


class RegistryChange(models.Model):
    """A programme whose registry entry must be rendered again (noted in the transaction that
    changed it; the refresh consumes the rows). An empty programme means everything."""

    programme_id = models.BigIntegerField(_("programme"), null=True)
    noted_at = models.DateTimeField(_("noted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("registry change")
        verbose_name_plural = _("registry changes")

    def __str__(self) -> str:
        return f"registry change {self.programme_id or 'all'}"


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
        return gettext("%(organisation)s: %(cycle)s from %(start)s") % {
            "organisation": self.organisation, "cycle": self.get_months_display(), "start": self.starts_on}


class IssuanceReportReminder(models.Model):
    """One reminder sent for one programme and one due period; the unique constraint makes the beat
    task send it once however often it runs."""

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="+")
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT,
                                  related_name="issuance_report_reminders")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("issuance report reminder")
        verbose_name_plural = _("issuance report reminders")
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

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
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
        return gettext("Quality review #%(pk)s of %(programme)s") % {"pk": self.pk, "programme": self.programme}

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

    quality_review = models.ForeignKey(QualityReview, verbose_name=_("quality review"), on_delete=models.CASCADE,
                                       related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT,
                                 related_name="quality_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    finding = models.TextField(_("finding"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quality review assignment")
        verbose_name_plural = _("quality review assignments")
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

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
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
        return gettext("Concern #%(pk)s about %(programme)s") % {"pk": self.pk, "programme": self.programme}

    @transition(field=state, source=ConcernState.NEW, target=ConcernState.REVIEW_OPENED, permission=_manager)
    def open_review(self) -> None:
        pass

    @transition(field=state, source=ConcernState.NEW, target=ConcernState.DISMISSED, permission=_manager)
    def dismiss(self) -> None:
        pass


class TrustListCredential(models.Model):
    """The signed list of endorsed issuers (endorsement.trust): a short-lived verifiable credential of
    every organisation the body endorses, re-signed when the list changes and at least daily. The
    newest row is served at /registry/trust-list.json; a few older ones are kept as history."""

    signed_at = models.DateTimeField(_("signed at"))
    valid_until = models.DateTimeField(_("valid until"))
    # SHA-256 of the list's content (the issuers and their endorsements, without the dates of signing):
    # an unchanged list is not re-signed until it is a day old.
    digest = models.CharField(_("digest"), max_length=64)
    # The registry snapshot's digest the list was last derived from (when signed, or checked
    # unchanged since), and the first moment after that at which a standing changes by time alone:
    # a newer snapshot or that moment makes the list due (endorsement.trust.trust_list_due).
    registry_digest = models.CharField(_("registry digest"), max_length=64, default="")
    changes_at = models.DateTimeField(_("changes at"), null=True, blank=True)
    credential = models.JSONField(_("credential"))

    class Meta:
        verbose_name = _("signed list of endorsed issuers")
        verbose_name_plural = _("signed lists of endorsed issuers")
        ordering = ["-signed_at", "-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"{self.signed_at:%Y-%m-%d %H:%M} {self.digest[:12]}"
