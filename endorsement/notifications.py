"""E-mail sent for audit events: who hears of what, and the words they get.

Each notification is derived from one audit event, so the event's number is the idempotency key:
the task may run twice, the mail goes out once. The mail is written pending in the event's own
transaction (`notification_write_for`, the outbox of endorsement.outbox) and sent after commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from endorsement.audit import AuditAction
from endorsement.models import (
    Application,
    AuditEvent,
    Concern,
    Endorsement,
    IssuanceReport,
    Notification,
    QualityReview,
)
from endorsement.outbox import notification_deliver, notification_write
from institutions.models import CAN_EDIT, Organisation, Role, StaffMember
from pathways.models import Pathway

A = AuditAction


@dataclass(frozen=True)
class Message:
    recipients: list[str]
    subject: str
    body: str


def _managers() -> list[str]:
    return list(
        StaffMember.objects.filter(organisation__is_certification_body=True, role=Role.MANAGER)
        .exclude(user__email="").values_list("user__email", flat=True)
    )


def _organisation_people(organisation: Organisation) -> list[str]:
    staff = StaffMember.objects.filter(organisation=organisation, role__in=CAN_EDIT).exclude(user__email="")
    emails = list(staff.values_list("user__email", flat=True))
    return sorted({organisation.contact_email, *emails} - {""})


def _organisation_for(event: AuditEvent) -> Organisation | None:
    if event.subject_type == "organisation":
        return Organisation.objects.filter(pk=event.subject_id).first()
    if event.subject_type == "application":
        app = Application.objects.filter(pk=event.subject_id).select_related("organisation").first()
        return app.organisation if app else None
    if event.subject_type == "endorsement":
        e = Endorsement.objects.filter(pk=event.subject_id).select_related("organisation").first()
        return e.organisation if e else None
    if event.subject_type == "issuancereport":
        r = IssuanceReport.objects.filter(pk=event.subject_id).select_related("organisation").first()
        return r.organisation if r else None
    if event.subject_type == "qualityreview":
        q = QualityReview.objects.filter(pk=event.subject_id).select_related("organisation").first()
        return q.organisation if q else None
    if event.subject_type == "pathway":
        p = Pathway.objects.filter(pk=event.subject_id).select_related("organisation").first()
        return p.organisation if p else None
    return None


def _title(event: AuditEvent) -> str:
    if event.subject_type == "application":
        app = Application.objects.filter(pk=event.subject_id).select_related("programme", "pathway").first()
        return f"application #{event.subject_id} ({app.subject})" if app else f"application #{event.subject_id}"
    if event.subject_type == "endorsement":
        e = Endorsement.objects.filter(pk=event.subject_id).select_related("programme", "pathway").first()
        return f"the endorsement of {e.subject}" if e else "an endorsement"
    if event.subject_type == "qualityreview":
        q = QualityReview.objects.filter(pk=event.subject_id).select_related("programme").first()
        return f"the quality review of {q.programme}" if q else "a quality review"
    if event.subject_type == "concern":
        c = Concern.objects.filter(pk=event.subject_id).select_related("programme").first()
        return f"a concern about {c.programme}" if c else "a concern"
    if event.subject_type == "issuancereport":
        r = IssuanceReport.objects.filter(pk=event.subject_id).select_related("programme").first()
        return f"the issuance report of {r.programme} ({r.period_start}–{r.period_end})" if r else "an issuance report"
    if event.subject_type == "pathway":
        p = Pathway.objects.filter(pk=event.subject_id).first()
        return f"the pathway {p.name}" if p else "a pathway"
    return str(_organisation_for(event) or event.subject_id)


TO_MANAGERS = {A.ORGANISATION_APPLIED, A.APPLICATION_SUBMITTED, A.APPLICATION_RESUBMITTED,
               A.ISSUANCE_REPORT_CORRECTED, A.ISSUANCE_REPORT_WITHDRAWN, A.CONCERN_RECEIVED}
# A pathway whose component lost its endorsement: the body's managers and the pathway's organisation.
TO_ORGANISATION_AND_MANAGERS_PATHWAY = {A.PATHWAY_FLAGGED}
TO_ORGANISATION = {
    A.ORGANISATION_APPROVED, A.ORGANISATION_REJECTED, A.ORGANISATION_SUSPENDED, A.ORGANISATION_REINSTATED,
    A.APPLICATION_CHANGES_REQUESTED, A.APPLICATION_ENDORSED, A.APPLICATION_REJECTED, A.APPLICATION_PUBLISHED,
    A.ENDORSEMENT_SUSPENDED, A.ENDORSEMENT_REINSTATED, A.ENDORSEMENT_REVOKED, A.ENDORSEMENT_EXPIRED,
    A.ENDORSEMENT_STARTED, A.ENDORSEMENT_SUPERSEDED,
    A.ISSUANCE_REPORT_DUE, A.QUALITY_REVIEW_OPENED, A.QUALITY_REVIEW_CLOSED, A.QUALITY_REVIEW_CONDITIONS,
    A.QUALITY_REVIEW_CONDITIONS_MET, A.QUALITY_REVIEW_SUSPENDED, A.QUALITY_REVIEW_REVOKED,
}
TO_ORGANISATION_AND_MANAGERS = {A.ENDORSEMENT_EXPIRY_REMINDED, *TO_ORGANISATION_AND_MANAGERS_PATHWAY}


def message_for(event: AuditEvent) -> Message | None:
    """The e-mail an event causes, or None for events nobody is mailed about."""
    action = AuditAction(event.action)
    if action in TO_MANAGERS:
        recipients = _managers()
    elif action in TO_ORGANISATION:
        organisation = _organisation_for(event)
        recipients = _organisation_people(organisation) if organisation else []
    elif action in TO_ORGANISATION_AND_MANAGERS:
        organisation = _organisation_for(event)
        recipients = [*(_organisation_people(organisation) if organisation else []), *_managers()]
    elif action in (A.APPLICATION_REVIEWER_ASSIGNED, A.QUALITY_REVIEW_REVIEWER_ASSIGNED):
        user = get_user_model().objects.filter(pk=event.data.get("reviewer_id")).first()
        recipients = [user.email] if user and user.email else []
    else:
        return None
    if not recipients:
        return None
    # The mails are written in English (their body is); the label would otherwise follow the language
    # of whatever request happened to commit the event.
    with translation.override("en"):
        what = str(action.label)
    subject = f"[{settings.SITE_URL.split('://', 1)[-1]}] {_title(event)}: {what}"
    lines = [f"{_title(event)}: {event.action.replace('.', ' ').replace('_', ' ')}."]
    if event.from_state or event.to_state:
        lines.append(f"State: {event.from_state or '-'} → {event.to_state or '-'}.")
    if event.comment:
        lines += ["", event.comment]
    if action == A.QUALITY_REVIEW_CONDITIONS and event.data.get("due"):
        lines += ["", f"To be met by {event.data['due']}."]
    if action == A.CONCERN_RECEIVED:
        lines += ["", "Read it in the admin's queue of concerns: " + settings.SITE_URL + "/admin/endorsement/concern/"]
    if action == A.ISSUANCE_REPORT_DUE:
        lines += ["", "The reporting period above has ended and no issuance report was filed for it. "
                  "File it on the portal's issuance figures page:", settings.SITE_URL + "/portal/reports/"]
    lines += ["", f"By {event.actor_repr} at {event.at:%Y-%m-%d %H:%M} UTC.", "", settings.SITE_URL + "/"]
    return Message(recipients=sorted(set(recipients)), subject=subject, body="\n".join(lines))


def notification_write_for(event: AuditEvent) -> Notification | None:
    """The pending mail an event causes, written in the caller's transaction (the outbox,
    endorsement.outbox); None when nobody is told of it or it is written already."""
    message = message_for(event)
    if message is None:
        return None
    return notification_write(key=f"audit:{event.seq}", recipients=message.recipients, subject=message.subject,
                              body=message.body)


def notification_send(event_id: int) -> bool:
    """Send the e-mail for one audit event once. True if sent now, False if not needed, sent before
    or not sent (a failed send stays pending in the outbox for the sweep). An event whose pending
    row was never written (events recorded before the outbox) gets it now."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        return False
    row = Notification.objects.filter(key=f"audit:{event.seq}").only("pk").first()
    if row is None:
        with transaction.atomic():
            row = notification_write_for(event)
        if row is None:
            return False
    return notification_deliver(row.pk)
