"""Endorsement API: applications and their transitions, reviews, endorsements, criteria tables.

Every object is scoped to the caller: staff of a member organisation see their organisation's,
the body's managers see all, a reviewer sees what they are assigned. Anything else answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from badges.models import Programme
from endorsement import renewals, services
from endorsement.api.serializers import (
    ApplicationCreateInput,
    ApplicationListOutput,
    ApplicationOutput,
    AssignReviewerInput,
    CommentInput,
    CriteriaTableOutput,
    EndorsementListOutput,
    EndorsementOutput,
    JudgementsInput,
    MessageInput,
    RequiredCommentInput,
    ReviewCompleteInput,
    ReviewDepthInput,
    ReviewListOutput,
    ReviewOutput,
)
from endorsement.models import Application, CriteriaTable, Endorsement, Review, TableStatus
from institutions.permissions import is_manager, staff_of


def applications_visible_to(user: Any) -> QuerySet[Application]:
    applications = Application.objects.select_related("programme", "organisation", "criteria_table")
    if is_manager(user):
        return applications
    staff = staff_of(user)
    if staff is None:
        return applications.none()
    if staff.organisation.is_certification_body:
        return applications.filter(reviews__reviewer=user)
    return applications.filter(organisation=staff.organisation)


def endorsements_visible_to(user: Any) -> QuerySet[Endorsement]:
    endorsements = Endorsement.objects.select_related("programme", "organisation", "application")
    if is_manager(user):
        return endorsements
    staff = staff_of(user)
    if staff is None:
        return endorsements.none()
    if staff.organisation.is_certification_body:
        return endorsements.filter(application__reviews__reviewer=user)
    return endorsements.filter(organisation=staff.organisation)


def _validated(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["applications"])
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Certification applications. Each transition is a POST sub-route; the output's `transitions`
    lists those the caller may take now. Wrong state answers 409, not permitted 403."""

    def get_queryset(self) -> QuerySet[Application]:
        applications = applications_visible_to(self.request.user).order_by("-created_at", "-id")
        if self.action == "list":  # the list shows neither the frozen snapshot nor the messages
            applications = applications.defer("snapshot", "changes_message", "decision_comment")
        return applications

    def get_serializer_class(self) -> type[Serializer]:
        return ApplicationListOutput if self.action == "list" else ApplicationOutput

    def _render(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        fresh = Application.objects.select_related("programme", "organisation", "criteria_table").get(
            pk=application.pk
        )
        return Response(ApplicationOutput(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=ApplicationCreateInput, responses={201: ApplicationOutput})
    def create(self, request: Request) -> Response:
        """Open a draft application for one of the caller's organisation's programmes."""
        staff = staff_of(request.user)
        programmes = Programme.objects.filter(organisation_id=staff.organisation_id if staff else None)
        serializer = ApplicationCreateInput(data=request.data, programmes=programmes)
        serializer.is_valid(raise_exception=True)
        application = services.application_create(actor=request.user, programme=serializer.validated_data["programme"])
        return self._render(application, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Submit a draft (owners and editors): freezes the snapshot, pins the criteria table."""
        return self._render(services.application_submit(actor=request.user, application=self.get_object()))

    @extend_schema(request=CommentInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: str) -> Response:
        """Resubmit after changes were requested (owners and editors)."""
        data = _validated(CommentInput, request)
        return self._render(services.application_resubmit(actor=request.user, application=self.get_object(),
                                                          comment=data["comment"]))

    @extend_schema(request=CommentInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw a draft, submitted or sent-back application (owners and editors)."""
        data = _validated(CommentInput, request)
        return self._render(services.application_withdraw(actor=request.user, application=self.get_object(),
                                                          comment=data["comment"]))

    @extend_schema(request=AssignReviewerInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"], url_path="assign-reviewer")
    def assign_reviewer(self, request: Request, pk: str) -> Response:
        """Assign a reviewer of the body by username (managers)."""
        application = self.get_object()
        data = _validated(AssignReviewerInput, request)
        services.application_assign_reviewer(actor=request.user, application=application, reviewer=data["reviewer"])
        return self._render(application)

    @extend_schema(request=ReviewDepthInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"], url_path="review-depth")
    def review_depth(self, request: Request, pk: str) -> Response:
        """Decide how deep the review of a change goes: `minor` (one reviewer decides; give the
        reason) or `full` (managers; a change application, submitted or in review)."""
        application = self.get_object()
        data = _validated(ReviewDepthInput, request)
        return self._render(renewals.application_set_review_depth(
            actor=request.user, application=application, depth=data["depth"], comment=data["comment"]))

    @extend_schema(request=None, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request: Request, pk: str) -> Response:
        """Start the review once at least one reviewer is assigned (managers)."""
        return self._render(services.application_start_review(actor=request.user, application=self.get_object()))

    @extend_schema(request=MessageInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str) -> Response:
        """Send the application back with a message to the organisation (managers)."""
        application = self.get_object()
        data = _validated(MessageInput, request)
        return self._render(services.application_request_changes(actor=request.user, application=application,
                                                                 message=data["message"]))

    @extend_schema(request=CommentInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def endorse(self, request: Request, pk: str) -> Response:
        """Endorse: every review complete and every required criterion met (managers)."""
        application = self.get_object()
        data = _validated(CommentInput, request)
        services.application_endorse(actor=request.user, application=application, comment=data["comment"])
        return self._render(application)

    @extend_schema(request=RequiredCommentInput, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject with a reason (managers)."""
        application = self.get_object()
        data = _validated(RequiredCommentInput, request)
        return self._render(services.application_reject(actor=request.user, application=application,
                                                        comment=data["comment"]))

    @extend_schema(request=None, responses={200: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        """Publish an endorsed programme on the public registry (managers)."""
        return self._render(services.application_publish(actor=request.user, application=self.get_object()))


@extend_schema(tags=["reviews"])
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own reviews: the programme snapshot, the pinned criteria and their judgements."""

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Review.objects.none()
        return (
            Review.objects.filter(reviewer=self.request.user)
            .select_related("application__programme", "application__organisation", "application__criteria_table")
            .prefetch_related("judgements__criterion", "application__criteria_table__criteria")
            .order_by("-assigned_at", "-id")
        )

    def get_serializer_class(self) -> type[Serializer]:
        return ReviewListOutput if self.action == "list" else ReviewOutput

    def _render(self, review: Review) -> Response:
        return Response(ReviewOutput(self.get_queryset().get(pk=review.pk), context=self.get_serializer_context()).data)

    @extend_schema(request=JudgementsInput, responses={200: ReviewOutput})
    @action(detail=True, methods=["post"])
    def judgements(self, request: Request, pk: str) -> Response:
        """Record or replace judgements, one per criterion code. All or nothing."""
        review = self.get_object()
        data = _validated(JudgementsInput, request)
        return self._render(services.review_record_judgements(actor=request.user, review=review,
                                                              judgements=data["judgements"]))

    @extend_schema(request=ReviewCompleteInput, responses={200: ReviewOutput})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        """Complete the review once every criterion is judged."""
        review = self.get_object()
        data = _validated(ReviewCompleteInput, request)
        return self._render(services.review_complete(actor=request.user, review=review, summary=data["summary"]))


@extend_schema(tags=["endorsements"])
class EndorsementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Granted endorsements; the body's managers suspend, reinstate or revoke them."""

    def get_queryset(self) -> QuerySet[Endorsement]:
        endorsements = endorsements_visible_to(self.request.user).order_by("-valid_from", "-id")
        if self.action == "list":  # the list shows no signed credential and no application
            endorsements = endorsements.select_related(None).select_related("programme", "organisation").defer(
                "credential", "comment")
        return endorsements

    def get_serializer_class(self) -> type[Serializer]:
        return EndorsementListOutput if self.action == "list" else EndorsementOutput

    def _render(self, endorsement: Endorsement) -> Response:
        fresh = Endorsement.objects.select_related("programme", "organisation").get(pk=endorsement.pk)
        return Response(EndorsementOutput(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={201: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str) -> Response:
        """Open the renewal of this endorsement (owners and editors of its organisation): a draft
        application with `renews` set, for the programme as it is now. From RENEWAL_WINDOW_DAYS
        before the endorsement ends, or after it ended; 409 with the reason otherwise."""
        application = renewals.endorsement_renew(actor=request.user, endorsement=self.get_object())
        fresh = Application.objects.select_related("programme", "organisation", "criteria_table").get(
            pk=application.pk)
        return Response(ApplicationOutput(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=RequiredCommentInput, responses={200: EndorsementOutput})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        endorsement = self.get_object()
        data = _validated(RequiredCommentInput, request)
        return self._render(services.endorsement_suspend(actor=request.user, endorsement=endorsement,
                                                         comment=data["comment"]))

    @extend_schema(request=CommentInput, responses={200: EndorsementOutput})
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str) -> Response:
        endorsement = self.get_object()
        data = _validated(CommentInput, request)
        return self._render(services.endorsement_reinstate(actor=request.user, endorsement=endorsement,
                                                           comment=data["comment"]))

    @extend_schema(request=RequiredCommentInput, responses={200: EndorsementOutput})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        endorsement = self.get_object()
        data = _validated(RequiredCommentInput, request)
        return self._render(services.endorsement_revoke(actor=request.user, endorsement=endorsement,
                                                        comment=data["comment"]))


@extend_schema(tags=["criteria"])
class CriteriaTableViewSet(viewsets.ReadOnlyModelViewSet):
    """Published and retired criteria tables with their criteria (drafts are the body's own)."""

    serializer_class = CriteriaTableOutput

    def get_queryset(self) -> QuerySet[CriteriaTable]:
        return (
            CriteriaTable.objects.filter(status__in=[TableStatus.PUBLISHED, TableStatus.RETIRED])
            .prefetch_related("criteria")
            .order_by("code", "-version")
        )
