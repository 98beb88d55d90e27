"""Sending webhook deliveries: signed as Standard Webhooks says, with its maintained library
(`standardwebhooks`), retried with exponential backoff, and an endpoint that keeps failing disabled.

One attempt (`delivery_send`) POSTs the delivery's payload, as JSON, with the headers `webhook-id`
(the delivery's, the same on every attempt and every replay), `webhook-timestamp` (the attempt's
second) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with the
endpoint's secret). The endpoint's host is resolved and checked again at that moment, and the
connection goes to the address checked (badges.fetch.post): a name that resolved to a public
address when it was registered and to a private one now (DNS rebinding) is not contacted.

A 2xx answer delivers it. Anything else (another status, a refused address, no answer in
WEBHOOK_TIMEOUT seconds) is tried again after WEBHOOK_RETRY_BASE_SECONDS, doubling each time up to
WEBHOOK_RETRY_MAX_SECONDS, until WEBHOOK_RETRY_HOURS after the delivery was written (or replayed);
then it is failed. The beat task `deliver_due_webhooks` picks the deliveries whose next attempt is
due. An endpoint that has had no successful delivery for WEBHOOK_DISABLE_AFTER_DAYS since its first
failure is disabled and its owners are mailed (the outbox of endorsement.outbox).

An attempt runs under the delivery's row lock (another worker skips it), so one delivery is never
sent twice at once; a worker killed after the receiver answered and before the commit sends it once
more, with the same webhook-id, by which the receiver knows it (the spec asks receivers to dedupe).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from standardwebhooks.webhooks import Webhook

from badges.fetch import FetchError, post
from config.i18n import local_name
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.outbox import notification_write
from institutions.models import Role, StaffMember
from institutions.staff import staff_mail_groups
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.secrets import endpoint_secret_bytes

log = logging.getLogger(__name__)
State = WebhookDelivery.State


def payload_bytes(delivery: WebhookDelivery) -> bytes:
    """The body sent: the stored payload as compact JSON (the same bytes on every attempt)."""
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(delivery: WebhookDelivery, body: bytes, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    webhook = Webhook(endpoint_secret_bytes(delivery.endpoint))
    signature = webhook.sign(msg_id=delivery.webhook_id, timestamp=now, data=body.decode())
    return {"Content-Type": "application/json", "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, doubled each time, capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def delivery_send(delivery_id: int) -> bool:
    """One attempt at a pending delivery of an enabled endpoint, under its row lock. True if the
    receiver took it (2xx). Never raises for the receiver's failure: it is recorded on the row."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("endpoint").filter(pk=delivery_id, state=State.PENDING).first())
        if delivery is None or not delivery.endpoint.enabled:
            return False
        endpoint = delivery.endpoint
        now = timezone.now()
        body = payload_bytes(delivery)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        try:
            answer = post(endpoint.url, body=body, headers=signed_headers(delivery, body, now),
                          timeout=float(settings.WEBHOOK_TIMEOUT), allow_loopback=bool(settings.WEBHOOK_ALLOW_LOOPBACK),
                          https_only=True)
        except FetchError as error:
            _failed(delivery, endpoint, error, now)
            return False
        delivery.state, delivery.delivered_at, delivery.last_status_code = State.DELIVERED, now, answer.status
        delivery.last_error, delivery.next_attempt_at = "", None
        delivery.save(update_fields=["state", "delivered_at", "last_status_code", "last_error", "next_attempt_at",
                                     "attempts", "last_attempt_at"])
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
    log.info("webhook %s (%s) delivered to %s: HTTP %s, attempt %d", delivery.webhook_id, delivery.event_type,
             endpoint.url, answer.status, delivery.attempts)
    return True


def _failed(delivery: WebhookDelivery, endpoint: WebhookEndpoint, error: FetchError, now: datetime) -> None:
    delivery.last_error = error.message[:2000]
    delivery.last_status_code = error.status
    if now >= delivery.retry_until:
        delivery.state, delivery.next_attempt_at = State.FAILED, None
        log.error("webhook %s to %s failed for good after %d attempts: %s", delivery.webhook_id, endpoint.url,
                  delivery.attempts, delivery.last_error)
    else:
        delivery.next_attempt_at = min(now + backoff(delivery.attempts), delivery.retry_until)
        log.warning("webhook %s to %s failed (attempt %d), next at %s: %s", delivery.webhook_id, endpoint.url,
                    delivery.attempts, delivery.next_attempt_at.isoformat(), delivery.last_error)
    delivery.save(update_fields=["state", "next_attempt_at", "last_error", "last_status_code", "attempts",
                                 "last_attempt_at"])
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    elif now - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        endpoint_disable_failing(endpoint, now=now, last_error=delivery.last_error)


