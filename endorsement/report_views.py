"""Portal pages of issuance figures and endorsement marks: for each of the organisation's programmes
in the registry, the badges issued here, the reports filed, a form to file one, and the mark to put
on the organisation's own site."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from badges.models import Programme
from badges.views import programme_for
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.marks import mark_snippet
from endorsement.models import ApplicationState, Endorsement, IssuanceReport, ReportStatus
from endorsement.registry import registry_current
from endorsement.reports import (
    MAX_COUNT,
    MAX_NOTE,
    MAX_PLATFORM,
    MAX_REASON,
    issuance_report_correct,
    issuance_report_file,
    issuance_report_withdraw,
    issuance_reports_of,
    next_due_period,
)
from institutions.views import portal_staff


class IssuanceReportForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("First day of the period"),
                                   widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=gettext_lazy("Last day of the period"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(label=gettext_lazy("Badges issued"), min_value=0, max_value=MAX_COUNT,
                               help_text=gettext_lazy("Badges of this programme issued on that platform in the "
                                                      "period, not counting those issued through this registry."))
    platform = forms.CharField(label=gettext_lazy("Platform"), max_length=MAX_PLATFORM,
                               help_text=gettext_lazy("Where they were issued, e.g. the name of the badge platform."))
    note = forms.CharField(label=gettext_lazy("Note (optional, shown publicly)"), required=False,
                           max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=gettext_lazy("Why the report is changed; the body sees it."))


class CorrectionForm(IssuanceReportForm):
    reason = ReasonForm.base_fields["reason"]


def _figures(organisation: Any) -> list[dict[str, Any]]:
    """The organisation's programmes with a published endorsement: newest endorsement, badges issued
    here (not revoked) and reported elsewhere. Three queries whatever the number of programmes."""
    endorsements = (
        Endorsement.objects.filter(organisation=organisation, application__state=ApplicationState.PUBLISHED,
                                   programme__isnull=False)
        .select_related("programme").order_by("programme_id", "-valid_from", "-pk")
    )
    newest: dict[int, Endorsement] = {}
    for endorsement in endorsements:
        newest.setdefault(endorsement.programme_id, endorsement)
    counted = Programme.objects.filter(pk__in=list(newest)).annotate(
        issued=Count("awards", filter=Q(awards__revoked_at__isnull=True), distinct=True),
    ).values_list("pk", "issued")
    issued = dict(counted)
    reported = dict(
        Programme.objects.filter(pk__in=list(newest)).annotate(
            reported=Sum("issuance_reports__count", filter=Q(issuance_reports__status=ReportStatus.FILED)))
        .values_list("pk", "reported")
    )
    rows = [{"programme": e.programme, "endorsement": e, "issued": issued.get(pk, 0),
             "reported": reported.get(pk) or 0} for pk, e in newest.items()]
    return sorted(rows, key=lambda row: row["programme"].name.casefold())


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The organisation's endorsed programmes: figures, a link to report, and each endorsement mark."""
    staff = portal_staff(request)
    rows = _figures(staff.organisation)
    registry = registry_current()
    for row in rows:
        item = registry.by_id.get(str(row["programme"].public_id)) if registry is not None else None
        row["in_registry"] = item is not None
        row["snippet"] = mark_snippet(item.entry) if item is not None else ""
        row["snippet_ja"] = mark_snippet(item.entry, lang="ja") if item is not None else ""
    cycle = getattr(staff.organisation, "reporting_cycle", None)
    due = next_due_period(cycle, timezone.localdate()) if cycle else None
    return render(request, "portal/reports.html", {"organisation": staff.organisation, "rows": rows,
                                                   "cycle": cycle, "due": due})


