"""Input and output serializers of the programmes API."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from badges.models import Programme
from badges.services import EDITABLE_FIELDS, programme_is_locked, programme_missing_fields


def image_too_large(size: int) -> str:
    limit = settings.MAX_IMAGE_BYTES
    return _("The image is %(size)s bytes; the limit is %(limit)s bytes.") % {
        "size": f"{size:,}", "limit": f"{limit:,}"
    }


def decode_base64_image(value: str) -> bytes:
    """Bytes of a base64 string, with or without a `data:image/...;base64,` prefix."""
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    # Refuse before decoding what would be far over the limit (4 base64 characters per 3 bytes).
    if len(value) * 3 // 4 > settings.MAX_IMAGE_BYTES + 3:
        raise serializers.ValidationError(image_too_large(len(value) * 3 // 4))
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise serializers.ValidationError(_("This is not valid base64.")) from None


class ProgrammeInput(serializers.ModelSerializer):
    """The programme's editable fields, and optionally its image as base64 (PNG or SVG)."""

    image_base64 = serializers.CharField(required=False, write_only=True, trim_whitespace=True)
    learning_outcomes = serializers.JSONField(required=False)
    alignments = serializers.JSONField(required=False)
    tags = serializers.JSONField(required=False)
    slug = serializers.SlugField(required=False, max_length=70)

    class Meta:
        model = Programme
        fields = [*EDITABLE_FIELDS, "slug", "image_base64"]

    def validate_image_base64(self, value: str) -> bytes:
        return decode_base64_image(value)


class ImageInput(serializers.Serializer):
    """Either a multipart `image` file or JSON `image_base64`."""

    image = serializers.FileField(required=False)
    image_base64 = serializers.CharField(required=False)

    def validate_image(self, value: Any) -> bytes:
        if value.size > settings.MAX_IMAGE_BYTES:
            raise serializers.ValidationError(image_too_large(value.size))
        return value.read()

    def validate_image_base64(self, value: str) -> bytes:
        return decode_base64_image(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("image" in attrs) == ("image_base64" in attrs):
            raise serializers.ValidationError({"image": [_("Send either an image file or image_base64.")]})
        return {"image": attrs.get("image", attrs.get("image_base64"))}


class ProgrammeOutput(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    image = serializers.SerializerMethodField()
    locked = serializers.SerializerMethodField()
    missing_fields = serializers.SerializerMethodField()

    class Meta:
        model = Programme
        fields = ["public_id", "slug", "organisation", *EDITABLE_FIELDS, "image", "locked", "missing_fields",
                  "created_at", "updated_at"]

    def get_image(self, programme: Programme) -> str | None:
        if not programme.image:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(programme.image.url) if request else programme.image.url

    def get_locked(self, programme: Programme) -> bool:
        return programme_is_locked(programme)

    def get_missing_fields(self, programme: Programme) -> list[str]:
        return programme_missing_fields(programme)
