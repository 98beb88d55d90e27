"""Issuance reports API: how many badges an organisation issued under an endorsed programme on
other platforms, per period (endorsement.reports).

GET  /programmes/{public_id}/issuance-reports   the programme's reports (its organisation's staff, managers)
POST /programmes/{public_id}/issuance-reports   file one (owners, editors, issuers of the organisation) → 201
GET  /issuance-reports, /issuance-reports/{id}  every report the caller may read (by the report's UUID)
POST /issuance-reports/{id}/correct             file a corrected revision, with a reason
POST /issuance-reports/{id}/withdraw            withdraw it, with a reason
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import InvalidInput
from endorsement.api.serializers import _state_field
from endorsement.models import IssuanceReport, ReportStatus
from endorsement.reports import (
    issuance_report_correct,
    issuance_report_file,
    issuance_report_withdraw,
    issuance_reports_of,
    programme_for_reports,
    reports_visible_to,
)

BLANK = {"period_start": "", "period_end": "", "count": "", "platform": "", "note": ""}


class IssuanceReportInput(serializers.Serializer):
    """Strings (or a number for `count`): the service checks each field and answers field messages."""

    period_start = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")
    period_end = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")
    count = serializers.CharField(required=False, allow_blank=True, help_text="badges issued, 0 or more")
    platform = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True, max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True, max_length=10_000)


class CorrectionInput(IssuanceReportInput):
    """The corrected report in full (as when filing) and the `reason` for the correction."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class IssuanceReportOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    programme = serializers.UUIDField(source="programme.public_id", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    endorsement = serializers.UUIDField(source="endorsement.public_id", read_only=True)
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)
    corrects = serializers.UUIDField(source="corrects.public_id", read_only=True, allow_null=True, default=None)
    corrected_by = serializers.SerializerMethodField()
    status = _state_field(ReportStatus.choices)
    status_changed_by = serializers.CharField(source="status_changed_by.username", read_only=True,
                                              allow_null=True, default=None)

    class Meta:
        model = IssuanceReport
        fields = ["id", "programme", "organisation", "endorsement", "period_start", "period_end", "count",
                  "platform", "note", "reported_by", "reported_at", "status", "revision", "corrects",
                  "corrected_by", "reason", "status_changed_at", "status_changed_by"]

    def get_corrected_by(self, report: IssuanceReport) -> str | None:
        """The UUID of the revision that corrected this one, if any."""
        successor = IssuanceReport.objects.filter(corrects=report).values_list("public_id", flat=True).first()
        return str(successor) if successor else None


@extend_schema(tags=["issuance reports"])
class ProgrammeIssuanceReportsView(generics.GenericAPIView):
    serializer_class = IssuanceReportOutput

    def get_queryset(self):
        return issuance_reports_of(programme_for_reports(self.request.user, self.kwargs["public_id"]))

    @extend_schema(responses={200: IssuanceReportOutput(many=True)})
    def get(self, request: Request, public_id: Any) -> Response:
        """The programme's issuance reports, latest period first."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(IssuanceReportOutput(page, many=True).data)

    @extend_schema(request=IssuanceReportInput, responses={
        201: IssuanceReportOutput,
        400: OpenApiResponse(description="Fields in error; a report of the same period and platform exists"),
        409: OpenApiResponse(description="The programme has no endorsement published in the registry"),
    })
    def post(self, request: Request, public_id: Any) -> Response:
        """File a report: `period_start`, `period_end` (YYYY-MM-DD, overlapping the endorsement),
        `count` (0 or more), `platform` (where they were issued), optional `note` (shown publicly)."""
        programme = programme_for_reports(request.user, public_id)
        serializer = IssuanceReportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = issuance_report_file(actor=request.user, programme=programme,
                                      **{**BLANK, **serializer.validated_data})
        return Response(IssuanceReportOutput(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["issuance reports"])
class IssuanceReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Issuance reports by their UUID: the organisation's staff read theirs, managers read every one.
    Owners, editors and issuers correct or withdraw a filed report; each needs a reason."""

    serializer_class = IssuanceReportOutput
    lookup_field = "public_id"
    lookup_url_kwarg = "pk"
    lookup_value_regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def get_queryset(self) -> QuerySet[IssuanceReport]:
        if getattr(self, "swagger_fake_view", False):
            return IssuanceReport.objects.none()
        reports = reports_visible_to(self.request.user)
        if status_filter := self.request.query_params.get("status"):
            if status_filter not in ReportStatus.values:
                message = _("Choose one of: %(v)s.") % {"v": ", ".join(ReportStatus.values)}
                raise InvalidInput(message, field_errors={"status": [message]})
            reports = reports.filter(status=status_filter)
        return reports.order_by("-period_end", "-period_start", "platform", "-revision", "id")

    @extend_schema(request=CorrectionInput, responses={
        201: IssuanceReportOutput,
        400: OpenApiResponse(description="Fields in error, or no reason: nothing was written"),
        409: OpenApiResponse(description="The report was already corrected or withdrawn"),
    })
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str) -> Response:
        """File a corrected revision of a filed report: every field as when filing, plus `reason`.
        The old revision stays readable as `corrected`; the answer is the new revision (201)."""
        report = self.get_object()
        serializer = CorrectionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = {**BLANK, "reason": "", **serializer.validated_data}
        revision = issuance_report_correct(actor=request.user, report=report, **values)
        return Response(IssuanceReportOutput(revision).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInput, responses={
        200: IssuanceReportOutput,
        400: OpenApiResponse(description="No reason: nothing was written"),
        409: OpenApiResponse(description="The report was already corrected or withdrawn"),
    })
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a filed report with a `reason`: it stops counting and stays readable."""
        report = self.get_object()
        serializer = ReasonInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = issuance_report_withdraw(actor=request.user, report=report,
                                          reason=serializer.validated_data.get("reason", ""))
        return Response(IssuanceReportOutput(IssuanceReport.objects.get(pk=report.pk)).data)
