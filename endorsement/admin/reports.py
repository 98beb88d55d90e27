"""Issuance reports: every report of every organisation, filtered, exported as CSV (read-only: the
organisations file, correct and withdraw them); and the reporting cycles managers set."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from endorsement.models import IssuanceReport, ReportingCycle
from endorsement.registry_views import csv_safe
from endorsement.reports import reporting_cycle_set
from institutions.admin import BodyAdmin, describe_error
from institutions.models import Organisation
from institutions.permissions import is_manager

CSV_COLUMNS = [
    ("id", lambda r: r.public_id),
    ("organisation", lambda r: r.organisation.slug),
    ("organisation_name", lambda r: r.organisation.name),
    ("programme", lambda r: r.programme.public_id),
    ("programme_name", lambda r: r.programme.name_en or r.programme.name_ja),
    ("endorsement", lambda r: r.endorsement.public_id),
    ("period_start", lambda r: r.period_start.isoformat()),
    ("period_end", lambda r: r.period_end.isoformat()),
    ("platform", lambda r: r.platform),
    ("count", lambda r: r.count),
    ("note", lambda r: r.note),
    ("status", lambda r: r.status),
    ("revision", lambda r: r.revision),
    ("corrects", lambda r: r.corrects.public_id if r.corrects_id else ""),
    ("reason", lambda r: r.reason),
    ("reported_by", lambda r: r.reported_by.get_username()),
    ("reported_at", lambda r: r.reported_at.isoformat()),
    ("status_changed_at", lambda r: r.status_changed_at.isoformat() if r.status_changed_at else ""),
]


def reports_csv(reports: Any) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read the Japanese); formula-like cells escaped."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([name for name, _get in CSV_COLUMNS])
    rows = reports.select_related("organisation", "programme", "endorsement", "reported_by", "corrects")
    for report in rows.iterator(chunk_size=1000):
        writer.writerow([csv_safe(get(report)) for _name, get in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


@admin.register(IssuanceReport)
class IssuanceReportAdmin(BodyAdmin):
    list_display = ("programme", "organisation", "period_start", "period_end", "platform", "count", "status",
                    "revision", "reported_at")
    list_filter = ("status", ("organisation", admin.RelatedOnlyFieldListFilter),
                   ("programme", admin.RelatedOnlyFieldListFilter), "period_end", "reported_at")
    search_fields = ("platform", "note", "programme__name_en", "programme__name_ja", "organisation__name",
                     "organisation__name_ja")
    list_select_related = ("programme", "organisation")
    date_hierarchy = "period_end"
    fields = ("public_id", "organisation", "programme", "endorsement", "period_start", "period_end", "count",
              "platform", "note", "status", "revision", "corrects", "reason", "reported_by", "reported_at",
              "status_changed_by", "status_changed_at")
    readonly_fields = fields
    actions = ["export_csv"]
    change_list_template = "admin/endorsement/issuancereport/change_list.html"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.csv_view)
        return [path("export.csv", view, name="endorsement_issuancereport_csv"), *super().get_urls()]

    def _csv_response(self, reports: Any) -> HttpResponse:
        response = HttpResponse(reports_csv(reports), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="issuance-reports-{stamp}.csv"'
        return response

    def csv_view(self, request: HttpRequest) -> HttpResponse:
        """The list as filtered and searched on the page (the same query string), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(changelist.get_queryset(request))

    @admin.action(description=_("Export the selected reports as CSV"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        return self._csv_response(queryset)


class ReportingCycleForm(forms.ModelForm):
    class Meta:
        model = ReportingCycle
        fields = ("organisation", "months", "starts_on")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "organisation" in self.fields:
            self.fields["organisation"].queryset = Organisation.objects.filter(is_certification_body=False)


@admin.register(ReportingCycle)
class ReportingCycleAdmin(BodyAdmin):
    """Managers set how often each organisation reports (saved through the audited service)."""

    form = ReportingCycleForm
    list_display = ("organisation", "months", "starts_on", "set_by", "updated_at")
    list_filter = ("months",)
    search_fields = ("organisation__name", "organisation__name_ja")
    list_select_related = ("organisation", "set_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_manager(request.user) or request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_manager(request.user) or request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("organisation", "set_by", "updated_at") if obj is not None else ("set_by", "updated_at")

    def save_model(self, request: HttpRequest, obj: ReportingCycle, form: Any, change: bool) -> None:
        saved = reporting_cycle_set(actor=request.user, organisation=obj.organisation, months=obj.months,
                                    starts_on=obj.starts_on)
        obj.pk, obj.set_by = saved.pk, saved.set_by

    def changeform_view(self, request: HttpRequest, object_id: Any = None, form_url: str = "",
                        extra_context: Any = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # refused by the service: nothing was saved
            messages.error(request, describe_error(error))
            return HttpResponseRedirect(request.get_full_path())
