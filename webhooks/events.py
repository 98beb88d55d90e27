"""What a webhook reports, and to whom: a delivery per subscribed endpoint of the organisation whose
data it is, written in the transaction of the change and sent after commit (webhooks.delivery).

Most events derive from the audit trail: `on_audit_event` is connected (webhooks.apps) to the
saving of every `AuditEvent`, in the transaction that records it, so a change that rolls back sends
nothing and no service repeats its business logic here. The batch and evidence events, which are not
audit events, and `award.issued` (a batch's awards have no audit event each), are emitted by their
services (badges.batches, badges.evidence, badges.awards.after_issue) through `webhook_emit`.

An event goes to one organisation only: the member whose award, batch, application, endorsement or
evidence link it is — or, for the body's events (a new application, an issuance report filed), the
body's own endpoints. Never to another member.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction
from endorsement.models import Application, AuditEvent, Endorsement, IssuanceReport
from institutions.models import Organisation
from webhooks.models import BODY_EVENTS, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)
A = AuditAction
E = WebhookEvent

APPLICATION_RECEIVED = {A.APPLICATION_SUBMITTED, A.APPLICATION_RESUBMITTED}


def new_webhook_id() -> str:
    """A Standard Webhooks message id: unique per event and endpoint, the same on every attempt."""
    return f"msg_{uuid.uuid4().hex}"


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _organisation(organisation: Organisation) -> dict[str, str]:
    return {"slug": organisation.slug, "name": organisation.name}


def _programme(programme: Any) -> dict[str, str]:
    return {"id": str(programme.public_id), "name_en": programme.name_en, "name_ja": programme.name_ja}


def _subject(application_or_endorsement: Any) -> dict[str, dict[str, str]]:
    """What an application or endorsement is for, under its kind's key: a programme or a pathway."""
    if application_or_endorsement.programme_id:
        return {"programme": _programme(application_or_endorsement.programme)}
    return {"pathway": _programme(application_or_endorsement.pathway)}


