"""Issuance figures: organisations report how many badges they issued under an endorsed programme
on other platforms, per period. The registry shows the reports beside the count of badges issued
by this server (endorsement.registry).

A report is filed once and never edited: it is corrected by filing a new revision (the old one
stays, `corrected`, with the reason) or withdrawn with a reason. Only `filed` reports count; the
same endorsement, period and platform cannot have two filed reports (a partial unique constraint
keeps two simultaneous requests from doing so). A period must have ended before it is reported.

Managers set each organisation's reporting cycle; `issuance_reports_remind_due` (beat, daily)
reminds the organisation once per programme and due period that ended without a filed report.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Programme
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from config.fsm import check_transition
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.models import (
    ApplicationState,
    Endorsement,
    EndorsementState,
    IssuanceReport,
    IssuanceReportReminder,
    ReportingCycle,
    ReportStatus,
)
from endorsement.registry import registry_refresh_on_commit
from institutions.models import MEMBER_ROLES, Organisation
from institutions.permissions import UserLike, is_manager, staff_of

MAX_REASON = 2_000

MAX_COUNT = 10_000_000
MAX_PLATFORM = 200
MAX_NOTE = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK_OR_TAB = re.compile(r"[\t\n\r]")


def _check_reporter(actor: UserLike, programme: Programme) -> None:
    """Owners, editors and issuers of the programme's organisation report. The body's managers may
    read the reports (403 to file); anyone else is told the programme does not exist (404)."""
    staff = staff_of(actor)
    if staff is not None and staff.organisation_id == programme.organisation_id and staff.role in MEMBER_ROLES:
        return
    if is_manager(actor):
        raise NotPermitted(_("Only the organisation's own staff report its issuance figures."))
    raise NotFound(_("No such programme."))


def programme_for_reports(actor: UserLike, public_id: Any) -> Programme:
    """The programme whose reports the actor may read: its organisation's staff, or a manager."""
    programme = Programme.objects.select_related("organisation").filter(public_id=public_id).first()
    if programme is None:
        raise NotFound(_("No such programme."))
    staff = staff_of(actor)
    if not (is_manager(actor) or (staff is not None and staff.organisation_id == programme.organisation_id)):
        raise NotFound(_("No such programme."))
    return programme


def issuance_reports_of(programme: Programme) -> QuerySet[IssuanceReport]:
    return IssuanceReport.objects.filter(programme=programme).select_related("endorsement", "reported_by")


def published_endorsements(programme: Programme) -> QuerySet[Endorsement]:
    return Endorsement.objects.filter(
        programme=programme, application__state=ApplicationState.PUBLISHED
    ).order_by("-valid_from", "-pk")


def _date(value: Any, errors: dict[str, list[str]], name: str) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        errors[name] = [_("This field is required.")]
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def _count(value: Any, errors: dict[str, list[str]]) -> int | None:
    if isinstance(value, bool):
        value = None
    text = str(value).strip() if value is not None else ""
    if not text:
        errors["count"] = [_("This field is required.")]
        return None
    if not re.fullmatch(r"\d{1,9}", text):
        errors["count"] = [_("Enter a whole number, 0 or more.")]
        return None
    number = int(text)
    if number > MAX_COUNT:
        errors["count"] = [_("At most %(max)d.") % {"max": MAX_COUNT}]
        return None
    return number


