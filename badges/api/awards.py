"""Awards API: issue one badge or a batch under a programme, follow a batch, read and revoke an
award. Staff of the programme's organisation read; its owners and issuers write; anyone else's
objects answer 404.

POST /programmes/{public_id}/awards           issue one (201)
GET  /programmes/{public_id}/awards           the programme's awards
POST /programmes/{public_id}/award-batches    a batch: a JSON list (or {"rows": [...]}), a CSV `file`, or a zip of both
POST /programmes/{public_id}/evidence-files   evidence files for a later batch: their handles (sha384- digests)
GET  /award-batches/{public_id}               progress: issued / total
POST /award-batches/{public_id}/restart       start a failed batch again, or resume a stalled one
GET  /awards/{public_id}                      one award, with its credential and archived evidence
POST /awards/{public_id}/revoke               {"reason": "..."}
POST /evidence-copies/{token}/withdraw        {"reason": "learner" | "organisation"}: bytes deleted, tombstone kept
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from badges.archive import copies_of_award, copy_for_token, copy_url, copy_withdraw
from badges.awards import (
    award_issue,
    award_of_staff,
    award_revoke,
    award_standing,
    award_url,
    awards_of_programme,
    check_can_issue,
)
from badges.batch_files import evidence_upload_store
from badges.batches import (
    ParsedUpload,
    award_batch_create,
    award_batch_of_staff,
    award_batch_restart,
    rows_from_json,
    rows_from_upload,
)
from badges.idempotency import HEADER, Answer, idempotency_key_clean, idempotent, request_fingerprint
from badges.models import ArchivedEvidence, Award, AwardBatch, Programme
from badges.ob2 import assertion_url
from config.errors import InvalidInput, NotFound
from institutions.permissions import is_member_of


class AwardInput(serializers.Serializer):
    """Strings only: the service checks each field and answers field messages."""

    recipient_email = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)
    recipient_did = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)
    recipient_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)
    evidence_url = serializers.CharField(required=False, allow_blank=True, trim_whitespace=True)
    evidence_narrative = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    recipient_language = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=True,
        help_text="Optional: the language of the learner's mails, en or ja (default: the site's). A language "
                  "the learner chose on their account page wins.")


class RevokeInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True)


class WithdrawInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="learner",
                                   help_text="learner (at the learner's request, the default) or organisation")


class ArchivedEvidenceOutput(serializers.ModelSerializer):
    """An archived copy of an award's evidence (docs/evidence.md). `url` is unguessable: staff
    and whoever holds the credential see it; it is listed nowhere public."""

    url = serializers.SerializerMethodField()
    digestSRI = serializers.CharField(source="digest_sri", read_only=True)
    withdrawn_by = serializers.StringRelatedField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="upload (a file) or web (the WARC record of a link)")

    class Meta:
        model = ArchivedEvidence
        fields = ["url", "kind", "digestSRI", "size", "media_type", "filename", "original_url", "taken_at",
                  "in_credential", "withdrawn_at", "withdrawn_by", "withdrawal_reason"]

    def get_url(self, copy: ArchivedEvidence) -> str:
        return copy_url(copy.token)


class AwardOutput(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="programme.public_id", read_only=True)
    batch = serializers.UUIDField(source="batch.public_id", read_only=True, allow_null=True, default=None)
    url = serializers.SerializerMethodField()
    standing = serializers.SerializerMethodField()
    ob2_assertion = serializers.SerializerMethodField(help_text=(
        "The award's Open Badges 2.0 Assertion (hosted verification) mirroring its OB 3.0 credential; "
        "the baked OB 2.0 PNG is this URL + `.png`"))

    class Meta:
        model = Award
        fields = ["public_id", "url", "programme", "batch", "batch_row", "recipient_email", "recipient_did",
                  "recipient_name", "recipient_language", "evidence_url", "evidence_narrative", "issued_at",
                  "valid_from", "valid_until", "standing", "revoked_at", "revocation_reason", "ob2_assertion"]

    def get_url(self, award: Award) -> str:
        return award_url(award.public_id)

    def get_standing(self, award: Award) -> str:
        return award_standing(award)

    def get_ob2_assertion(self, award: Award) -> str:
        return assertion_url(award.public_id)


class AwardDetailOutput(AwardOutput):
    credential = serializers.JSONField(read_only=True)
    archived_evidence = serializers.SerializerMethodField()

    class Meta(AwardOutput.Meta):
        fields = [*AwardOutput.Meta.fields, "archived_evidence", "credential"]

    @extend_schema_field(ArchivedEvidenceOutput(many=True))
    def get_archived_evidence(self, award: Award) -> list[dict]:
        return ArchivedEvidenceOutput(copies_of_award(award), many=True).data


class AwardBatchOutput(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="programme.public_id", read_only=True)
    progress = serializers.SerializerMethodField()
    stalled = serializers.BooleanField(read_only=True, help_text="Pending or running with no badge awarded for "
                                       "BATCH_STALL_SECONDS: POST …/restart resumes it (the sweep also does)")
    file_encoding = serializers.CharField(source="source_encoding", read_only=True, help_text=(
        "How the uploaded file was read: utf-8, utf-8-sig (UTF-8 with a BOM), cp932 (Shift_JIS) or utf-16; "
        "empty for rows sent as JSON"))

    class Meta:
        model = AwardBatch
        fields = ["public_id", "programme", "state", "total", "issued", "progress", "stalled", "error",
                  "file_encoding", "created_at", "progressed_at", "finished_at"]

    def get_progress(self, batch: AwardBatch) -> float:
        """Issued over total, 0 to 1."""
        return round(batch.progress, 4)


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Optional, 1 to 255 visible ASCII characters (a UUID). A retry with the same key and the same "
                "request answers the first answer again, with `Idempotent-Replayed: true`, and awards nothing "
                "more. Keys are per organisation and remembered for 24 hours. See docs/api.md.")
IDEMPOTENCY_RESPONSES = {
    400: OpenApiResponse(description="Input in error, by field (a malformed Idempotency-Key included); nothing "
                                     "written"),
    409: OpenApiResponse(description="No endorsement in force, or a request with the same Idempotency-Key is still "
                                     "being processed; nothing written"),
    422: OpenApiResponse(description="The Idempotency-Key was used for a different request; nothing written"),
}


def _as_json(data: Any) -> Any:
    """Serializer output as plain JSON values (as stored for a replay)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _answer(answer: Answer) -> Response:
    response = Response(answer.body, status=answer.status_code)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _programme(request: Request, public_id: Any) -> Programme:
    programme = Programme.objects.select_related("organisation").filter(public_id=public_id).first()
    if programme is None or not is_member_of(request.user, programme.organisation):
        raise NotFound(_("No such programme."))
    return programme


