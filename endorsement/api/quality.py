"""Quality reviews API (endorsement.quality): managers open a review of an endorsement's standing,
assign reviewers and decide; assigned reviewers record findings; the organisation's staff read the
reviews of their own endorsements (without the reviewers and their findings)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import NotPermitted
from config.fsm import allowed_transitions
from endorsement import quality
from endorsement.api.serializers import AssignReviewerInput, AuditEventOutput, _state_field
from endorsement.api.views import _validated
from endorsement.audit import audit_for
from endorsement.models import Endorsement, QualityReview, QualityReviewAssignment, QualityReviewState
from institutions.permissions import is_body_staff, is_manager, staff_of

QUALITY_TRANSITIONS = ["start_review", "close_no_change", "impose_conditions", "conditions_met", "suspend", "revoke"]


def quality_reviews_visible_to(user: Any) -> QuerySet[QualityReview]:
    reviews = QualityReview.objects.select_related("programme", "organisation", "endorsement")
    if is_manager(user):
        return reviews
    staff = staff_of(user)
    if staff is None:
        return reviews.none()
    if staff.organisation.is_certification_body:
        return reviews.filter(assignments__reviewer=user)
    return reviews.filter(organisation=staff.organisation)


class AssignmentOutput(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = QualityReviewAssignment
        fields = ["id", "reviewer", "assigned_at", "finding", "completed_at"]


class QualityReviewOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    endorsement = serializers.UUIDField(source="endorsement.public_id", read_only=True)
    programme = serializers.UUIDField(source="programme.public_id", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    state = _state_field(QualityReviewState.choices)
    assignments = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()
    audit = serializers.SerializerMethodField()

    class Meta:
        model = QualityReview
        fields = ["id", "endorsement", "programme", "organisation", "state", "reason", "conditions",
                  "conditions_due", "decision_comment", "opened_at", "decided_at", "assignments", "transitions",
                  "audit"]

    def _user(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(AssignmentOutput(many=True))
    def get_assignments(self, review: QualityReview) -> list[dict[str, Any]]:
        """The reviewers and their findings: for the body's staff only (empty for the organisation)."""
        if not is_body_staff(self._user()):
            return []
        return AssignmentOutput(review.assignments.select_related("reviewer"), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=QUALITY_TRANSITIONS)))
    def get_transitions(self, review: QualityReview) -> list[str]:
        return allowed_transitions(review, self._user(), QUALITY_TRANSITIONS)

    @extend_schema_field(AuditEventOutput(many=True))
    def get_audit(self, review: QualityReview) -> list[dict[str, Any]]:
        return AuditEventOutput(audit_for(review), many=True, context=self.context).data


class OpenInput(serializers.Serializer):
    endorsement = serializers.SlugRelatedField(slug_field="public_id", queryset=Endorsement.objects.all())
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class FindingInput(serializers.Serializer):
    finding = serializers.CharField(required=False, allow_blank=True, default="")


class QualityCommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ConditionsInput(serializers.Serializer):
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    due = serializers.CharField(required=False, allow_blank=True, default="", help_text="YYYY-MM-DD, in the future")


@extend_schema(tags=["quality reviews"])
class QualityReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reviews of an endorsed programme's standing between renewals (docs/workflow.md). Wrong state
    answers 409, not permitted 403, another organisation's 404."""

    serializer_class = QualityReviewOutput
    lookup_field = "public_id"
    lookup_url_kwarg = "pk"
    lookup_value_regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def get_queryset(self) -> QuerySet[QualityReview]:
        if getattr(self, "swagger_fake_view", False):
            return QualityReview.objects.none()
        return quality_reviews_visible_to(self.request.user).distinct().order_by("-opened_at", "-id")

    def _render(self, review: QualityReview, code: int = status.HTTP_200_OK) -> Response:
        fresh = QualityReview.objects.select_related("programme", "organisation", "endorsement").get(pk=review.pk)
        return Response(QualityReviewOutput(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=OpenInput, responses={201: QualityReviewOutput})
    def create(self, request: Request) -> Response:
        """Open a review of an endorsement in force (managers): `endorsement` (UUID) and `reason`."""
        if not is_manager(request.user):
            raise NotPermitted(_("Only managers of the certification body open quality reviews."))
        data = _validated(OpenInput, request)
        return self._render(quality.quality_review_open(actor=request.user, endorsement=data["endorsement"],
                                                        reason=data["reason"]), status.HTTP_201_CREATED)

    @extend_schema(request=AssignReviewerInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"], url_path="assign-reviewer")
    def assign_reviewer(self, request: Request, pk: str) -> Response:
        """Assign a reviewer by username (managers); the same conflict-of-interest rules as applications."""
        review = self.get_object()
        data = _validated(AssignReviewerInput, request)
        quality.quality_review_assign_reviewer(actor=request.user, review=review, reviewer=data["reviewer"])
        return self._render(review)

    @extend_schema(request=None, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request: Request, pk: str) -> Response:
        return self._render(quality.quality_review_start(actor=request.user, review=self.get_object()))

    @extend_schema(request=FindingInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"])
    def finding(self, request: Request, pk: str) -> Response:
        """The assigned reviewer records (or revises) their finding."""
        review = self.get_object()
        data = _validated(FindingInput, request)
        assignment = review.assignments.filter(reviewer_id=request.user.pk).first()
        if assignment is None:
            raise NotPermitted(_("Only the assigned reviewer may record a finding in this review."))
        quality.quality_review_record_finding(actor=request.user, assignment=assignment, finding=data["finding"])
        return self._render(review)

    @extend_schema(request=QualityCommentInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """End with no change (managers); `comment` required."""
        review = self.get_object()
        data = _validated(QualityCommentInput, request)
        return self._render(quality.quality_review_close(actor=request.user, review=review, comment=data["comment"]))

    @extend_schema(request=ConditionsInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"], url_path="impose-conditions")
    def impose_conditions(self, request: Request, pk: str) -> Response:
        """End with `conditions` to meet by `due` (managers); both required."""
        review = self.get_object()
        data = _validated(ConditionsInput, request)
        return self._render(quality.quality_review_impose_conditions(actor=request.user, review=review, **data))

    @extend_schema(request=QualityCommentInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"], url_path="conditions-met")
    def conditions_met(self, request: Request, pk: str) -> Response:
        review = self.get_object()
        data = _validated(QualityCommentInput, request)
        return self._render(quality.quality_review_conditions_met(actor=request.user, review=review,
                                                                  comment=data["comment"]))

    @extend_schema(request=QualityCommentInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        """End by suspending the endorsement (managers); `comment` required."""
        review = self.get_object()
        data = _validated(QualityCommentInput, request)
        return self._render(quality.quality_review_suspend(actor=request.user, review=review, comment=data["comment"]))

    @extend_schema(request=QualityCommentInput, responses={200: QualityReviewOutput})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        """End by revoking the endorsement (managers); `comment` required."""
        review = self.get_object()
        data = _validated(QualityCommentInput, request)
        return self._render(quality.quality_review_revoke(actor=request.user, review=review, comment=data["comment"]))
