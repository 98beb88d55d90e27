"""E-mail sent for audit events: who hears of what, and the words they get, in each reader's language
(a staff member's own choice on the portal's account page, else the language of their last sign-in;
any other address, the site's): one mail per language among an event's recipients.

Each notification is derived from one audit event, so the event's number is the idempotency key:
the task may run twice, the mail goes out once. The mail is written pending in the event's own
transaction (`notification_write_for`, the outbox of endorsement.outbox) and sent after commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from config.i18n import local_name
from endorsement.audit import AuditAction
from endorsement.audit_labels import state_label
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
from institutions.staff import staff_mail_groups
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
    """What the event is about, in the active language."""
    pk = event.subject_id
    if event.subject_type == "application":
        app = Application.objects.filter(pk=pk).select_related("programme", "pathway").first()
        return (_("application #%(pk)s (%(subject)s)") % {"pk": pk, "subject": app.subject} if app
                else _("application #%(pk)s") % {"pk": pk})
    if event.subject_type == "endorsement":
        e = Endorsement.objects.filter(pk=pk).select_related("programme", "pathway").first()
        return _("the endorsement of %(subject)s") % {"subject": e.subject} if e else _("an endorsement")
    if event.subject_type == "qualityreview":
        q = QualityReview.objects.filter(pk=pk).select_related("programme").first()
        return _("the quality review of %(programme)s") % {"programme": q.programme} if q else _("a quality review")
    if event.subject_type == "concern":
        c = Concern.objects.filter(pk=pk).select_related("programme").first()
        return _("a concern about %(programme)s") % {"programme": c.programme} if c else _("a concern")
    if event.subject_type == "issuancereport":
        r = IssuanceReport.objects.filter(pk=pk).select_related("programme").first()
        return (_("the issuance report of %(programme)s (%(start)s–%(end)s)")
                % {"programme": r.programme, "start": r.period_start, "end": r.period_end}
                if r else _("an issuance report"))
    if event.subject_type == "pathway":
        p = Pathway.objects.filter(pk=pk).first()
        return _("the pathway %(name)s") % {"name": p} if p else _("a pathway")
    organisation = _organisation_for(event)
    return local_name(organisation) if organisation else str(pk)


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


def _recipients(event: AuditEvent, action: AuditAction) -> list[str] | None:
    """Who is mailed about the event; None for events nobody is mailed about."""
    if action in TO_MANAGERS:
        return _managers()
    if action in TO_ORGANISATION:
        organisation = _organisation_for(event)
        return _organisation_people(organisation) if organisation else []
    if action in TO_ORGANISATION_AND_MANAGERS:
        organisation = _organisation_for(event)
        return [*(_organisation_people(organisation) if organisation else []), *_managers()]
    if action in (A.APPLICATION_REVIEWER_ASSIGNED, A.QUALITY_REVIEW_REVIEWER_ASSIGNED):
        user = get_user_model().objects.filter(pk=event.data.get("reviewer_id")).first()
        return [user.email] if user and user.email else []
    return None


def _render(event: AuditEvent, action: AuditAction, recipients: list[str], language: str) -> Message:
    """The mail in `language`: every word under its override, whatever request committed the event."""
    with translation.override(language):
        title, what = _title(event), str(action.label)
        words = {"title": title, "what": what}
        subject = f"[{settings.SITE_URL.split('://', 1)[-1]}] " + _("%(title)s: %(what)s") % words
        lines = [_("%(title)s: %(what)s.") % words]
        if event.from_state or event.to_state:
            lines.append(_("State: %(from)s → %(to)s.") % {
                "from": state_label(event.subject_type, event.from_state) if event.from_state else "-",
                "to": state_label(event.subject_type, event.to_state) if event.to_state else "-"})
        if event.comment:
            lines += ["", event.comment]
        if action == A.QUALITY_REVIEW_CONDITIONS and event.data.get("due"):
            lines += ["", _("To be met by %(date)s.") % {"date": event.data["due"]}]
        if action == A.CONCERN_RECEIVED:
            lines += ["", _("Read it in the admin's queue of concerns:") + " "
                      + settings.SITE_URL + "/admin/endorsement/concern/"]
        if action == A.ISSUANCE_REPORT_DUE:
            lines += ["", _("The reporting period above has ended and no issuance report was filed for it. "
                            "File it on the portal's issuance figures page:"), settings.SITE_URL + "/portal/reports/"]
        by = _("By %(actor)s at %(at)s UTC.") % {"actor": event.actor_repr, "at": f"{event.at:%Y-%m-%d %H:%M}"}
        lines += ["", by, "", settings.SITE_URL + "/"]
    return Message(recipients=sorted(set(recipients)), subject=subject, body="\n".join(lines))


def message_for(event: AuditEvent, language: str | None = None) -> Message | None:
    """The e-mail an event causes to all its recipients in one language (the site's unless given),
    or None for events nobody is mailed about."""
    action = AuditAction(event.action)
    recipients = _recipients(event, action)
    if not recipients:
        return None
    return _render(event, action, recipients, language or settings.LANGUAGE_CODE)


def messages_for(event: AuditEvent) -> list[tuple[str, Message]]:
    """The e-mails an event causes, one per language its recipients read (each staff member's
    language, institutions.staff.staff_mail_groups; any other address, such as an
    organisation's contact address, the site's), the site's language first."""
    action = AuditAction(event.action)
    recipients = _recipients(event, action)
    if not recipients:
        return []
    return [(code, _render(event, action, group, code)) for code, group in staff_mail_groups(recipients)]


def _key(event: AuditEvent, index: int, language: str) -> str:
    """The outbox key of one language's mail: `audit:<seq>` for the first, `audit:<seq>:<language>`
    for each other (the event's number stays the idempotency key)."""
    return f"audit:{event.seq}" if index == 0 else f"audit:{event.seq}:{language}"


def notification_write_for(event: AuditEvent) -> Notification | None:
    """The pending mail an event causes, written in the caller's transaction (the outbox,
    endorsement.outbox); None when nobody is told of it or it is written already."""
    written = [notification_write(key=_key(event, index, language), recipients=message.recipients,
                                  subject=message.subject, body=message.body)
               for index, (language, message) in enumerate(messages_for(event))]
    return written[0] if written else None


def notification_send(event_id: int) -> bool:
    """Send the e-mail for one audit event once. True if sent now, False if not needed, sent before
    or not sent (a failed send stays pending in the outbox for the sweep). An event whose pending
    row was never written (events recorded before the outbox) gets it now."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        return False
    if not Notification.objects.filter(key=f"audit:{event.seq}").exists():
        with transaction.atomic():
            if notification_write_for(event) is None:
                return False
    rows = Notification.objects.filter(Q(key=f"audit:{event.seq}") | Q(key__startswith=f"audit:{event.seq}:"))
    sent = [notification_deliver(pk) for pk in rows.order_by("pk").values_list("pk", flat=True)]
    return any(sent)