def _subscribed(organisation_id: int, event_type: WebhookEvent) -> list[WebhookEndpoint]:
    """The organisation's enabled endpoints that chose this event; none if the event is not the
    organisation's kind (a body's event goes to the body's endpoints only, a member's to the member's)."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(organisation_id=organisation_id, enabled=True)
                 .select_related("organisation") if event_type in e.events]
    if endpoints and (event_type in BODY_EVENTS) != endpoints[0].organisation.is_certification_body:
        return []
    return endpoints


def webhook_emit(*, organisation_id: int, event_type: WebhookEvent, source: str, data: dict[str, Any],
                 at: Any = None) -> list[WebhookDelivery]:
    """Write one pending delivery of this event for each enabled endpoint of the organisation that
    chose it, in the caller's transaction, and send each after commit. `source` names the cause: a
    second emit of the same cause writes nothing (one webhook-id per event per endpoint)."""
    return _write(_subscribed(organisation_id, event_type), [(event_type, source, data, at)])


def webhook_test_event(*, endpoint: WebhookEndpoint, requested_by: str) -> WebhookDelivery:
    """Write one pending `webhook.test` delivery to this endpoint whatever events it chose, in the
    caller's transaction, and send it after commit through the same path as any event (signed, retried,
    logged). Each test is its own cause: a new webhook-id every time."""
    source = f"test:{uuid.uuid4().hex}"
    data = {"organisation": _organisation(endpoint.organisation),
            "endpoint": {"id": str(endpoint.public_id), "url": endpoint.url},
            "requested_by": requested_by,
            "message": "A test event, sent because it was asked for. Nothing happened to your data."}
    return _write([endpoint], [(WebhookEvent.TEST, source, data, None)])[0]


def _write(endpoints: list[WebhookEndpoint], events: list[tuple[WebhookEvent, str, dict[str, Any], Any]]
           ) -> list[WebhookDelivery]:
    if not endpoints or not events:
        return []
    now = timezone.now()
    retry_until = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    sources = {source for _type, source, _data, _at in events}
    written_before = set(WebhookDelivery.objects.filter(endpoint__in=endpoints, source__in=sources)
                         .values_list("endpoint_id", "source"))
    rows = [
        WebhookDelivery(endpoint=endpoint, event_type=event_type, webhook_id=new_webhook_id(), source=source,
                        payload={"type": str(event_type), "timestamp": _iso(at or now), "data": data},
                        next_attempt_at=now, retry_until=retry_until)
        for event_type, source, data, at in events for endpoint in endpoints
        if (endpoint.pk, source) not in written_before
    ]
    if not rows:
        return []
    # A row another transaction wrote first for the same cause and endpoint is skipped, not an error
    # that would undo what caused it; the rows written are read back by their webhook-id.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    written = list(WebhookDelivery.objects.filter(webhook_id__in=[r.webhook_id for r in rows]).order_by("pk"))
    for row in written:
        enqueue_on_commit("webhooks.tasks.deliver_webhook", row.pk)
    return written


def _has_endpoints(organisation_id: int | None) -> bool:
    return organisation_id is not None and WebhookEndpoint.objects.filter(
        organisation_id=organisation_id, enabled=True).exists()


def _body_id() -> int | None:
    return Organisation.objects.filter(is_certification_body=True).values_list("pk", flat=True).first()


def _award_data(award: Any) -> dict[str, Any]:
    return {
        "award": {
            "id": str(award.public_id), "programme": _programme(award.programme),
            "recipient_email": award.recipient_email, "recipient_did": award.recipient_did,
            "issued_at": _iso(award.issued_at), "valid_from": _iso(award.valid_from),
            "valid_until": _iso(award.valid_until),
            "batch": str(award.batch.public_id) if award.batch_id else None,
            "badge_url": f"{settings.SITE_URL}/badges/{award.public_id}",
        },
        "organisation": _organisation(award.organisation),
    }


def webhooks_for_awards_issued(awards: list[Any]) -> int:
    """Awards just saved, one or a batch chunk's (badges.awards.after_issue, in the issuing
    transaction): an `award.issued` each. A batch's awards have no audit event of their own, so this
    is emitted where every award passes, the learners' mails are written."""
    if not awards or not _has_endpoints(awards[0].organisation_id):
        return 0
    endpoints = _subscribed(awards[0].organisation_id, E.AWARD_ISSUED)  # one organisation's, a chunk at a time
    events = [(E.AWARD_ISSUED, f"award:{award.pk}:issued", _award_data(award), award.issued_at) for award in awards]
    return len(_write(endpoints, events))


def _state_change(event: AuditEvent) -> dict[str, Any]:
    return {"action": event.action, "from": event.from_state, "to": event.to_state, "comment": event.comment,
            "at": _iso(event.at)}


def on_audit_event(sender: type, instance: AuditEvent, created: bool = False, **kwargs: Any) -> None:
    """post_save of AuditEvent: the webhooks this event causes, if any endpoint wants them."""
    if created and not kwargs.get("raw"):
        webhooks_for_audit_event(instance)


