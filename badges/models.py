"""What is learnt and awarded: a `Programme` is an Open Badges 3.0 Achievement."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from institutions.models import Organisation


class CredentialPattern(models.TextChoices):
    EMBEDDED = "embedded", _("Embedded in a degree")
    MODULAR = "modular", _("Modular (stand-alone)")
    RPL = "rpl", _("Recognition of prior learning")


class ParticipationForm(models.TextChoices):
    ONLINE = "online", _("Online")
    ON_SITE = "on_site", _("On site")
    BLENDED = "blended", _("Blended")


# The Open Badges 3.0 AchievementType vocabulary: the codes are signed and served as they are; the
# labels are what a person reads (badges.codes).
ACHIEVEMENT_TYPE_LABELS = {
    "Achievement": _("Achievement"),
    "ApprenticeshipCertificate": _("Apprenticeship certificate"),
    "Assessment": _("Assessment"),
    "Assignment": _("Assignment"),
    "AssociateDegree": _("Associate degree"),
    "Award": _("Award"),
    "Badge": _("Badge"),
    "BachelorDegree": _("Bachelor's degree"),
    "Certificate": _("Certificate"),
    "CertificateOfCompletion": _("Certificate of completion"),
    "Certification": _("Certification"),
    "CommunityService": _("Community service"),
    "Competency": _("Competency"),
    "Course": _("Course"),
    "CoCurricular": _("Co-curricular activity"),
    "Degree": _("Degree"),
    "Diploma": _("Diploma"),
    "DoctoralDegree": _("Doctoral degree"),
    "Fieldwork": _("Fieldwork"),
    "GeneralEducationDevelopment": _("General Educational Development (GED)"),
    "JourneymanCertificate": _("Journeyman certificate"),
    "LearningProgram": _("Learning programme"),
    "License": _("Licence"),
    "Membership": _("Membership"),
    "ProfessionalDoctorate": _("Professional doctorate"),
    "QualityAssuranceCredential": _("Quality assurance credential"),
    "MasterCertificate": _("Master certificate"),
    "MasterDegree": _("Master's degree"),
    "MicroCredential": _("Micro-credential"),
    "ResearchDoctorate": _("Research doctorate"),
    "SecondarySchoolDiploma": _("Secondary school diploma"),
}
ACHIEVEMENT_TYPES = list(ACHIEVEMENT_TYPE_LABELS)
AchievementType = models.TextChoices("AchievementType",
                                     [(t, (t, label)) for t, label in ACHIEVEMENT_TYPE_LABELS.items()])


class Programme(models.Model):
    """A badge programme submitted for endorsement (OB 3.0 Achievement + micro-credential elements).

    The elements the EU Council Recommendation (2022) and Japan's micro-credential guidelines ask
    every micro-credential to state are fields of their own so reviewers can judge them and the
    registry can filter on them.
    """

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="programmes")
    slug = models.SlugField(_("slug"), max_length=80)

    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    criteria_narrative = models.TextField(_("award criteria"), blank=True)
    learning_outcomes = models.JSONField(_("learning outcomes"), default=list, blank=True)
    learning_hours = models.DecimalField(
        _("notional learning hours"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    level = models.CharField(_("level"), max_length=100, blank=True)
    level_framework = models.CharField(_("level framework"), max_length=200, blank=True)
    field_of_study = models.CharField(
        _("field of study"), max_length=200, blank=True,
        help_text=_("The subject area, e.g. \"Data science\" or \"Nursing\" (the credential's fieldOfStudy)."),
    )
    assessment_method = models.TextField(_("assessment method"), blank=True)
    assessment_supervised = models.BooleanField(_("assessment is supervised"), default=False)
    identity_verified = models.BooleanField(_("learner identity is verified"), default=False)
    evidence_policy = models.TextField(_("evidence policy"), blank=True)
    credential_pattern = models.CharField(
        _("credential pattern"), max_length=16, choices=CredentialPattern.choices,
        default=CredentialPattern.MODULAR,
    )
    achievement_type = models.CharField(
        _("achievement type"), max_length=40, choices=AchievementType.choices, default="MicroCredential"
    )
    alignments = models.JSONField(_("alignments"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=16, default="ja")
    image = models.FileField(_("image"), upload_to="programmes/", blank=True)
    validity_months = models.PositiveIntegerField(
        _("badge validity (months)"), null=True, blank=True,
        help_text=_("How long a badge issued under this programme stays valid; empty for no end."),
    )
    country = models.CharField(_("country or region of the issuer"), max_length=64, default="JP")
    participation_form = models.CharField(
        _("form of participation"), max_length=16, choices=ParticipationForm.choices,
        default=ParticipationForm.ONLINE,
    )
    quality_assurance = models.TextField(_("type of quality assurance"), blank=True)
    prerequisites = models.TextField(_("prerequisites"), blank=True)
    stackability = models.TextField(_("how it stacks into larger awards"), blank=True)
    responsible_person = models.CharField(_("person responsible"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["organisation", "name_en"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="programme_slug_per_organisation")
        ]

    def __str__(self) -> str:
        """The name in the reader's language when the programme has it (the admin's headings)."""
        if (get_language() or "").startswith("ja"):
            return self.name_ja or self.name_en or str(self.public_id)
        return self.name_en or self.name_ja or str(self.public_id)

    @property
    def name(self) -> str:
        return self.name_en or self.name_ja


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class StatusList(models.Model):
    """One Bitstring Status List of an issuer for one purpose. Its bits are never stored as truth:
    `badges.status.status_list_publish` recomputes them from the owners' states and re-signs."""

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="status_lists")
    purpose = models.CharField(_("purpose"), max_length=16, choices=StatusPurpose.choices)
    number = models.PositiveIntegerField(_("list number"), default=1)
    size = models.PositiveIntegerField(_("size (entries)"), default=131072)
    credential = models.JSONField(_("signed status list credential"), null=True, blank=True, editable=False)
    encoded_list = models.TextField(_("encoded list"), blank=True, editable=False)
    etag = models.CharField(_("ETag"), max_length=64, blank=True, editable=False)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        ordering = ["organisation", "purpose", "number"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "purpose", "number"], name="status_list_number")
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug}/{self.purpose}/{self.number}"


