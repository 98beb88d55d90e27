"""Institutions API: token login, the caller, the public membership application, conflicts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttling import AnonRateThrottle, ScopedRateThrottle
from endorsement.services import conflict_declare
from institutions.api.serializers import (
    ConflictInput,
    ConflictOutput,
    MeOutput,
    OrganisationApplyInput,
    OrganisationApplyOutput,
    TokenInput,
    TokenOutput,
)
from institutions.permissions import staff_of
from institutions.services import organisation_apply


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=TokenInput, responses={200: TokenOutput}, auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        serializer = TokenInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response(TokenOutput({"token": token.key}).data)


class MeApi(APIView):
    """Who the caller is: the user, their organisation and role."""

    @extend_schema(responses={200: MeOutput}, tags=["auth"])
    def get(self, request: Request) -> Response:
        staff = staff_of(request.user)
        data = {
            "username": request.user.get_username(),
            "email": request.user.email,
            "organisation": staff.organisation if staff else None,
            "role": staff.role if staff else None,
        }
        return Response(MeOutput(data).data)


class OrganisationApplyApi(APIView):
    """Anyone applies for membership; the body's managers approve or reject the application."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(request=OrganisationApplyInput, responses={201: OrganisationApplyOutput}, auth=[],
                   tags=["organisations"])
    def post(self, request: Request) -> Response:
        serializer = OrganisationApplyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = data.pop("owner", None)
        organisation = organisation_apply(data=data, owner=owner)
        return Response(OrganisationApplyOutput(organisation).data, status=status.HTTP_201_CREATED)


class ConflictDeclareApi(APIView):
    """A reviewer or manager of the body declares a conflict of interest with an organisation."""

    @extend_schema(request=ConflictInput, responses={201: ConflictOutput}, tags=["reviews"])
    def post(self, request: Request) -> Response:
        serializer = ConflictInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        conflict = conflict_declare(actor=request.user, **serializer.validated_data)
        return Response(ConflictOutput(conflict).data, status=status.HTTP_201_CREATED)