AWARD_MULTIPART = {
    "type": "object",
    "properties": {
        **{name: {"type": "string"} for name in ("recipient_email", "recipient_did", "recipient_name", "evidence_url",
                                                 "evidence_narrative", "recipient_language")},
        "evidence_file": {"type": "array", "items": {"type": "string", "format": "binary"},
                          "description": "One part per file: PDF, PNG, JPEG, GIF, WebP, UTF-8 text or zip, typed by "
                                         "content; EVIDENCE_UPLOAD_MAX_BYTES each, EVIDENCE_AWARD_MAX_BYTES in all"},
    },
}


@extend_schema(tags=["awards"])
class ProgrammeAwardsView(generics.GenericAPIView):
    serializer_class = AwardOutput
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Award]:
        return awards_of_programme(_programme(self.request, self.kwargs["public_id"]))

    @extend_schema(responses={200: AwardOutput(many=True)})
    def get(self, request: Request, public_id: Any) -> Response:
        """The programme's awards, newest first (staff of its organisation)."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AwardOutput(page, many=True).data)

    @extend_schema(request={"application/json": AwardInput, "multipart/form-data": AWARD_MULTIPART},
                   parameters=[IDEMPOTENCY_KEY], responses={201: AwardDetailOutput, **IDEMPOTENCY_RESPONSES})
    def post(self, request: Request, public_id: Any) -> Response:
        """Award one badge: `recipient_email` and/or `recipient_did`, `recipient_name`, `evidence_url`
        (http or https), `evidence_narrative`; as multipart, also one or more `evidence_file` parts,
        archived and bound into the signed credential (`relatedResource` with `digestSRI`). A file
        over the limits or of another type: 400 and nothing stored. 409 when the programme has no
        endorsement in force.
        With an `Idempotency-Key` header, a retry of the same request answers the first award again
        (`Idempotent-Replayed: true`) instead of awarding a second badge."""
        programme = _programme(request, public_id)
        check_can_issue(request.user, programme.organisation)
        key = idempotency_key_clean(request.headers.get(HEADER))
        fields = {k: v for k, v in request.data.items() if k != "evidence_file"} \
            if hasattr(request.data, "items") else request.data
        serializer = AwardInput(data=fields)
        serializer.is_valid(raise_exception=True)
        files = request.FILES.getlist("evidence_file") if request.content_type.startswith("multipart/") else []
        payload = dict(serializer.validated_data)
        if files:
            payload["evidence_files"] = [_upload_sha256(f) for f in files]

        def perform() -> tuple[int, Any]:
            award = award_issue(actor=request.user, programme=programme, evidence_files=files,
                                **serializer.validated_data)
            return status.HTTP_201_CREATED, _as_json(AwardDetailOutput(award).data)

        return _answer(idempotent(organisation=programme.organisation, key=key, perform=perform,
                                  fingerprint=request_fingerprint(method=request.method, path=request.path,
                                                                  payload=payload)))


def _upload_sha256(upload: Any) -> str:
    """The SHA-256 of an uploaded file for the request's fingerprint, read in chunks (then rewound)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@extend_schema(tags=["awards"])