def endpoint_disable_failing(endpoint: WebhookEndpoint, *, now: datetime, last_error: str) -> None:
    """Disable an endpoint that has failed for WEBHOOK_DISABLE_AFTER_DAYS and tell its owners, in the
    caller's transaction. Its pending deliveries fail (they can be replayed once it is enabled again)."""
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    with override("en"):  # stored words, read by whoever opens the page (the mails are in each reader's)
        reason = _("No delivery succeeded for %(days)s days; the last error was: %(error)s") % {
            "days": days, "error": last_error}
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_at=now, disabled_reason=reason[:500])
    if not updated:
        return
    WebhookDelivery.objects.filter(endpoint=endpoint, state=State.PENDING).update(
        state=State.FAILED, next_attempt_at=None)
    audit_record(actor=None, action=AuditAction.WEBHOOK_DISABLED, subject=endpoint, comment=reason[:500],
                 data={"organisation": endpoint.organisation.slug, "url": endpoint.url})
    log.error("webhook endpoint %s of %s disabled: %s", endpoint.url, endpoint.organisation, reason)
    organisation = endpoint.organisation
    roles = [Role.MANAGER] if organisation.is_certification_body else [Role.OWNER]
    owners = StaffMember.objects.filter(organisation=organisation, role__in=roles).exclude(user__email="")
    recipients = {*owners.values_list("user__email", flat=True), organisation.contact_email} - {""}
    key = f"webhook-disabled:{endpoint.pk}:{int(now.timestamp())}"
    for index, (language, group) in enumerate(staff_mail_groups(recipients)):
        subject, body = _disabled_mail(endpoint, days=days, last_error=last_error, language=language)
        row = notification_write(key=key if index == 0 else f"{key}:{language}", recipients=group,
                                 subject=subject, body=body)
        if row is not None:
            enqueue_on_commit("webhooks.tasks.send_endpoint_notice", row.pk)


def _disabled_mail(endpoint: WebhookEndpoint, *, days: int, last_error: str, language: str) -> tuple[str, str]:
    """The subject and body telling an endpoint's owners it was disabled, in `language`."""
    organisation = endpoint.organisation
    page = (f"{settings.SITE_URL}/admin/webhooks/webhookendpoint/{endpoint.pk}/change/"
            if organisation.is_certification_body else f"{settings.SITE_URL}/portal/webhooks/{endpoint.public_id}/")
    with override(language):
        words = {"url": endpoint.url, "organisation": local_name(organisation), "days": days}
        subject = f"[{settings.SITE_URL.split('://', 1)[-1]}] " + _("Webhook endpoint disabled: %(url)s") % words
        body = "\n".join([
            _("The webhook endpoint %(url)s of %(organisation)s has been disabled.") % words, "",
            _("No delivery to it succeeded for %(days)s days. The last error was:") % words, last_error, "",
            _("Nothing more is sent to it until it is enabled again. Enable it, and replay the deliveries you "
              "need, at:"),
            page,
        ])
    return subject, body


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim the pending deliveries whose next attempt is due (enabled endpoints only) and return
    their ids: each is leased for a few timeouts, so the next sweep does not enqueue it again while a
    worker still has it queued. Sending takes the row lock anyway."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(state=State.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
                   .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
        lease = now + timedelta(seconds=6 * settings.WEBHOOK_TIMEOUT)
        WebhookDelivery.objects.filter(pk__in=due).update(next_attempt_at=lease)
    return due


def deliveries_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: enqueue an attempt for each due delivery (after commit). How many."""
    due = deliveries_due(now=now, limit=limit)
    for pk in due:
        enqueue_on_commit("webhooks.tasks.deliver_webhook", pk)
    return len(due)
