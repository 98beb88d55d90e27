"""Programmes API: staff of a member organisation see and edit their own organisation's programmes;
anyone else's answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from badges.api.serializers import ImageInput, ProgrammeInput, ProgrammeOutput
from badges.models import Programme
from badges.services import programme_create, programme_update
from config.errors import NotPermitted
from institutions.models import Organisation
from institutions.permissions import organisation_of


def _split(validated: dict) -> tuple[dict, bytes | None]:
    data = dict(validated)
    return data, data.pop("image_base64", None)


@extend_schema(tags=["programmes"])
class ProgrammeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Programmes are named by their public UUID (`public_id`), as awards and reports are; the
    database's integer id stays inside."""

    serializer_class = ProgrammeOutput
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def get_queryset(self) -> QuerySet[Programme]:
        organisation = organisation_of(self.request.user)
        if organisation is None:
            return Programme.objects.none()
        return Programme.objects.filter(organisation=organisation).select_related("organisation").order_by("id")

    def _own_organisation(self) -> Organisation:
        organisation = organisation_of(self.request.user)
        if organisation is None:
            raise NotPermitted(_("Only staff of a member organisation have programmes."))
        return organisation

    def _render(self, programme: Programme, code: int = status.HTTP_200_OK) -> Response:
        return Response(ProgrammeOutput(programme, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=ProgrammeInput, responses={201: ProgrammeOutput})
    def create(self, request: Request) -> Response:
        """Create a draft programme (owners and editors). `image_base64` may carry a PNG or SVG."""
        organisation = self._own_organisation()
        serializer = ProgrammeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, image = _split(serializer.validated_data)
        programme = programme_create(actor=request.user, organisation=organisation, data=data, image=image)
        return self._render(programme, status.HTTP_201_CREATED)

    @extend_schema(request=ProgrammeInput, responses={200: ProgrammeOutput})
    def partial_update(self, request: Request, public_id: str) -> Response:
        """Change some fields; refused (409) while the programme is under review or endorsed."""
        programme = self.get_object()
        serializer = ProgrammeInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data, image = _split(serializer.validated_data)
        data.pop("slug", None)  # the slug names the programme in URLs and credentials: fixed once made
        programme = programme_update(actor=request.user, programme=programme, data=data, image=image)
        return self._render(programme)

    @extend_schema(request={"multipart/form-data": ImageInput, "application/json": ImageInput},
                   responses={200: ProgrammeOutput})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def image(self, request: Request, public_id: str) -> Response:
        """Replace the image: a multipart `image` file or JSON `image_base64` (PNG up to the size
        limit, or an SVG without scripts or external references)."""
        programme = self.get_object()
        serializer = ImageInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        programme = programme_update(actor=request.user, programme=programme, data={},
                                     image=serializer.validated_data["image"])
        return self._render(programme)
