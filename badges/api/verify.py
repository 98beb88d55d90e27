"""POST /api/v1/verify: anyone may ask whether a credential holds (badges.verification)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from badges.identity import NAME_CHECK_CODES, name_check_add, name_clean
from badges.ob2_verification import OB2_CHECK_CODES, presented_from_image, presented_from_text, presented_verify
from badges.verification import (
    CHECK_CODES,
    NOT_PARSED,
    VERDICTS,
    credential_from_json,
    max_upload_bytes,
    upload_too_large,
)
from config.errors import InvalidInput
from config.throttling import AnonRateThrottle

# Room for the multipart envelope and the other fields around an upload of the maximum size.
ENVELOPE_BYTES = 64 * 1024


class RawJSONParser(BaseParser):
    """Hands the JSON body over unparsed (at most the upload limit + 1 bytes), so that malformed
    JSON gets the same field message as on the page instead of a bare parse error."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(max_upload_bytes() + 1) if stream is not None else b""


class RawLDParser(RawJSONParser):
    media_type = "application/ld+json"


class RawVCParser(RawJSONParser):
    media_type = "application/vc+ld+json"


class VerifyUpload(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A baked badge image: PNG or SVG.")
    credential = serializers.CharField(required=False, trim_whitespace=False,
                                       help_text="The credential's JSON, as text (instead of a file).")
    email = serializers.EmailField(required=False, allow_blank=True,
                                   help_text="Optional: compared with the recipient's hashed e-mail identity.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text=(
        "Optional: the recipient's name as the holder gave it, compared with the credential's `name` "
        "IdentityObject (its salted `identityHash` when hashed). Never stored."))


class VerifyWrapped(serializers.Serializer):
    credential = serializers.JSONField(help_text="The credential (a JSON object).")
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CheckOutput(serializers.Serializer):
    id = serializers.CharField(help_text="shape, issuer, proof, dates, status, registry, evidence, identity, or "
                                         "endorsement-<n>-<check> for the n-th embedded endorsement; in a "
                                         "ClrCredential, credential-<n>-<check> for the n-th credential it "
                                         "bundles.")
    label = serializers.CharField(help_text="What is checked, in the language asked for (Accept-Language).")
    passed = serializers.BooleanField()
    message = serializers.CharField(help_text="What the check found, in words.")
    informational = serializers.BooleanField(help_text="Does not count towards `verified`.")
    code = serializers.ChoiceField(choices=CHECK_CODES + OB2_CHECK_CODES + NAME_CHECK_CODES, help_text=(
        "Machine-readable outcome, `<check>.<outcome>`, the same in every language: e.g. `proof.ok`, "
        "`proof.signature-mismatch`, `status.revoked`, `status.unknown` (the status list could not be fetched, "
        "verified or has expired: never reported as not revoked), `identity.mismatch`. See docs/credentials.md."))


class ReportOutput(serializers.Serializer):
    verified = serializers.BooleanField(help_text="The credential is genuine and in force: every check that is "
                                                  "not informational passed (the recipient match is informational).")
    verdict = serializers.ChoiceField(choices=VERDICTS, help_text=(
        "One word for the whole report, the first that applies: `not-genuine` (form, issuer or signature fails: "
        "nothing it says can be trusted), `revoked`, `suspended`, `expired`, `not-yet-valid`, `status-unknown`, "
        "`not-verified` (another check of the credential itself fails), `endorsement-invalid` (an embedded "
        "endorsement fails), `credential-invalid` (a credential a ClrCredential bundles fails), "
        "`recipient-mismatch` (verified, but the `email` given is not the recipient's), "
        "`verified`."))
    genuine = serializers.BooleanField(help_text="Its form, issuer and signature hold: it says what its issuer "
                                                 "signed (whether it is still in force aside).")
    recipient_matches = serializers.BooleanField(allow_null=True, help_text=(
        "Whether the `email` and the `name` given are the recipient's: true (each given one matches), false "
        "(another address or name, or the credential names none), or null when neither was given."))
    checks = CheckOutput(many=True)
    credential = serializers.DictField(help_text="A summary of what was presented: id, type, name, issuer, "
                                                 "achievement, subject, valid_from, valid_until; for a ClrCredential, "
                                                 "`credentials`: the same summary of each credential it "
                                                 "bundles, with its number, verified and verdict.")


def _email(value: object) -> str:
    field = serializers.EmailField(allow_blank=True)
    try:
        return field.run_validation(value if isinstance(value, str) else "")
    except serializers.ValidationError as error:
        raise InvalidInput(_("Invalid input."), field_errors={"email": [str(m) for m in error.detail]}) from None


