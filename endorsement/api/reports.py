"""Issuance reports API: how many badges an organisation issued under an endorsed programme on
other platforms, per period (endorsement.reports).

GET  /programmes/{public_id}/issuance-reports   the programme's reports (its organisation's staff, managers)
POST /programmes/{public_id}/issuance-reports   file one (owners, editors, issuers of the organisation) → 201
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from endorsement.models import IssuanceReport
from endorsement.reports import issuance_report_file, issuance_reports_of, programme_for_reports


class IssuanceReportInput(serializers.Serializer):
    """Strings (or a number for `count`): the service checks each field and answers field messages."""

    period_start = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")
    period_end = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM-DD")
    count = serializers.CharField(required=False, allow_blank=True, help_text="badges issued, 0 or more")
    platform = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True, max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True, max_length=10_000)


class IssuanceReportOutput(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="programme.public_id", read_only=True)
    endorsement = serializers.UUIDField(source="endorsement.public_id", read_only=True)
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)

    class Meta:
        model = IssuanceReport
        fields = ["id", "programme", "endorsement", "period_start", "period_end", "count", "platform", "note",
                  "reported_by", "reported_at"]


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
        report = issuance_report_file(actor=request.user, programme=programme, **{
            "period_start": "", "period_end": "", "count": "", "platform": "", "note": "",
            **serializer.validated_data})
        return Response(IssuanceReportOutput(report).data, status=status.HTTP_201_CREATED)