@login_required
@require_http_methods(["GET", "POST"])
def programme_reports(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One programme's reports and the form to file one. Invalid input writes nothing and shows
    each error (400)."""
    programme = programme_for(request, public_id)
    form = IssuanceReportForm(request.POST if request.method == "POST" else None)
    status = 200
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                report = issuance_report_file(actor=request.user, programme=programme, **form.cleaned_data)
            except NotPermitted as refused:
                raise PermissionDenied(refused.message) from None
            except NotFound:
                raise PermissionDenied(_("You cannot report for this programme.")) from None
            except InvalidInput as refused:
                for name, problems in refused.field_errors.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            except WrongState as refused:
                error = refused.message
                status = refused.status_code
            else:
                messages.success(request, _("Thank you: %(count)d badges on %(platform)s were reported. The registry "
                                            "shows them in a moment.") % {"count": report.count,
                                                                          "platform": report.platform})
                return redirect("portal:programme_reports", programme.public_id)
        if status == 200:
            status = 400
    context = {
        "programme": programme,
        "form": form,
        "error": error,
        "reports": issuance_reports_of(programme).order_by("-period_end", "-period_start", "platform"),
        "has_endorsement": Endorsement.objects.filter(
            programme=programme, application__state=ApplicationState.PUBLISHED).exists(),
    }
    return render(request, "portal/reports_programme.html", context, status=status)


def _apply_refusal(form: forms.Form, refused: Exception) -> tuple[str, int]:
    """Put a service's refusal on the form: field messages on their fields; a state refusal as the
    page's error. Returns (error, status)."""
    if isinstance(refused, NotPermitted):
        raise PermissionDenied(refused.message) from None
    if isinstance(refused, NotFound):
        raise PermissionDenied(_("You cannot report for this programme.")) from None
    if isinstance(refused, InvalidInput):
        for name, problems in refused.field_errors.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        if not refused.field_errors:
            form.add_error(None, refused.message)
        return "", 400
    return refused.message, refused.status_code


def _report_for(request: HttpRequest, public_id: Any, report_id: Any) -> IssuanceReport:
    programme = programme_for(request, public_id)
    return get_object_or_404(IssuanceReport.objects.select_related("programme"), public_id=report_id,
                             programme=programme)


@login_required
@require_http_methods(["GET", "POST"])
def report_correct(request: HttpRequest, public_id: Any, report_id: Any) -> HttpResponse:
    """Correct a filed report: the form starts from its figures; a reason is required."""
    report = _report_for(request, public_id, report_id)
    initial = {name: getattr(report, name) for name in ("period_start", "period_end", "count", "platform", "note")}
    form = CorrectionForm(request.POST if request.method == "POST" else None, initial=initial)
    error, status = "", 200
    if report.status != ReportStatus.FILED:
        error, status = _("This report was already corrected or withdrawn; only the current revision can be "
                          "changed."), 409
    if request.method == "POST" and status == 200:
        if form.is_valid():
            try:
                revision = issuance_report_correct(actor=request.user, report=report, **form.cleaned_data)
            except (InvalidInput, NotFound, NotPermitted, WrongState) as refused:
                error, status = _apply_refusal(form, refused)
            else:
                messages.success(request, _("The report was corrected (revision %(n)d). The registry shows it in a "
                                            "moment.") % {"n": revision.revision})
                return redirect("portal:programme_reports", report.programme.public_id)
        else:
            status = 400
    return render(request, "portal/report_change.html",
                  {"report": report, "programme": report.programme, "form": form, "error": error,
                   "mode": "correct"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report_withdraw(request: HttpRequest, public_id: Any, report_id: Any) -> HttpResponse:
    """Withdraw a filed report, with a reason."""
    report = _report_for(request, public_id, report_id)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if report.status != ReportStatus.FILED:
        error, status = _("This report was already corrected or withdrawn; only the current revision can be "
                          "changed."), 409
    if request.method == "POST" and status == 200:
        if form.is_valid():
            try:
                issuance_report_withdraw(actor=request.user, report=report, reason=form.cleaned_data["reason"])
            except (InvalidInput, NotFound, NotPermitted, WrongState) as refused:
                error, status = _apply_refusal(form, refused)
            else:
                messages.success(request, _("The report was withdrawn. The registry shows it in a moment."))
                return redirect("portal:programme_reports", report.programme.public_id)
        else:
            status = 400
    return render(request, "portal/report_change.html",
                  {"report": report, "programme": report.programme, "form": form, "error": error,
                   "mode": "withdraw"}, status=status)
