"""What is learnt and awarded: a `Programme` is an Open Badges 3.0 Achievement."""

from __future__ import annotations

import uuid

from django.db import models
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


# The Open Badges 3.0 AchievementType vocabulary.
ACHIEVEMENT_TYPES = [
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
    "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree",
    "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
    "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
    "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
]
AchievementType = models.TextChoices("AchievementType", [(t, t) for t in ACHIEVEMENT_TYPES])


class Programme(models.Model):
    """A badge programme submitted for endorsement (OB 3.0 Achievement + micro-credential elements).

    The elements the EU Council Recommendation (2022) and Japan's micro-credential guidelines ask
    every micro-credential to state are fields of their own so reviewers can judge them and the
    registry can filter on them.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="programmes")
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

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "name_en"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="programme_slug_per_organisation")
        ]

    def __str__(self) -> str:
        return self.name_en or self.name_ja or str(self.public_id)

    @property
    def name(self) -> str:
        return self.name_en or self.name_ja
