"""Registering webhook endpoints and replaying deliveries: one function per operation.

Only an organisation's owners manage its endpoints (the body's managers the body's): the same rule
as its staff (`institutions.permissions.may_manage_staff`). Another organisation's endpoint is not
found. An endpoint's URL must be https (plain http only to loopback, where WEBHOOK_ALLOW_LOOPBACK
allows it: the tests and the demo) and its host must resolve to public addresses only, under the
rules evidence links follow (badges.fetch); it is checked again at every delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.fetch import FetchError, checked_address
from config.errors import InvalidInput, NotFound, NotPermitted, TooManyRequests, WrongState
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from institutions.models import Organisation, staff_of
from institutions.permissions import may_manage_staff
from webhooks.events import webhook_test_event
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, events_for
from webhooks.secrets import secret_new

UserLike = Any


def _require_owner(actor: UserLike, organisation: Organisation) -> None:
    if not may_manage_staff(actor, organisation):
        raise NotPermitted(_("Only the organisation's owners manage its webhooks.")
                           if not organisation.is_certification_body
                           else _("Only the body's managers manage its webhooks."))


def webhook_organisation(actor: UserLike) -> Organisation:
    """The organisation whose webhooks the actor manages; NotPermitted for anyone else."""
    staff = staff_of(actor)
    if staff is None:
        raise NotPermitted(_("Only staff of an organisation have webhooks."))
    _require_owner(actor, staff.organisation)
    return staff.organisation


def _audit(actor: UserLike, action: AuditAction, endpoint: WebhookEndpoint) -> None:
    """Who registered, changed or removed which URL is kept in the audit trail (never the secret)."""
    audit_record(actor=actor, action=action, subject=endpoint, data={
        "organisation": endpoint.organisation.slug, "url": endpoint.url, "events": list(endpoint.events)})


def endpoints_of(actor: UserLike) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organisation=webhook_organisation(actor))


def endpoint_of(actor: UserLike, public_id: Any) -> WebhookEndpoint:
    """The actor's organisation's endpoint with this id; NotFound for any other."""
    endpoint = endpoints_of(actor).filter(public_id=public_id).first()
    if endpoint is None:
        raise NotFound(_("No such webhook endpoint."))
    return endpoint


def url_check(url: str) -> str:
    """The URL, if deliveries may be sent to it now; InvalidInput (on the field `url`) if not."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput(_("Give the endpoint's URL."), field_errors={"url": [_("This field is required.")]})
    if len(url) > 1000:
        message = _("The URL is longer than 1,000 characters.")
        raise InvalidInput(message, field_errors={"url": [message]})
    try:
        checked_address(url, allow_loopback=bool(settings.WEBHOOK_ALLOW_LOOPBACK), https_only=True)
    except FetchError as error:
        raise InvalidInput(error.message, field_errors={"url": [error.message]}) from None
    return url