class StatusAllocation(models.Model):
    """An index handed out on a status list. Indices are drawn at random and never reused."""

    status_list = models.ForeignKey(StatusList, verbose_name=_("status list"), on_delete=models.PROTECT,
                                    related_name="allocations")
    index = models.PositiveIntegerField(_("index"))
    created_at = models.DateTimeField(_("allocated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("status list entry")
        verbose_name_plural = _("status list entries")
        constraints = [
            models.UniqueConstraint(fields=["status_list", "index"], name="status_index_used_once")
        ]

    def __str__(self) -> str:
        return f"{self.status_list}#{self.index}"


class SourceEncoding(models.TextChoices):
    """How an uploaded batch file's bytes were read (badges.batches.upload_decode)."""

    UTF_8 = "utf-8", _("UTF-8")
    UTF_8_BOM = "utf-8-sig", _("UTF-8 with a byte-order mark (BOM)")
    CP932 = "cp932", _("Shift_JIS (cp932)")
    UTF_16 = "utf-16", _("UTF-16 (Excel's “Unicode text”)")


class AwardBatch(models.Model):
    """A batch of awards uploaded at once (JSON list or CSV), issued by chunked Celery tasks."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT,
                                  related_name="award_batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(_("rows"), default=0)
    issued = models.PositiveIntegerField(_("issued"), default=0)
    # How the uploaded file was read ("" for rows sent as a JSON body or pasted text).
    source_encoding = models.CharField(_("file encoding"), max_length=16, choices=SourceEncoding.choices, blank=True,
                                       default="")
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When a chunk last committed (or the batch was created, started or resumed): a pending or
    # running batch with no progress for settings.BATCH_STALL_SECONDS is stalled (its messages were
    # lost with a worker or the broker) and is resumed by the sweep or by its owner.
    progressed_at = models.DateTimeField(_("last progress at"), default=timezone.now)

    class Meta:
        verbose_name = _("award batch")
        verbose_name_plural = _("award batches")
        indexes = [models.Index(fields=["state", "progressed_at"], name="award_batch_stall")]

    def __str__(self) -> str:
        return f"batch {self.public_id} ({self.issued}/{self.total})"

    @property
    def progress(self) -> float:
        return 1.0 if self.total == 0 else self.issued / self.total

    @property
    def stalled(self) -> bool:
        """Pending or running, and no chunk has committed for BATCH_STALL_SECONDS."""
        limit = timezone.now() - timedelta(seconds=settings.BATCH_STALL_SECONDS)
        return self.state in (self.State.PENDING, self.State.RUNNING) and self.progressed_at < limit


class AwardBatchRow(models.Model):
    """One validated row of a batch, by its position: a row of its own, so that a chunk reads its
    CHUNK_SIZE rows by (batch, index) and never the whole upload (a JSON column holding every row
    was read whole by each chunk: 2.8 MB at 10,000 rows, a cost quadratic in the batch's size)."""

    batch = models.ForeignKey(AwardBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="row_set")
    index = models.PositiveIntegerField(_("position"))
    data = models.JSONField(_("row"), editable=False)  # Recipient.as_row(), "where", "evidence_files"

    class Meta:
        verbose_name = _("award batch row")
        verbose_name_plural = _("award batch rows")
        constraints = [models.UniqueConstraint(fields=["batch", "index"], name="award_batch_row_unique")]

    def __str__(self) -> str:
        return f"row {self.index} of batch {self.batch_id}"


class Award(models.Model):
    """A badge issued to one learner: a signed OpenBadgeCredential carrying the body's endorsement."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT,
                                  related_name="awards")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="awards")
    endorsement = models.ForeignKey("endorsement.Endorsement", verbose_name=_("endorsement"),
                                    on_delete=models.PROTECT, related_name="awards")
    batch = models.ForeignKey(AwardBatch, verbose_name=_("batch"), on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="awards")
    # Position in its batch, so that re-running a chunk issues each row once.
    batch_row = models.PositiveIntegerField(_("row in the batch"), null=True, blank=True)
    recipient_did = models.CharField(_("recipient DID"), max_length=300, blank=True)
    recipient_email = models.EmailField(_("recipient e-mail"), blank=True)
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    identity = models.JSONField(_("hashed identity"), null=True, blank=True,
                                editable=False)  # the hashed IdentityObject
    evidence_url = models.URLField(_("evidence URL"), max_length=1000, blank=True)
    evidence_narrative = models.TextField(_("evidence narrative"), blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    credential = models.JSONField(_("signed credential"), null=True, blank=True, editable=False)
    status = models.OneToOneField(
        StatusAllocation, verbose_name=_("status list entry"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="award",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)
    # The learner's side (badges.claims, learners): the claim link mailed with the badge, stored as
    # the SHA-256 of its token, single-use and expiring; and the learner's choice to hide the badge's
    # public page (the credential itself still verifies for whoever holds it).
    claim_token_sha256 = models.CharField(_("claim token (SHA-256)"), max_length=64, blank=True, db_index=True,
                                          editable=False)
    claim_expires_at = models.DateTimeField(_("claim link expires at"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True, editable=False)
    hidden_at = models.DateTimeField(_("hidden by the learner at"), null=True, blank=True, editable=False)
    # The language the issuer gave for the learner's mails (a batch's `language` column, the award
    # API's `recipient_language`); "" for the site's. The learner's own choice wins (RecipientLanguage).
    recipient_language = models.CharField(_("recipient's language"), max_length=8, blank=True,
                                          choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "batch_row"], name="one_award_per_batch_row"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} → {self.recipient_name or self.recipient_did or self.recipient_email}"


class EvidenceCheck(models.Model):
    """What an award's evidence URL held when fetched, and whether it still does."""

    class Standing(models.TextChoices):
        PENDING = "pending", _("Not fetched yet")
        REACHABLE = "reachable", _("Reachable")
        CHANGED = "changed", _("Changed")
        GONE = "gone", _("Gone")

    award = models.OneToOneField(Award, verbose_name=_("award"), on_delete=models.CASCADE,
                                 related_name="evidence_check")
    url = models.URLField(_("URL"), max_length=1000)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    retrieved_at = models.DateTimeField(_("retrieved at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    standing = models.CharField(_("standing"), max_length=16, choices=Standing.choices, default=Standing.PENDING)
    detail = models.TextField(_("detail"), blank=True)
    notified_standing = models.CharField(_("standing last notified"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("evidence check")
        verbose_name_plural = _("evidence checks")

    def __str__(self) -> str:
        return f"{self.url} ({self.standing})"


class IdempotencyKey(models.Model):
    """The first successful answer to a POST carrying an `Idempotency-Key` header, per organisation,
    with a fingerprint of the request it answered (badges.idempotency). A retry with the same key
    gets this answer again instead of a second award; the same key on a different request is
    refused. Kept settings.IDEMPOTENCY_KEY_HOURS, then removed by the sweep."""

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="+")
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    response = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_key_per_organisation")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.key}"


class EvidenceBlob(models.Model):
    """Bytes of archived evidence, stored once per content however many awards refer to them
    (content-addressed by SHA-384 in the "evidence" storage, badges.archive). `removed_at` is set
    when the bytes were deleted because every copy naming them was withdrawn or past retention."""

    sha384 = models.CharField(_("SHA-384"), max_length=96, unique=True)  # hex
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    media_type = models.CharField(_("media type"), max_length=100)
    storage_name = models.CharField(_("stored as"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    # The last time the stored bytes were hashed (badges.archive.blob_verify): what the badge page
    # shows until EVIDENCE_COPY_CHECK_SECONDS have passed or the stored size differs.
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    verified_size = models.PositiveBigIntegerField(_("size when last verified"), null=True, blank=True)
    verified_intact = models.BooleanField(_("intact when last verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("stored evidence file")
        verbose_name_plural = _("stored evidence files")

    def __str__(self) -> str:
        return f"sha384:{self.sha384[:16]}… ({self.size} bytes)"


class ArchivedEvidence(models.Model):
    """One archived evidence item of an award (an uploaded file or the WARC record of a fetched
    link), or one document an endorsement was judged on (the frozen programme snapshot, the criteria
    table version), served at an unguessable URL (its `token`). Withdrawn, it stays as a tombstone:
    the digest, when and by whom; its bytes are removed unless another live copy holds them."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("Uploaded file")
        WEB = "web", _("Web page (WARC record)")
        SNAPSHOT = "snapshot", _("Programme as endorsed (frozen snapshot)")
        CRITERIA = "criteria", _("Criteria table version")

    class Reason(models.TextChoices):
        LEARNER = "learner", _("At the learner's request")
        ORGANISATION = "organisation", _("By the organisation")
        RETENTION = "retention", _("Retention period ended")

    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE,
                              related_name="archived_evidence", null=True,
                              blank=True)
    endorsement = models.ForeignKey("endorsement.Endorsement", verbose_name=_("endorsement"),
                                    on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="archived_documents")
    blob = models.ForeignKey(EvidenceBlob, verbose_name=_("stored file"), on_delete=models.PROTECT,
                             related_name="copies")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    digest_sri = models.CharField(_("digest (SRI)"), max_length=120)  # "sha384-<base64>", as signed
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    media_type = models.CharField(_("media type"), max_length=100)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    original_url = models.URLField(_("original URL"), max_length=1000, blank=True)
    # When the copy was taken: the upload, or the fetch of the link (Memento-Datetime).
    taken_at = models.DateTimeField(_("taken at"))
    # Whether the signed credential names this copy in its relatedResource.
    in_credential = models.BooleanField(_("in the credential"), default=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("withdrawn by"),
                                     on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name = _("archived evidence")
        verbose_name_plural = _("archived evidence")
        ordering = ["award", "position", "pk"]
        indexes = [models.Index(fields=["blob", "withdrawn_at"], name="archived_evidence_blob_live")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(award__isnull=False, endorsement__isnull=True)
                | models.Q(award__isnull=True, endorsement__isnull=False),
                name="archived_evidence_of_award_or_endorsement"),
            models.UniqueConstraint(fields=["endorsement", "kind"], condition=models.Q(endorsement__isnull=False),
                                    name="one_archived_document_per_endorsement_and_kind"),
        ]

    def __str__(self) -> str:
        owner = f"award {self.award_id}" if self.award_id else f"endorsement {self.endorsement_id}"
        return f"{owner}#{self.position} {self.filename or self.original_url or self.kind}"


class EvidenceUpload(models.Model):
    """An evidence file an organisation uploaded ahead of a batch (POST .../evidence-files), stored
    content-addressed; the batch's CSV names it by its digest (`sha384-…`). Only the organisation
    that uploaded a file can name it: knowing a digest (any credential shows one) is not enough."""

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="evidence_uploads")
    blob = models.ForeignKey(EvidenceBlob, verbose_name=_("stored file"), on_delete=models.PROTECT,
                             related_name="uploads")
    filename = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file uploaded for a batch")
        verbose_name_plural = _("evidence files uploaded for batches")
        constraints = [models.UniqueConstraint(fields=["organisation", "blob"],
                                               name="one_evidence_upload_per_organisation_and_content")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.blob})"


class RecipientLanguage(models.Model):
    """The language a learner chose for the mails sent to one of their addresses (their account page,
    learners): it wins over the issuer's `Award.recipient_language` and the site's language
    (badges.mail_language). Kept by address, as the awards are, so that badges need not know the
    learner accounts above them."""

    email = models.EmailField(_("e-mail"), unique=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("recipient's language")
        verbose_name_plural = _("recipients' languages")

    def __str__(self) -> str:
        return f"{self.email}: {self.language}"
