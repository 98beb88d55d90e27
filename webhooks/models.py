"""Webhook endpoints of an organisation (or of the body, for its managers' systems) and each delivery
made to them. The rules are in webhooks.services (registration) and webhooks.delivery (sending)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from institutions.models import Organisation


class WebhookEvent(models.TextChoices):
    """The event types a webhook can report. The code is the payload's `type`."""

    AWARD_ISSUED = "award.issued", _("Badge issued")
    AWARD_REVOKED = "award.revoked", _("Badge revoked")
    BATCH_FINISHED = "award_batch.finished", _("Batch of badges finished")
    BATCH_FAILED = "award_batch.failed", _("Batch of badges failed")
    APPLICATION_STATE_CHANGED = "application.state_changed", _("Application changed state")
    ENDORSEMENT_STANDING_CHANGED = "endorsement.standing_changed", _("Endorsement's standing changed")
    EVIDENCE_STANDING_CHANGED = "evidence.standing_changed", _("Evidence link's standing changed")
    # The body's, for its managers' systems.
    APPLICATION_RECEIVED = "application.received", _("Application received for review")
    ISSUANCE_REPORT_FILED = "issuance_report.filed", _("Issuance report filed")
    # Sent to one endpoint when its owner asks (webhooks.services.endpoint_send_test), never chosen.
    TEST = "webhook.test", _("Test event")


MEMBER_EVENTS = [
    WebhookEvent.AWARD_ISSUED, WebhookEvent.AWARD_REVOKED, WebhookEvent.BATCH_FINISHED, WebhookEvent.BATCH_FAILED,
    WebhookEvent.APPLICATION_STATE_CHANGED, WebhookEvent.ENDORSEMENT_STANDING_CHANGED,
    WebhookEvent.EVIDENCE_STANDING_CHANGED,
]
BODY_EVENTS = [WebhookEvent.APPLICATION_RECEIVED, WebhookEvent.ISSUANCE_REPORT_FILED]


def events_for(organisation: Organisation) -> list[WebhookEvent]:
    """The events an organisation's endpoints may choose: a member's own, or the body's."""
    return BODY_EVENTS if organisation.is_certification_body else MEMBER_EVENTS


class WebhookEndpoint(models.Model):
    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, help_text=_("The event types sent to this endpoint."))
    # The Standard Webhooks signing secret (its 32 bytes), encrypted with KEY_ENCRYPTION_SECRET and bound
    # to this endpoint; shown once, when made (webhooks.services.endpoint_secret_text).
    secret_encrypted = models.TextField(_("secret (encrypted)"), editable=False)
    secret_rotated_at = models.DateTimeField(_("secret made at"), auto_now_add=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=500, blank=True)
    # The first failed attempt since the last delivery that succeeded (None while deliveries succeed).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["organisation_id", "created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    def event_labels(self) -> list[str]:
        return [str(WebhookEvent(code).label) for code in self.events if code in WebhookEvent.values]


class WebhookDelivery(models.Model):
    """One event for one endpoint: one webhook-id, kept for every attempt and every replay."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_type = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    webhook_id = models.CharField(_("webhook-id"), max_length=40, unique=True, editable=False)
    # What caused it ("audit:<seq>", "batch:<id>:finished", ...): one delivery per cause and endpoint.
    source = models.CharField(_("source"), max_length=120, editable=False)
    payload = models.JSONField(_("payload"), editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Failed attempts are retried until then (WEBHOOK_RETRY_HOURS after it was written or replayed).
    retry_until = models.DateTimeField(_("retried until"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "source"], name="webhook_delivery_once_per_source"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id}"
