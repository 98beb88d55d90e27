"""A learner's completion of a pathway: the credentials presented for its components, and, once
its rules are met, the pathway badge and the CLR 2.0 ClrCredential issued (pathways.completion).

Imported by pathways.models so that Django finds the model; docs/pathways.md, "Completing a pathway".
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CompletionState(models.TextChoices):
    OPEN = "open", _("Collecting credentials")
    ISSUED = "issued", _("Pathway credential issued")
    FLAGGED = "flagged", _("Issued, flagged: a component no longer holds")
    REVOKED = "revoked", _("Pathway credential revoked")


class Completion(models.Model):
    """One learner working towards one pathway, opened by the pathway's organisation.

    `presented` holds only credentials that verified in full when presented, each as
    {component, source ("award" or "upload"), credential (the JSON as presented), credential_id,
    issued_on}; a refused one is never stored. `token_hash` is the SHA-256 of the capability link's
    token (the link itself is shown once, to the organisation, and sent to the learner)."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    pathway = models.ForeignKey("pathways.Pathway", verbose_name=_("pathway"), on_delete=models.PROTECT,
                                related_name="completions")
    learner_email = models.EmailField(_("learner's e-mail"), blank=True)
    learner_name = models.CharField(_("learner's name"), max_length=200, blank=True)
    learner_did = models.CharField(_("learner's DID"), max_length=300, blank=True)
    token_hash = models.CharField(_("capability token (SHA-256)"), max_length=64, unique=True, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=CompletionState.choices,
                             default=CompletionState.OPEN)
    presented = models.JSONField(_("credentials presented"), default=list, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    badge = models.JSONField(_("pathway badge (signed)"), null=True, blank=True, editable=False)
    clr = models.JSONField(_("ClrCredential (signed)"), null=True, blank=True, editable=False)
    status = models.OneToOneField("badges.StatusAllocation", verbose_name=_("status list entry"),
                                  on_delete=models.PROTECT, null=True, blank=True, related_name="completion")
    endorsement = models.ForeignKey("endorsement.Endorsement", verbose_name=_("endorsement"),
                                    on_delete=models.PROTECT, null=True, blank=True, related_name="completions")
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    # Set by the beat re-check when a component credential no longer holds; cleared by the decision.
    component_problem = models.TextField(_("component problem"), blank=True, editable=False)
    component_problem_at = models.DateTimeField(_("component problem found at"), null=True, blank=True,
                                                editable=False)
    checked_at = models.DateTimeField(_("components last re-checked at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    class Meta:
        verbose_name = _("pathway completion")
        verbose_name_plural = _("pathway completions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.pathway} → {self.learner_name or self.learner_email or self.learner_did}"