class ProgrammeAwardBatchesView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}},
                 "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string",
                                                                                   "format": "binary"}}}},
        parameters=[IDEMPOTENCY_KEY],
        responses={201: AwardBatchOutput, 400: OpenApiResponse(description=(
            "Rows in error: `errors` keyed by path (`line 3.email`, `rows[2].recipient_did`) and `row_errors`, "
            "each with its `path`, `line` or `index`, `field`, `column` and `text` in words (\"Line 3, e-mail: "
            "…\"); `file_encoding` says how a file was read. Nothing written")),
                   409: IDEMPOTENCY_RESPONSES[409], 422: IDEMPOTENCY_RESPONSES[422]},
    )
    def post(self, request: Request, public_id: Any) -> Response:
        """Award a batch. JSON: a list of objects with the fields of a single award (or `email`,
        `did`, `name`). Multipart: a CSV (or JSON) `file` with a header row: email or did, name,
        evidence_url, evidence_narrative, evidence_files, or their Japanese names (メールアドレス, DID,
        氏名, エビデンスURL, エビデンスの説明, エビデンスファイル); UTF-8 (a BOM allowed), Shift_JIS (cp932)
        or UTF-16 with a BOM. `evidence_files` names each row's files, separated by `|`: handles
        (`sha384-…`) of files uploaded beforehand (`POST …/evidence-files`), or paths inside a zip
        sent as `file` holding the sheet at its top level and the files. Any bad row or file refuses
        the whole batch (400, errors keyed `line 4.email` or `rows[3].evidence_url`, and `row_errors`
        in words; nothing stored); a good one is issued in chunks in the background."""
        programme = _programme(request, public_id)
        check_can_issue(request.user, programme.organisation)
        key = idempotency_key_clean(request.headers.get(HEADER))
        if request.content_type.startswith("multipart/"):
            upload = request.data.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise InvalidInput(_("Send the CSV or JSON file as `file`."),
                                   field_errors={"file": [_("This field is required.")]})
            content = upload.read()
            payload: Any = {"file_sha256": hashlib.sha256(content).hexdigest()}
            parsed = rows_from_upload(content)
        else:
            payload = request.data
            parsed = ParsedUpload(rows_from_json(request.data))

        def perform() -> tuple[int, Any]:
            batch = award_batch_create(actor=request.user, programme=programme, rows=parsed.rows,
                                       encoding=parsed.encoding, archive=parsed.archive)
            # With tasks eager (no broker) the chunks ran on commit, before this answer: say how it stands now.
            batch.refresh_from_db()
            return status.HTTP_201_CREATED, _as_json(AwardBatchOutput(batch).data)

        return _answer(idempotent(organisation=programme.organisation, key=key, perform=perform,
                                  fingerprint=request_fingerprint(method=request.method, path=request.path,
                                                                  payload=payload)))


EVIDENCE_UPLOAD_MULTIPART = {
    "type": "object",
    "properties": {"evidence_file": {
        "type": "array", "items": {"type": "string", "format": "binary"},
        "description": "One part per file: PDF, PNG, JPEG, GIF, WebP, UTF-8 text or zip, typed by content; "
                       "EVIDENCE_UPLOAD_MAX_BYTES each"}},
}


