"""API of pathway completion (pathways.completion). The pathway organisation's issuers only; anyone
else's objects answer 404.

POST /pathways/{public_id}/completions                    open one for a learner (201, with the link)
GET  /pathway-completions/{public_id}                     state, progress rule by rule, what was presented
POST /pathway-completions/{public_id}/credentials         present one credential: JSON `credential`
                                                          (object or text) or multipart `file` (PNG/SVG)
POST /pathway-completions/{public_id}/awards              present the learner's badges on this server
POST /pathway-completions/{public_id}/issue               issue now (when a presentation's issuance was refused)
POST /pathway-completions/{public_id}/decision            {"decision": "flag" | "revoke", "comment": "..."}
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import InvalidInput, NotFound
from pathways.completion import (
    awards_present,
    completion_decide,
    completion_issue,
    completion_of_staff,
    completion_open,
    completion_progress,
    credential_present,
    presented_credential,
    progress_words,
)
from pathways.completion_models import Completion
from pathways.models import Pathway


class CompletionOpenInput(serializers.Serializer):
    learner_email = serializers.CharField(required=False, allow_blank=True)
    learner_name = serializers.CharField(required=False, allow_blank=True)
    learner_did = serializers.CharField(required=False, allow_blank=True)


class PresentInput(serializers.Serializer):
    component = serializers.CharField(help_text="The component's code.")
    credential = serializers.JSONField(required=False, help_text="The credential: a JSON object, or its text.")
    file = serializers.FileField(required=False, help_text="A baked badge image (PNG or SVG).")


class CompletionDecisionInput(serializers.Serializer):
    decision = serializers.CharField(help_text="flag (keep it, flagged) or revoke")
    comment = serializers.CharField(required=False, allow_blank=True, help_text="Required to revoke.")


class RuleOutput(serializers.Serializer):
    rule = serializers.CharField()
    kind = serializers.CharField(help_text="all, at_least_n, at_least_hours, order or capstone")
    title = serializers.CharField()
    met = serializers.BooleanField()
    counted = serializers.ListField(child=serializers.CharField())
    missing = serializers.CharField(help_text="What is missing, in words (empty when met).")


class CompletionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    pathway = serializers.UUIDField(source="pathway.public_id")
    state = serializers.CharField(help_text="open, issued, flagged or revoked")
    complete = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()
    presented = serializers.SerializerMethodField()
    badge = serializers.JSONField(allow_null=True, help_text="The signed pathway OpenBadgeCredential, once issued.")
    clr = serializers.JSONField(allow_null=True, help_text="The signed ClrCredential, once issued.")
    component_problem = serializers.CharField(help_text="A component that no longer holds (beat re-check).")

    def get_complete(self, completion: Completion) -> bool:
        return completion_progress(completion).complete

    def get_rules(self, completion: Completion) -> list[dict[str, Any]]:
        return RuleOutput(progress_words(completion), many=True).data

    def get_presented(self, completion: Completion) -> list[dict[str, Any]]:
        return [{"component": p["component"], "source": p["source"], "issued_on": p["issued_on"],
                 "credential_id": p.get("credential_id")} for p in completion.presented]


def _pathway(request: Request, public_id: Any) -> Pathway:
    pathway = Pathway.objects.select_related("organisation").filter(public_id=public_id).first()
    if pathway is None:
        raise NotFound("No such pathway.")
    return pathway


class PathwayCompletionsView(APIView):
    @extend_schema(tags=["pathways"], request=CompletionOpenInput, responses={201: CompletionOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """Open a completion for a learner (`learner_email` and/or `learner_did`, `learner_name`). The
        answer's `link` is the learner's capability link, given only now."""
        serializer = CompletionOpenInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        completion, link = completion_open(actor=request.user, pathway=_pathway(request, public_id),
                                           **serializer.validated_data)
        return Response({**CompletionOutput(completion).data, "link": link}, status=status.HTTP_201_CREATED)


class CompletionView(APIView):
    @extend_schema(tags=["pathways"], responses={200: CompletionOutput})
    def get(self, request: Request, public_id: Any) -> Response:
        """The completion: state, each rule met or what is missing, the credentials kept."""
        return Response(CompletionOutput(completion_of_staff(request.user, public_id)).data)


class CompletionCredentialsView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(tags=["pathways"], request={"application/json": PresentInput, "multipart/form-data": PresentInput},
                   responses={201: CompletionOutput, 400: OpenApiResponse(description=(
                       "Refused: {detail, errors: {credential: [reason]}} — forged, revoked or suspended, "
                       "expired, another issuer or achievement, another recipient. Nothing is kept.")),
                       409: OpenApiResponse(description="Already issued.")})
    def post(self, request: Request, public_id: Any) -> Response:
        """Present one credential for one component; verified in full. When the rules are then met, the
        pathway badge and the ClrCredential are issued at once (the answer's `badge` and `clr`)."""
        completion = completion_of_staff(request.user, public_id)
        component = request.data.get("component")
        if not isinstance(component, str) or not component:
            raise InvalidInput("Give the component.", field_errors={"component": ["This field is required."]})
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        credential = presented_credential(image=upload.read() if upload is not None else None,
                                          credential=request.data.get("credential"))
        credential_present(completion=completion, component_code=component, credential=credential)
        completion.refresh_from_db()
        return Response(CompletionOutput(completion).data, status=status.HTTP_201_CREATED)


class CompletionAwardsView(APIView):
    @extend_schema(tags=["pathways"], request=None, responses={200: CompletionOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """Present the learner's badges on this server for the pathway's programmes (found by e-mail
        address or DID). `outcomes` says, for each, whether it was kept and why not."""
        completion = completion_of_staff(request.user, public_id)
        outcomes = awards_present(completion=completion)
        completion.refresh_from_db()
        return Response({**CompletionOutput(completion).data, "outcomes": [
            {"component": c.code, "accepted": r.accepted, "code": r.code, "reason": r.reason} for c, r in outcomes]})


class CompletionIssueView(APIView):
    @extend_schema(tags=["pathways"], request=None, responses={200: CompletionOutput, 409: OpenApiResponse(
        description="Refused, nothing issued: rules unmet (what is missing), a kept credential no longer "
                    "verifying, no endorsement of the pathway in force, already issued.")})
    def post(self, request: Request, public_id: Any) -> Response:
        """Issue the pathway badge and the ClrCredential now (issuance also happens by itself when a
        presentation makes the rules hold; this is for when it was refused then)."""
        completion = completion_issue(completion=completion_of_staff(request.user, public_id))
        return Response(CompletionOutput(completion).data)


class CompletionDecisionView(APIView):
    @extend_schema(tags=["pathways"], request=CompletionDecisionInput, responses={200: CompletionOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """The organisation's decision on an issued pathway credential: keep it flagged, or revoke it
        (its status list entry set). Audited."""
        completion = completion_of_staff(request.user, public_id)
        serializer = CompletionDecisionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        completion = completion_decide(actor=request.user, completion=completion, **serializer.validated_data)
        return Response(CompletionOutput(completion).data)