def events_check(organisation: Organisation, events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    allowed = [str(e) for e in events_for(organisation)]
    unknown = [e for e in chosen if e not in allowed]
    if unknown:
        message = _("These events are not offered to this organisation: %(events)s.") % {"events": ", ".join(unknown)}
        raise InvalidInput(message, field_errors={"events": [message]})
    if not chosen:
        message = _("Choose at least one event.")
        raise InvalidInput(message, field_errors={"events": [message]})
    return [e for e in allowed if e in chosen]  # in the order of the list


def endpoint_create(*, actor: UserLike, organisation: Organisation, url: str, events: Iterable[str],
                    description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (`whsec_…`), which is shown this once."""
    _require_owner(actor, organisation)
    url = url_check(url)
    chosen = events_check(organisation, events)
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # counts one at a time
        if WebhookEndpoint.objects.filter(organisation=organisation).count() >= settings.WEBHOOK_MAX_ENDPOINTS:
            raise WrongState(_("An organisation has at most %(count)s webhook endpoints; remove one first.")
                             % {"count": settings.WEBHOOK_MAX_ENDPOINTS})
        endpoint = WebhookEndpoint(organisation=organisation, url=url, events=chosen,
                                   description=(description or "").strip()[:200],
                                   created_by=actor if getattr(actor, "pk", None) else None)
        secret = secret_new(endpoint)
        endpoint.save()
        _audit(actor, AuditAction.WEBHOOK_REGISTERED, endpoint)
    return endpoint, secret


def endpoint_update(*, actor: UserLike, endpoint: WebhookEndpoint, url: str | None = None,
                    events: Iterable[str] | None = None, description: str | None = None) -> WebhookEndpoint:
    """Change an endpoint's URL, events or description (what is not given stays)."""
    _require_owner(actor, endpoint.organisation)
    fields = {}
    if url is not None:
        fields["url"] = url_check(url)
    if events is not None:
        fields["events"] = events_check(endpoint.organisation, events)
    if description is not None:
        fields["description"] = description.strip()[:200]
    if fields:
        with transaction.atomic():
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**fields)
            endpoint.refresh_from_db()
            _audit(actor, AuditAction.WEBHOOK_CHANGED, endpoint)
    return endpoint


def endpoint_rotate_secret(*, actor: UserLike, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown once; the old one stops at once (deliveries from now are signed with the new)."""
    _require_owner(actor, endpoint.organisation)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = secret_new(endpoint)
        endpoint.secret_rotated_at = timezone.now()
        endpoint.save(update_fields=["secret_encrypted", "secret_rotated_at"])
        _audit(actor, AuditAction.WEBHOOK_SECRET_ROTATED, endpoint)
    return endpoint, secret


def endpoint_set_enabled(*, actor: UserLike, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    """Enable (again) or disable an endpoint by hand. Enabling forgets its run of failures."""
    _require_owner(actor, endpoint.organisation)
    with transaction.atomic():
        if enabled and not endpoint.enabled:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_at=None, disabled_reason="",
                                                                  failing_since=None)
            _audit(actor, AuditAction.WEBHOOK_ENABLED, endpoint)
        elif not enabled and endpoint.enabled:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                enabled=False, disabled_at=timezone.now(),
                disabled_reason=_("Disabled by %(user)s.") % {"user": actor})
            _audit(actor, AuditAction.WEBHOOK_DISABLED, endpoint)
        endpoint.refresh_from_db()
    return endpoint


def endpoint_delete(*, actor: UserLike, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its deliveries' log."""
    _require_owner(actor, endpoint.organisation)
    with transaction.atomic():
        _audit(actor, AuditAction.WEBHOOK_REMOVED, endpoint)
        endpoint.delete()


def delivery_of(endpoint: WebhookEndpoint, webhook_id: str) -> WebhookDelivery:
    delivery = endpoint.deliveries.filter(webhook_id=webhook_id).first()
    if delivery is None:
        raise NotFound(_("No such delivery."))
    return delivery


def delivery_replay(*, actor: UserLike, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, with the same webhook-id and payload (a new timestamp and signature),
    now and with a new day of retries if it fails. Refused while its endpoint is disabled."""
    endpoint = delivery.endpoint
    _require_owner(actor, endpoint.organisation)
    if not endpoint.enabled:
        raise WrongState(_("The endpoint is disabled: enable it before replaying its deliveries."))
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.PENDING, next_attempt_at=now, delivered_at=None,
            retry_until=now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS))
        enqueue_on_commit("webhooks.tasks.deliver_webhook", delivery.pk)
    delivery.refresh_from_db()
    return delivery


def endpoint_send_test(*, actor: UserLike, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send the endpoint a signed `webhook.test` event now, through the real delivery path (a
    delivery row, sent after commit, retried and shown in the log like any other). Refused while the
    endpoint is disabled (409), and beyond WEBHOOK_TEST_EVENTS_PER_HOUR tests of this endpoint in the
    last hour (429; counted under the endpoint's row lock, so two clicks at once cannot both pass)."""
    _require_owner(actor, endpoint.organisation)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
        if not endpoint.enabled:
            raise WrongState(_("The endpoint is disabled: enable it before sending it a test event."))
        since = timezone.now() - timedelta(hours=1)
        recent = endpoint.deliveries.filter(event_type=WebhookEvent.TEST, created_at__gte=since)
        limit = settings.WEBHOOK_TEST_EVENTS_PER_HOUR
        if recent.count() >= limit:
            oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
            raise TooManyRequests(
                _("At most %(count)s test events an hour may be sent to one endpoint; try again after %(time)s.")
                % {"count": limit, "time": f"{timezone.localtime(oldest + timedelta(hours=1)):%H:%M}"})
        return webhook_test_event(endpoint=endpoint, requested_by=str(getattr(actor, "username", "") or actor))