def webhooks_for_audit_event(event: AuditEvent) -> int:
    """Write the deliveries an audit event causes; how many. Cheap for the events no webhook reports
    and for organisations with no endpoint (one query)."""
    from badges.models import Award

    action, source, count = event.action, f"audit:{event.seq}", 0
    if event.subject_type == "award" and action == A.AWARD_REVOKED:
        award = Award.objects.filter(pk=event.subject_id).select_related("programme", "organisation", "batch").first()
        if award and _has_endpoints(award.organisation_id):
            data = _award_data(award)
            data["award"]["revocation_reason"] = event.comment
            count += len(webhook_emit(organisation_id=award.organisation_id, event_type=E.AWARD_REVOKED,
                                      source=source, data=data, at=event.at))
    elif event.subject_type == "application" and event.from_state != event.to_state and event.to_state:
        application = Application.objects.filter(pk=event.subject_id).select_related(
            "programme", "pathway", "organisation").first()
        if application is None:
            return 0
        data = {"application": {"id": application.pk, **_subject(application),
                                "state": application.state, **_state_change(event)},
                "organisation": _organisation(application.organisation)}
        if _has_endpoints(application.organisation_id):
            count += len(webhook_emit(organisation_id=application.organisation_id,
                                      event_type=E.APPLICATION_STATE_CHANGED, source=source, data=data, at=event.at))
        body = _body_id()
        if action in APPLICATION_RECEIVED and _has_endpoints(body):
            count += len(webhook_emit(organisation_id=body, event_type=E.APPLICATION_RECEIVED, source=source,
                                      data=data, at=event.at))
    elif event.subject_type == "endorsement" and event.from_state != event.to_state and event.to_state:
        endorsement = Endorsement.objects.filter(pk=event.subject_id).select_related(
            "programme", "pathway", "organisation").first()
        if endorsement and _has_endpoints(endorsement.organisation_id):
            data = {"endorsement": {"id": str(endorsement.public_id), **_subject(endorsement),
                                    "standing": endorsement.state, "valid_from": _iso(endorsement.valid_from),
                                    "valid_until": _iso(endorsement.valid_until), **_state_change(event)},
                    "organisation": _organisation(endorsement.organisation)}
            count += len(webhook_emit(organisation_id=endorsement.organisation_id,
                                      event_type=E.ENDORSEMENT_STANDING_CHANGED, source=source, data=data,
                                      at=event.at))
    elif event.subject_type == "issuancereport" and action == A.ISSUANCE_REPORT_FILED:
        body = _body_id()
        report = IssuanceReport.objects.filter(pk=event.subject_id).select_related(
            "programme", "organisation").first()
        if report and _has_endpoints(body):
            data = {"issuance_report": {"id": str(report.public_id), "programme": _programme(report.programme),
                                        "period_start": report.period_start.isoformat(),
                                        "period_end": report.period_end.isoformat(), "count": report.count,
                                        "platform": report.platform, "filed_at": _iso(event.at)},
                    "organisation": _organisation(report.organisation)}
            count += len(webhook_emit(organisation_id=body, event_type=E.ISSUANCE_REPORT_FILED, source=source,
                                      data=data, at=event.at))
    return count


def webhooks_for_batch(batch: Any) -> int:
    """A batch that finished issuing, or failed (badges.batches): its organisation's webhooks."""
    from badges.models import AwardBatch

    organisation_id = batch.programme.organisation_id
    if not _has_endpoints(organisation_id):
        return 0
    kind = E.BATCH_FINISHED if batch.state == AwardBatch.State.DONE else E.BATCH_FAILED
    data = {"batch": {"id": str(batch.public_id), "programme": _programme(batch.programme), "state": batch.state,
                      "total": batch.total, "issued": batch.issued, "error": batch.error,
                      "finished_at": _iso(batch.finished_at)},
            "organisation": _organisation(batch.programme.organisation)}
    # A restarted batch that finishes again is a new event: the moment it finished is in the source.
    source = f"batch:{batch.pk}:{batch.state}:{batch.finished_at.timestamp() if batch.finished_at else 0:.0f}"
    return len(webhook_emit(organisation_id=organisation_id, event_type=kind, source=source, data=data,
                            at=batch.finished_at))


def webhooks_for_first_fetches(checks: Any, *, before: str) -> int:
    """The first standing of links fetched before signing (badges.evidence: one batch chunk's or one
    award's), each reported as a first fetch after issue is: `before` (pending) to reachable or gone.
    Whether an organisation has endpoints is asked once per organisation, not once per link."""
    count, with_endpoints = 0, {}
    for check in checks:
        organisation_id = check.award.organisation_id
        if organisation_id not in with_endpoints:
            with_endpoints[organisation_id] = _has_endpoints(organisation_id)
        if with_endpoints[organisation_id]:
            count += webhooks_for_evidence(check, before=before)
    return count


def webhooks_for_evidence(check: Any, *, before: str) -> int:
    """An award's evidence link whose standing changed from `before` (badges.evidence)."""
    award = check.award
    if not _has_endpoints(award.organisation_id) or check.standing == before:
        return 0
    data = {"award": {"id": str(award.public_id), "programme": _programme(award.programme)},
            "evidence": {"url": check.url, "standing": check.standing, "previous_standing": before,
                         "checked_at": _iso(check.last_checked_at), "detail": check.detail},
            "organisation": _organisation(award.organisation)}
    source = f"evidence:{check.pk}:{check.last_checked_at.timestamp() if check.last_checked_at else 0:.6f}"
    return len(webhook_emit(organisation_id=award.organisation_id, event_type=E.EVIDENCE_STANDING_CHANGED,
                            source=source, data=data, at=check.last_checked_at))
