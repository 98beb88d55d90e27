"""Issuance figures: organisations report how many badges they issued under an endorsed programme
on other platforms, per period. The registry shows the reports beside the count of badges issued
by this server (endorsement.registry).

A report is filed once and not edited: the same programme, period and platform cannot be reported
twice (a unique constraint keeps two simultaneous requests from doing so).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Programme
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.models import ApplicationState, Endorsement, IssuanceReport
from endorsement.registry import registry_refresh_on_commit
from institutions.models import MEMBER_ROLES
from institutions.permissions import UserLike, is_manager, staff_of

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
    if start and start > timezone.localdate():
        errors["period_start"] = [_("The period cannot start in the future.")]
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


def issuance_report_file(*, actor: UserLike, programme: Programme, period_start: Any, period_end: Any,
                         count: Any, platform: Any, note: Any = "") -> IssuanceReport:
    """Report `count` badges issued under `programme` on `platform` between `period_start` and
    `period_end` (dates, or YYYY-MM-DD strings). Owners, editors and issuers of the organisation;
    the programme must have a published endorsement overlapping the period (the newest such one is
    recorded). Refused with nothing written: another organisation's programme (404), the body's
    staff (403), bad input (400 by field, a repeated period and platform included), no published
    endorsement (409). Side effect: the registry is refreshed after commit."""
    _check_reporter(actor, programme)
    clean, errors = issuance_report_clean(period_start=period_start, period_end=period_end, count=count,
                                          platform=platform, note=note)
    if errors:
        raise InvalidInput(_("The report was not filed: correct the fields in error."), field_errors=errors)
    endorsement = _endorsement_for_period(programme, clean["period_start"], clean["period_end"])
    try:
        with transaction.atomic():
            report = IssuanceReport.objects.create(
                organisation_id=programme.organisation_id, programme=programme, endorsement=endorsement,
                reported_by=actor, **clean,
            )
            registry_refresh_on_commit()
    except IntegrityError:
        message = _("A report for this platform and period was already filed.")
        raise InvalidInput(message, field_errors={"platform": [message]}) from None
    return report
