"""Pathways API: staff of a member organisation (and the body's managers, for the body's own
pathways) create, read and change their pathways and open their applications; the body's managers
read every pathway. The application then goes through /api/v1/applications like a programme's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import NotPermitted
from endorsement import services as endorsement_services
from endorsement.api.serializers import ApplicationOutput
from endorsement.models import Application
from institutions.models import Organisation
from institutions.permissions import is_manager, organisation_of
from pathways.api.serializers import PathwayInput, PathwayOutput
from pathways.models import Pathway
from pathways.permissions import can_edit_pathway
from pathways.services import pathway_create, pathway_update

UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@extend_schema(tags=["pathways"])
class PathwayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PathwayOutput
    lookup_field = "public_id"
    lookup_value_regex = UUID

    def get_queryset(self) -> QuerySet[Pathway]:
        pathways = Pathway.objects.select_related("organisation").prefetch_related(
            "components__programme", "rules__members__component").order_by("id")
        if is_manager(self.request.user):
            return pathways
        organisation = organisation_of(self.request.user)
        if organisation is None or organisation.is_certification_body:
            return pathways.none()
        return pathways.filter(organisation=organisation)

    def _own_organisation(self) -> Organisation:
        organisation = organisation_of(self.request.user)
        if organisation is None or not can_edit_pathway(self.request.user, organisation):
            raise NotPermitted(_("Only owners and editors of the organisation may create pathways."))
        return organisation

    def _render(self, pathway: Pathway, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().model.objects.get(pk=pathway.pk)
        return Response(PathwayOutput(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=PathwayInput, responses={201: PathwayOutput})
    def create(self, request: Request) -> Response:
        """Create a pathway with its components and rules (owners and editors; the body's managers for
        the body's own). Every problem answers 400 with field messages and nothing is written."""
        organisation = self._own_organisation()
        serializer = PathwayInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        pathway = pathway_create(actor=request.user, organisation=organisation, data=serializer.to_service())
        return self._render(pathway, status.HTTP_201_CREATED)

    @extend_schema(request=PathwayInput, responses={200: PathwayOutput})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change a pathway not under review or endorsed; `components` with `rules` replace the structure."""
        serializer = PathwayInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        pathway = pathway_update(actor=request.user, pathway=self.get_object(), data=serializer.to_service())
        return self._render(pathway)

    @extend_schema(request=None, responses={201: ApplicationOutput})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, public_id: str) -> Response:
        """Open a draft application for the pathway; submit it with POST /applications/{id}/submit."""
        application = endorsement_services.pathway_application_create(actor=request.user, pathway=self.get_object())
        fresh = Application.objects.select_related("pathway", "organisation", "criteria_table").get(pk=application.pk)
        return Response(ApplicationOutput(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)