class VerifyView(APIView):
    """Verify an Open Badges 3.0 credential or a CLR 2.0 ClrCredential: ours or any issuer's."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # public and read-only: no session, hence no CSRF to satisfy
    throttle_classes = [AnonRateThrottle]  # the "anon" rate, per client address
    parser_classes = [RawJSONParser, RawLDParser, RawVCParser, MultiPartParser]

    @extend_schema(
        tags=["verification"],
        operation_id="verify_credential",
        summary="Verify a credential",
        description=(
            "Send the credential as the JSON body (or wrapped: `{\"credential\": {...}, \"email\": \"...\", "
            "\"name\": \"...\"}`), or as multipart with a baked PNG/SVG in `file` (or its JSON in `credential`) "
            "and an optional `email` and `name` (compared with the recipient's identity, hashed or not; never "
            "stored). "
            "An Open Badges 2.0 assertion (hosted verification) is accepted the same ways: its JSON, a PNG baked "
            "with an `openbadges` chunk, or its URL as `credential` (`{\"credential\": \"https://…\"}`); its "
            "report has the same shape (docs/credentials.md, \"Verifying an Open Badges 2.0 assertion\"). "
            "A credential gets a report (200), verified or not, with one entry per check. Input that holds no "
            "credential at all (malformed JSON, JSON that is not an object, a file that is not a PNG or SVG, "
            "an image with no baked credential, more than 5 MB) is refused with 400 and a message per field "
            "(`credential`, `file`, `email`, `name`). Only bundled JSON-LD contexts are used; none is ever fetched."
        ),
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": VerifyUpload,
        },
        responses={
            200: ReportOutput,
            400: OpenApiResponse(description="No credential could be read: {detail, errors: {field: [message]}}."),
            429: OpenApiResponse(description="Too many requests from this address."),
        },
        examples=[
            OpenApiExample("A tampered credential", response_only=True, status_codes=["200"], value={
                "verified": False, "verdict": "not-genuine", "genuine": False, "recipient_matches": None,
                "checks": [{"id": "proof", "label": "Signature valid", "passed": False, "informational": False,
                            "code": "proof.signature-mismatch",
                            "message": "The signature does not match the credential: it was altered after signing, "
                                       "or signed with a key other than its issuer's (did:web:example.org#key-1)."}],
                "credential": {"id": "https://example.org/badges/1", "type": ["VerifiableCredential",
                                                                              "OpenBadgeCredential"]},
            }),
            OpenApiExample("Genuine, but not the recipient's", response_only=True, status_codes=["200"], value={
                "verified": True, "verdict": "recipient-mismatch", "genuine": True, "recipient_matches": False,
                "checks": [{"id": "identity", "label": "Recipient's e-mail address", "passed": False,
                            "informational": True, "code": "identity.mismatch",
                            "message": "The e-mail address you gave is not the one the credential names."}],
                "credential": {"id": "https://example.org/badges/1", "type": ["VerifiableCredential",
                                                                              "OpenBadgeCredential"]},
            }),
        ],
    )
    def post(self, request: Request) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > max_upload_bytes() + ENVELOPE_BYTES:
            # Refused before the body is read (or spooled to disk).
            raise upload_too_large("file" if request.content_type.startswith("multipart/") else "credential")
        data = request.data
        email = name = ""
        if isinstance(data, bytes):
            # The request guard parsed and checked this very body already (when it is JSON it could read).
            credential = credential_from_json(data, parsed=getattr(request._request, "checked_json", NOT_PARSED))
            if "@context" not in credential and "credential" in credential:
                wrapped = credential
                email = _email(wrapped.get("email", ""))
                name = name_clean(wrapped.get("name", ""))
                inner = wrapped["credential"]
                credential = presented_from_text(inner) if isinstance(inner, str) else inner
                if not isinstance(credential, dict | str):
                    raise InvalidInput(_("Invalid input."),
                                       field_errors={"credential": [_("A credential is a JSON object.")]})
        else:
            email = _email(data.get("email", ""))
            name = name_clean(data.get("name", ""))
            upload = data.get("file")
            text = data.get("credential")
            if upload and text:
                raise InvalidInput(_("Invalid input."), field_errors={
                    "file": [_("Send either a file or the credential's JSON, not both.")]})
            if upload:
                if upload.size > max_upload_bytes():
                    raise upload_too_large("file")
                credential = presented_from_image(upload.read())
            else:
                credential = presented_from_text(text or "")
        report = name_check_add(presented_verify(credential, email=email), credential, name)
        # `report.as_dict()` is already the shape ReportOutput documents (its fields, nothing else:
        # tests/badges/test_verification_api.py compares the two); run through the serializer it came
        # out the same, at the cost of building a serializer per check.
        return Response(report.as_dict())
