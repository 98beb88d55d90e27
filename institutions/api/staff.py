"""Staff API: the caller's organisation's staff and invitations, accepting an invitation, and the
body's membership decisions.

GET/POST   /staff                                   the staff; add a login directly (owners)
PATCH/DELETE /staff/{id}                            change a role; remove (owners; never the last owner)
GET/POST   /staff-invitations                       invitations; invite by e-mail (owners)
POST       /staff-invitations/{public_id}/revoke    withdraw a pending invitation (owners)
POST       /staff-invitations/{token}/accept        the person invited: choose a username and password
POST       /organisations/{slug}/approve|reject|suspend|reinstate   the body's managers
GET/PUT    /organisation/recipient-names            how learners' names appear in badges (owners change it)
PUT/DELETE /organisation/logo                       the organisation's logo, a PNG or SVG (owners; multipart `logo`)
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from config.errors import InvalidInput, NotFound, NotPermitted
from institutions import services
from institutions import staff as staff_services
from institutions.models import InvitationState, Organisation, RecipientNames, Role, StaffInvitation, StaffMember
from institutions.permissions import is_manager, may_manage_staff, staff_of

ROLES = Role.choices


class StaffOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    is_you = serializers.SerializerMethodField()

    class Meta:
        model = StaffMember
        fields = ["id", "username", "email", "role", "joined_at", "is_you"]

    def get_is_you(self, member: StaffMember) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.pk == member.user_id)


class StaffAddInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=ROLES)


class RoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)


class InvitationOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    state = serializers.ChoiceField(source="shown_state", choices=InvitationState.choices, read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = StaffInvitation
        fields = ["id", "email", "role", "state", "invited_by", "created_at", "expires_at", "decided_at"]


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=ROLES)


class AcceptInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class AcceptOutput(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    organisation = serializers.CharField(source="organisation.slug")
    role = serializers.CharField()


class DecisionInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class MembershipOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "name_ja", "membership", "applied_at", "membership_changed_at"]


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _own_organisation(request: Request) -> Organisation:
    staff = staff_of(request.user)
    if staff is None:
        raise NotPermitted(_("Only staff of an organisation have colleagues."))
    return staff.organisation


def _managing(request: Request) -> Organisation:
    organisation = _own_organisation(request)
    if not may_manage_staff(request.user, organisation):
        raise NotPermitted(_("Only the organisation's owners manage its staff.")
                           if not organisation.is_certification_body
                           else _("Only the body's managers manage its reviewers and managers."))
    return organisation


@extend_schema(tags=["staff"])
class StaffListView(APIView):
    """The staff of the caller's organisation (any of its staff may read); owners add a login."""

    @extend_schema(responses={200: StaffOutput(many=True)})
    def get(self, request: Request) -> Response:
        organisation = _own_organisation(request)
        members = StaffMember.objects.filter(organisation=organisation).select_related("user")
        return Response(StaffOutput(members, many=True, context={"request": request}).data)

    @extend_schema(request=StaffAddInput, responses={201: StaffOutput})
    def post(self, request: Request) -> Response:
        """Add a login with a password you choose (an invitation lets the person choose their own)."""
        organisation = _own_organisation(request)
        data = _validated(StaffAddInput, request)
        member = staff_services.staff_add(actor=request.user, organisation=organisation, **data)
        return Response(StaffOutput(member, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["staff"])
class StaffDetailView(APIView):
    @extend_schema(request=RoleInput, responses={200: StaffOutput})
    def patch(self, request: Request, pk: int) -> Response:
        """Change a member's role (owners). The last owner cannot be demoted (409)."""
        organisation = _own_organisation(request)
        role = _validated(RoleInput, request)["role"]
        member = staff_services.staff_change_role(actor=request.user, organisation=organisation, member_id=pk,
                                                  role=role)
        return Response(StaffOutput(member, context={"request": request}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Remove a member (owners): their login is deactivated. Never the last owner (409)."""
        organisation = _own_organisation(request)
        staff_services.staff_remove(actor=request.user, organisation=organisation, member_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["staff"])
class InvitationListView(APIView):
    @extend_schema(responses={200: InvitationOutput(many=True)})
    def get(self, request: Request) -> Response:
        """The organisation's invitations, newest first (owners)."""
        organisation = _managing(request)
        invitations = StaffInvitation.objects.filter(organisation=organisation).select_related("invited_by")
        return Response(InvitationOutput(invitations, many=True).data)

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput})
    def post(self, request: Request) -> Response:
        """Invite someone by e-mail: they receive a single-use link, valid STAFF_INVITATION_DAYS days."""
        organisation = _own_organisation(request)
        data = _validated(InvitationInput, request)
        invitation, _token = staff_services.staff_invite(actor=request.user, organisation=organisation, **data)
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["staff"])
class InvitationRevokeView(APIView):
    @extend_schema(request=None, responses={200: InvitationOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """Withdraw a pending invitation: its link stops working (409 if no longer pending)."""
        organisation = _own_organisation(request)
        invitation = StaffInvitation.objects.filter(organisation=organisation, public_id=public_id).first()
        if invitation is None:
            raise NotFound(_("No such invitation."))
        invitation = staff_services.staff_invitation_revoke(actor=request.user, invitation=invitation)
        return Response(InvitationOutput(invitation).data)


@extend_schema(tags=["staff"])
class InvitationAcceptView(APIView):
    """The person invited accepts with the token from the link: a new login for the organisation."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(request=AcceptInput, auth=[], responses={
        201: AcceptOutput, 404: OpenApiResponse(description="no invitation has this token"),
        409: OpenApiResponse(description="used, revoked or expired")})
    def post(self, request: Request, token: str) -> Response:
        data = _validated(AcceptInput, request)
        member = staff_services.staff_invitation_accept(token=token, **data)
        return Response(AcceptOutput(member).data, status=status.HTTP_201_CREATED)


DECISIONS = {
    "approve": services.organisation_approve,
    "reject": services.organisation_reject,
    "suspend": services.organisation_suspend,
    "reinstate": services.organisation_reinstate,
}


@extend_schema(tags=["organisations"])
class MembershipDecisionView(APIView):
    """The body's managers decide memberships: approve, reject (reason required), suspend (reason
    required), reinstate. The organisation is told by e-mail."""

    decision = ""

    @extend_schema(request=DecisionInput, responses={200: MembershipOutput})
    def post(self, request: Request, slug: str) -> Response:
        organisation = Organisation.objects.filter(slug=slug).first()
        own = staff_of(request.user)
        if organisation is None or not (is_manager(request.user) or (own and own.organisation_id == organisation.pk)):
            raise NotFound(_("No such organisation."))
        comment = _validated(DecisionInput, request)["comment"]
        organisation = DECISIONS[self.decision](actor=request.user, organisation=organisation, comment=comment)
        return Response(MembershipOutput(organisation).data)


class RecipientNamesSerializer(serializers.Serializer):
    recipient_names = serializers.ChoiceField(choices=RecipientNames.choices)


@extend_schema(tags=["staff"])
class RecipientNamesView(APIView):
    """How the learner's name appears in the badges the caller's organisation signs: `include` (the
    default), `hash` (salted SHA-256, checkable by someone who types the name) or `omit`."""

    @extend_schema(responses={200: RecipientNamesSerializer})
    def get(self, request: Request) -> Response:
        return Response({"recipient_names": _own_organisation(request).recipient_names})

    @extend_schema(request=RecipientNamesSerializer, responses={200: RecipientNamesSerializer})
    def put(self, request: Request) -> Response:
        organisation = _own_organisation(request)
        data = _validated(RecipientNamesSerializer, request)
        services.organisation_recipient_names_set(actor=request.user, organisation=organisation,
                                                  value=data["recipient_names"])
        return Response({"recipient_names": data["recipient_names"]})


class LogoInput(serializers.Serializer):
    logo = serializers.FileField(help_text="A PNG, or an SVG without scripts or outside references; at most "
                                           "MAX_LOGO_BYTES (256 KB).")


class LogoOutput(serializers.Serializer):
    logo_uri = serializers.CharField(allow_null=True, help_text="Its public URL, the logo_uri of the OpenID "
                                                                "Federation statements; null without a logo.")


def _logo_answer(organisation: Organisation) -> Response:
    from endorsement.trust import organisation_logo_url

    return Response({"logo_uri": organisation_logo_url(organisation)})


@extend_schema(tags=["staff"])
class LogoView(APIView):
    """The caller's organisation's logo (its owners): stored as checked (an SVG written back out
    without scripts or outside references, or refused with 400 on `logo`), audited, and named as
    `logo_uri` in the body's OpenID Federation statement about the organisation."""

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": LogoInput}, responses={200: LogoOutput})
    def put(self, request: Request) -> Response:
        organisation = _own_organisation(request)
        upload = request.FILES.get("logo")
        if upload is None:
            raise InvalidInput(_("Send the logo as the multipart field logo."),
                               field_errors={"logo": [_("This field is required.")]})
        services.organisation_logo_size_check(upload.size)  # refused before it is read into memory
        organisation = services.organisation_set_logo(actor=request.user, organisation=organisation,
                                                      data=upload.read())
        return _logo_answer(organisation)

    @extend_schema(request=None, responses={200: LogoOutput})
    def delete(self, request: Request) -> Response:
        organisation = services.organisation_set_logo(actor=request.user, organisation=_own_organisation(request),
                                                      data=None)
        return _logo_answer(organisation)
