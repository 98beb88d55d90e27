"""Input and output serializers of the institutions API: token, the caller, membership applications,
conflicts of interest."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from institutions.models import ConflictOfInterest, Organisation
from institutions.services import ORGANISATION_FIELDS, login_refusal_reason
from institutions.slugs import SLUG_MAX


class TokenInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        # The Django request itself, so that the lockout (django-axes) counts and refuses this
        # attempt exactly as it does on the login page and the admin's.
        http_request = getattr(request, "_request", request)
        user = authenticate(http_request, username=attrs["username"], password=attrs["password"])
        if user is None:
            waiting = login_refusal_reason(attrs["username"], attrs["password"])
            if waiting:  # the right password of a login whose organisation is not yet approved
                raise serializers.ValidationError({"non_field_errors": [waiting]})
            # Same message for an unknown user, a wrong password and an inactive login.
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with the username and password given.")]}
            )
        attrs["user"] = user
        return attrs


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()


class OrganisationBrief(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "name_ja", "kind", "membership", "is_certification_body"]


class MeOutput(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    organisation = OrganisationBrief(allow_null=True)
    role = serializers.CharField(allow_null=True)


class OwnerInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            validate_password(attrs["password"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class OrganisationApplyInput(serializers.ModelSerializer):
    owner = OwnerInput(required=False)
    slug = serializers.CharField(
        required=False, allow_blank=True, max_length=SLUG_MAX,
        help_text="Names the organisation in its addresses and DID; empty: derived from the name (Japanese "
                  "romanised). Lower-case letters, digits and hyphens.",
    )

    class Meta:
        model = Organisation
        fields = [*ORGANISATION_FIELDS, "slug", "owner"]


class OrganisationApplyOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", *ORGANISATION_FIELDS, "membership", "applied_at"]


class ConflictInput(serializers.Serializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    reason = serializers.CharField()


class ConflictOutput(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = ConflictOfInterest
        fields = ["id", "organisation", "reviewer", "reason", "declared_at"]