class EvidenceUploadOutput(serializers.Serializer):
    handle = serializers.CharField(help_text="What a batch's evidence_files column names this file by")
    digestSRI = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    mediaType = serializers.CharField()


class EvidenceUploadsOutput(serializers.Serializer):
    files = EvidenceUploadOutput(many=True)


@extend_schema(tags=["awards"])
class ProgrammeEvidenceFilesView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": EVIDENCE_UPLOAD_MULTIPART},
                   responses={201: OpenApiResponse(EvidenceUploadsOutput, description=(
                       "`files`: each file's handle for a later batch")),
                              400: OpenApiResponse(description="A file in error (type by content, size): nothing "
                                                               "stored")})
    def post(self, request: Request, public_id: Any) -> Response:
        """Upload evidence files ahead of a batch (owners and issuers): each is checked by content and
        size and stored content-addressed; the answer gives each file's `handle` (its `sha384-` digest),
        which a batch row names in its `evidence_files` column. Any file in error: 400, nothing stored."""
        programme = _programme(request, public_id)
        files = request.FILES.getlist("evidence_file")
        stored = evidence_upload_store(actor=request.user, organisation=programme.organisation, uploads=files,
                                       programme=programme)
        return Response({"files": [f.as_json() for f in stored]}, status=status.HTTP_201_CREATED)


@extend_schema(tags=["awards"])
class AwardBatchView(APIView):
    @extend_schema(responses={200: AwardBatchOutput})
    def get(self, request: Request, public_id: Any) -> Response:
        """A batch's progress: state, issued / total."""
        return Response(AwardBatchOutput(award_batch_of_staff(request.user, public_id)).data)


@extend_schema(tags=["awards"])
class AwardBatchRestartView(APIView):
    @extend_schema(request=None, responses={
        200: AwardBatchOutput,
        403: OpenApiResponse(description="Not an owner or issuer of the organisation; nothing written"),
        409: OpenApiResponse(description="The batch is complete or in progress (not failed, not stalled), or the "
                                         "endorsement is not in force; nothing written"),
    })
    def post(self, request: Request, public_id: Any) -> Response:
        """Start a failed batch again, or resume a stalled one (owners and issuers): only the rows with
        no badge are issued."""
        batch = award_batch_restart(actor=request.user, batch=award_batch_of_staff(request.user, public_id))
        return Response(AwardBatchOutput(batch).data)


@extend_schema(tags=["awards"])
class AwardView(APIView):
    @extend_schema(responses={200: AwardDetailOutput})
    def get(self, request: Request, public_id: Any) -> Response:
        """One award with its signed credential."""
        return Response(AwardDetailOutput(award_of_staff(request.user, public_id)).data)


@extend_schema(tags=["awards"])
class AwardRevokeView(APIView):
    @extend_schema(request=RevokeInput, responses={200: AwardDetailOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """Revoke an award (owners and issuers; `reason` required). Its status list bit is set."""
        award = award_of_staff(request.user, public_id)
        serializer = RevokeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        award = award_revoke(actor=request.user, award=award, reason=serializer.validated_data.get("reason", ""))
        return Response(AwardDetailOutput(award).data)


@extend_schema(tags=["awards"])
class EvidenceWithdrawView(APIView):
    @extend_schema(request=WithdrawInput, responses={
        200: ArchivedEvidenceOutput,
        403: OpenApiResponse(description="Not an owner or issuer of the organisation; nothing written"),
        409: OpenApiResponse(description="Already withdrawn; nothing written"),
    })
    def post(self, request: Request, token: str) -> Response:
        """Withdraw an archived evidence copy (owners and issuers, e.g. at the learner's request):
        its bytes are deleted unless another live copy holds them, its URL answers 410, and the
        tombstone (digest, when, by whom) stays; verifiers then report "evidence withdrawn". Audited."""
        copy = copy_for_token(token)
        if not is_member_of(request.user, copy.award.organisation):
            raise NotFound(_("No such archived evidence."))
        serializer = WithdrawInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = copy_withdraw(actor=request.user, copy=copy, reason=serializer.validated_data["reason"] or "learner")
        copy.refresh_from_db()
        return Response(ArchivedEvidenceOutput(copy).data)
