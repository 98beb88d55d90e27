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
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from badges.models import Programme
from badges.views import programme_for
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.marks import mark_snippet
from endorsement.models import ApplicationState, Endorsement
from endorsement.registry import registry_current
from endorsement.reports import MAX_COUNT, MAX_NOTE, MAX_PLATFORM, issuance_report_file, issuance_reports_of
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


def _figures(organisation: Any) -> list[dict[str, Any]]:
    """The organisation's programmes with a published endorsement: newest endorsement, badges issued
    here (not revoked) and reported elsewhere. Three queries whatever the number of programmes."""
    endorsements = (
        Endorsement.objects.filter(organisation=organisation, application__state=ApplicationState.PUBLISHED)
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
        Programme.objects.filter(pk__in=list(newest)).annotate(reported=Sum("issuance_reports__count"))
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
    return render(request, "portal/reports.html", {"organisation": staff.organisation, "rows": rows})


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