def _line(value: Any, errors: dict[str, list[str]], name: str, limit: int, *, required: bool,
          multiline: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[name] = [_("This field is required.")]
    elif len(text) > limit:
        errors[name] = [_("At most %(max)d characters.") % {"max": limit}]
    elif _CONTROL.search(text) or (not multiline and _LINE_BREAK_OR_TAB.search(text)):
        errors[name] = [_("Remove the control characters.")]
    return text


def issuance_report_clean(*, period_start: Any, period_end: Any, count: Any, platform: Any,
                          note: Any = "") -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The report's fields checked one by one: (clean values, field errors)."""
    errors: dict[str, list[str]] = {}
    start, end = _date(period_start, errors, "period_start"), _date(period_end, errors, "period_end")
    today = timezone.localdate()
    if start and start > today:
        errors["period_start"] = [_("The period cannot start in the future.")]
    if end and end >= today:
        errors["period_end"] = [_("The period has not ended yet: report it from %(day)s on.")
                                % {"day": (end + timedelta(days=1)).isoformat()}]
    if start and end and end < start:
        errors["period_end"] = [_("The period must end on or after its start.")]
    clean = {
        "period_start": start, "period_end": end, "count": _count(count, errors),
        "platform": _line(platform, errors, "platform", MAX_PLATFORM, required=True),
        "note": _line(note, errors, "note", MAX_NOTE, required=False, multiline=True),
    }
    return clean, errors


def _endorsement_for_period(programme: Programme, start: date, end: date) -> Endorsement:
    endorsements = list(published_endorsements(programme))
    if not endorsements:
        raise WrongState(_("This programme has no endorsement published in the registry: there is nothing to "
                           "report under."))
    for endorsement in endorsements:
        if start <= endorsement.valid_until.date() and end >= endorsement.valid_from.date():
            return endorsement
    newest = endorsements[0]
    message = _("The period must overlap the endorsement, from %(start)s to %(end)s.") % {
        "start": newest.valid_from.date().isoformat(), "end": newest.valid_until.date().isoformat()}
    raise InvalidInput(message, field_errors={"period_start": [message], "period_end": [message]})


def _notify(event: Any) -> None:
    enqueue_on_commit("endorsement.tasks.send_notification", event.pk)


def _reason(value: Any) -> str:
    errors: dict[str, list[str]] = {}
    text = _line(value, errors, "reason", MAX_REASON, required=True, multiline=True)
    if errors:
        raise InvalidInput(_("Give the reason."), field_errors=errors)
    return text


def _create(*, actor: UserLike, programme: Programme, clean: dict[str, Any], **extra: Any) -> IssuanceReport:
    endorsement = _endorsement_for_period(programme, clean["period_start"], clean["period_end"])
    try:
        with transaction.atomic():
            return IssuanceReport.objects.create(
                organisation_id=programme.organisation_id, programme=programme, endorsement=endorsement,
                reported_by=actor, **clean, **extra,
            )
    except IntegrityError:
        message = _("A report for this platform and period was already filed.")
        raise InvalidInput(message, field_errors={"platform": [message]}) from None


def _figures(report: IssuanceReport) -> dict[str, Any]:
    return {"report": str(report.public_id), "revision": report.revision, "count": report.count,
            "platform": report.platform, "period_start": report.period_start.isoformat(),
            "period_end": report.period_end.isoformat()}


@transaction.atomic
def issuance_report_file(*, actor: UserLike, programme: Programme, period_start: Any, period_end: Any,
                         count: Any, platform: Any, note: Any = "") -> IssuanceReport:
    """Report `count` badges issued under `programme` on `platform` between `period_start` and
    `period_end` (dates, or YYYY-MM-DD strings; the period must have ended). Owners, editors and
    issuers of the organisation; the programme must have a published endorsement overlapping the
    period (the newest such one is recorded). Refused with nothing written: another organisation's
    programme (404), the body's staff (403), bad input (400 by field, a repeated period and platform
    included), no published endorsement (409). Audited; the registry is refreshed after commit."""
    _check_reporter(actor, programme)
    clean, errors = issuance_report_clean(period_start=period_start, period_end=period_end, count=count,
                                          platform=platform, note=note)
    if errors:
        raise InvalidInput(_("The report was not filed: correct the fields in error."), field_errors=errors)
    report = _create(actor=actor, programme=programme, clean=clean)
    audit_record(actor=actor, action=AuditAction.ISSUANCE_REPORT_FILED, subject=report,
                 to_state=report.status, data={**_figures(report), "programme": str(programme.public_id)})
    registry_refresh_on_commit(programmes=[programme.pk])
    return report


def _locked_report(actor: UserLike, report: IssuanceReport) -> IssuanceReport:
    report = IssuanceReport.objects.select_for_update().select_related("programme").get(pk=report.pk)
    _check_reporter(actor, report.programme)
    return report


def _close(report: IssuanceReport, name: str, *, actor: UserLike, reason: str, action: AuditAction,
           data: dict[str, Any] | None = None) -> None:
    before = report.status
    getattr(report, name)()
    report.reason = reason
    report.status_changed_at = timezone.now()
    report.status_changed_by = actor
    report.save(update_fields=["status", "reason", "status_changed_at", "status_changed_by"])
    event = audit_record(actor=actor, action=action, subject=report, from_state=before, to_state=report.status,
                         comment=reason, data={**_figures(report), **(data or {})})
    _notify(event)


@transaction.atomic
def issuance_report_correct(*, actor: UserLike, report: IssuanceReport, reason: Any, period_start: Any,
                            period_end: Any, count: Any, platform: Any, note: Any = "") -> IssuanceReport:
    """Correct a filed report: a new revision with the corrected figures is filed and the old one
    becomes `corrected` (kept, readable, with the reason). Same people and the same field rules as
    filing; a reason is required. Refused with nothing written: a report already corrected or
    withdrawn (409), bad input (400), another organisation's report (404), the body (403).
    Returns the new revision."""
    report = _locked_report(actor, report)
    check_transition(report, "correct", actor)
    clean, errors = issuance_report_clean(period_start=period_start, period_end=period_end, count=count,
                                          platform=platform, note=note)
    reason_errors: dict[str, list[str]] = {}
    reason_text = _line(reason, reason_errors, "reason", MAX_REASON, required=True, multiline=True)
    errors.update(reason_errors)
    if errors:
        raise InvalidInput(_("The correction was not filed: correct the fields in error."), field_errors=errors)
    with transaction.atomic():
        # The old revision leaves `filed` first, so the new one may keep its period and platform.
        before = report.status
        report.correct()
        report.reason, report.status_changed_at, report.status_changed_by = reason_text, timezone.now(), actor
        report.save(update_fields=["status", "reason", "status_changed_at", "status_changed_by"])
        revision = _create(actor=actor, programme=report.programme, clean=clean, revision=report.revision + 1,
                           corrects=report)
    event = audit_record(actor=actor, action=AuditAction.ISSUANCE_REPORT_CORRECTED, subject=report,
                         from_state=before, to_state=report.status, comment=reason_text,
                         data={**_figures(report), "corrected_by": _figures(revision)})
    audit_record(actor=actor, action=AuditAction.ISSUANCE_REPORT_FILED, subject=revision,
                 to_state=revision.status, comment=reason_text,
                 data={**_figures(revision), "corrects": str(report.public_id),
                       "programme": str(report.programme.public_id)})
    _notify(event)
    registry_refresh_on_commit(programmes=[report.programme_id])
    return revision


@transaction.atomic
def issuance_report_withdraw(*, actor: UserLike, report: IssuanceReport, reason: Any) -> IssuanceReport:
    """Withdraw a filed report with a reason: it stops counting and stays readable as `withdrawn`.
    Refused with nothing written: not filed (409), no reason (400), not the organisation's (404/403)."""
    report = _locked_report(actor, report)
    check_transition(report, "withdraw", actor)
    _close(report, "withdraw", actor=actor, reason=_reason(reason), action=AuditAction.ISSUANCE_REPORT_WITHDRAWN)
    registry_refresh_on_commit(programmes=[report.programme_id])
    return report


def reports_visible_to(actor: UserLike) -> QuerySet[IssuanceReport]:
    """Every report for the body's managers; the organisation's own for its staff; none otherwise."""
    reports = IssuanceReport.objects.select_related("programme", "endorsement", "reported_by", "corrects",
                                                    "organisation")
    if is_manager(actor):
        return reports
    staff = staff_of(actor)
    if staff is None or staff.role not in MEMBER_ROLES:
        return reports.none()
    return reports.filter(organisation_id=staff.organisation_id)


# --- Reporting cycles and reminders ---------------------------------------------------------------
def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class DuePeriod:
    start: date
    end: date


def last_ended_period(cycle: ReportingCycle, today: date) -> DuePeriod | None:
    """The newest period of the cycle that ended before `today` (None before the first one ends)."""
    if add_months(cycle.starts_on, cycle.months) > today:
        return None
    # Count whole cycles elapsed from the anchor, then step back while the period has not ended.
    elapsed = (today.year - cycle.starts_on.year) * 12 + today.month - cycle.starts_on.month
    k = max(elapsed // cycle.months, 1)
    while add_months(cycle.starts_on, k * cycle.months) > today:
        k -= 1
    start = add_months(cycle.starts_on, (k - 1) * cycle.months)
    end = add_months(cycle.starts_on, k * cycle.months) - timedelta(days=1)
    return DuePeriod(start, end)


def next_due_period(cycle: ReportingCycle, today: date) -> DuePeriod:
    """The period in progress today (or the first one, if the cycle starts later)."""
    if cycle.starts_on > today:
        return DuePeriod(cycle.starts_on, add_months(cycle.starts_on, cycle.months) - timedelta(days=1))
    last = last_ended_period(cycle, today)
    start = last.end + timedelta(days=1) if last else cycle.starts_on
    k_end = add_months(start, cycle.months) - timedelta(days=1)
    return DuePeriod(start, k_end)


def is_reported(programme: Programme, period: DuePeriod) -> bool:
    """A filed report of the programme overlaps the period."""
    return IssuanceReport.objects.filter(programme=programme, status=ReportStatus.FILED,
                                         period_start__lte=period.end, period_end__gte=period.start).exists()


@transaction.atomic
def reporting_cycle_set(*, actor: UserLike, organisation: Organisation, months: Any,
                        starts_on: Any) -> ReportingCycle:
    """Managers set (or change) how often an organisation reports its issuance figures. Audited."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body set reporting cycles."))
    errors: dict[str, list[str]] = {}
    try:
        months = int(months)
    except (TypeError, ValueError):
        months = None
    if months not in ReportingCycle.Months.values:
        errors["months"] = [_("Choose one of: %(v)s.") % {"v": ", ".join(map(str, ReportingCycle.Months.values))}]
    start = _date(starts_on, errors, "starts_on")
    if organisation.is_certification_body:
        errors["organisation"] = [_("The certification body does not report to itself.")]
    if errors:
        raise InvalidInput(_("The reporting cycle was not saved: correct the fields in error."), field_errors=errors)
    cycle = ReportingCycle.objects.select_for_update().filter(organisation=organisation).first()
    before = f"{cycle.months}m from {cycle.starts_on}" if cycle else ""
    if cycle is None:
        cycle = ReportingCycle(organisation=organisation)
    cycle.months, cycle.starts_on, cycle.set_by = months, start, actor
    cycle.save()
    audit_record(actor=actor, action=AuditAction.REPORTING_CYCLE_SET, subject=organisation,
                 from_state=before, to_state=f"{months}m from {start}",
                 data={"months": months, "starts_on": start.isoformat()})
    return cycle


def _grace() -> timedelta:
    return timedelta(days=getattr(settings, "ISSUANCE_REPORT_GRACE_DAYS", 14))


def issuance_reports_remind_due(*, today: date | None = None) -> int:
    """Beat: for every organisation with a reporting cycle, every programme with a published
    endorsement in force during the last ended period, remind the organisation once (a reminder row,
    unique per programme and period) when that period ended more than the grace days ago and has no
    filed report. Safe to run again and again. Returns how many reminders were sent."""
    today = today or timezone.localdate()
    sent = 0
    for cycle in ReportingCycle.objects.select_related("organisation"):
        period = last_ended_period(cycle, today - _grace())
        if period is None:
            continue
        endorsements = Endorsement.objects.filter(
            organisation_id=cycle.organisation_id, application__state=ApplicationState.PUBLISHED,
            programme__isnull=False, valid_from__date__lte=period.end, valid_until__date__gte=period.start,
        ).filter(Q(state__in=[EndorsementState.ACTIVE, EndorsementState.SUSPENDED])
                 | Q(state_changed_at__date__gt=period.end)).select_related("programme")
        for programme in {e.programme for e in endorsements}:
            if is_reported(programme, period):
                continue
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        IssuanceReportReminder.objects.create(organisation_id=cycle.organisation_id,
                                                              programme=programme, period_start=period.start,
                                                              period_end=period.end)
                except IntegrityError:
                    continue  # reminded before
                event = audit_record(
                    actor=None, action=AuditAction.ISSUANCE_REPORT_DUE, subject=cycle.organisation,
                    comment=f"{programme.name}: {period.start.isoformat()} – {period.end.isoformat()}",
                    data={"programme": str(programme.public_id), "period_start": period.start.isoformat(),
                          "period_end": period.end.isoformat()},
                )
                _notify(event)
                sent += 1
    return sent
