"""Webhooks API: the caller's organisation's endpoints (its owners; the body's managers for the
body's) and their deliveries.

GET/POST     /webhooks                                      endpoints; register one (the secret is in the answer, once)
GET/PATCH/DELETE /webhooks/{id}                             one endpoint; change url, events, description, enabled
POST         /webhooks/{id}/rotate-secret                   a new secret (in the answer, once)
POST         /webhooks/{id}/test                            a signed webhook.test event (202; 429 beyond the rate)
GET          /webhooks/{id}/deliveries                      its deliveries, newest first (paginated)
POST         /webhooks/{id}/deliveries/{webhook_id}/replay  send one again, with the same webhook-id
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webhooks import services
from webhooks.api.serializers import (
    DeliveryOutput,
    EndpointChangeInput,
    EndpointInput,
    EndpointOutput,
    EndpointWithSecretOutput,
)


def _validated(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _with_secret(endpoint: Any, secret: str) -> dict[str, Any]:
    return {**EndpointOutput(endpoint).data, "secret": secret}


@extend_schema(tags=["webhooks"])
class EndpointListView(APIView):
    @extend_schema(responses={200: EndpointOutput(many=True)})
    def get(self, request: Request) -> Response:
        """The organisation's webhook endpoints (owners; the body's managers for the body's)."""
        return Response(EndpointOutput(services.endpoints_of(request.user), many=True).data)

    @extend_schema(request=EndpointInput, responses={201: EndpointWithSecretOutput})
    def post(self, request: Request) -> Response:
        """Register an endpoint. Its URL must be https on a public address (checked now and at every
        delivery); a loopback or private address is refused (400). The answer carries the signing
        secret, `whsec_…`, this once."""
        organisation = services.webhook_organisation(request.user)
        data = _validated(EndpointInput, request)
        endpoint, secret = services.endpoint_create(actor=request.user, organisation=organisation, **data)
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)


@extend_schema(tags=["webhooks"])
class EndpointDetailView(APIView):
    @extend_schema(responses={200: EndpointOutput})
    def get(self, request: Request, public_id: Any) -> Response:
        return Response(EndpointOutput(services.endpoint_of(request.user, public_id)).data)

    @extend_schema(request=EndpointChangeInput, responses={200: EndpointOutput})
    def patch(self, request: Request, public_id: Any) -> Response:
        """Change the URL, the events or the description; `enabled` true enables it again (a disabled
        endpoint's run of failures is forgotten), false stops deliveries to it."""
        endpoint = services.endpoint_of(request.user, public_id)
        data = _validated(EndpointChangeInput, request)
        enabled = data.pop("enabled", None)
        endpoint = services.endpoint_update(actor=request.user, endpoint=endpoint, **data)
        if enabled is not None:
            endpoint = services.endpoint_set_enabled(actor=request.user, endpoint=endpoint, enabled=enabled)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, public_id: Any) -> Response:
        """Remove the endpoint and the log of its deliveries."""
        services.endpoint_delete(actor=request.user, endpoint=services.endpoint_of(request.user, public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"])
class RotateSecretView(APIView):
    @extend_schema(request=None, responses={200: EndpointWithSecretOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """A new signing secret, in the answer this once; the old one stops signing at once."""
        endpoint, secret = services.endpoint_rotate_secret(
            actor=request.user, endpoint=services.endpoint_of(request.user, public_id))
        return Response(_with_secret(endpoint, secret))


@extend_schema(tags=["webhooks"])
class SendTestView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request: Request, public_id: Any) -> Response:
        """Send the endpoint a signed `webhook.test` event now, through the same delivery path as every
        event (its delivery is in the log). 409 while the endpoint is disabled; 429 beyond
        WEBHOOK_TEST_EVENTS_PER_HOUR tests of one endpoint in an hour."""
        delivery = services.endpoint_send_test(actor=request.user,
                                               endpoint=services.endpoint_of(request.user, public_id))
        delivery.refresh_from_db()  # sent after commit (at once without a broker): its state now
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["webhooks"])
class DeliveryListView(generics.GenericAPIView):
    serializer_class = DeliveryOutput

    def get_queryset(self) -> Any:
        return services.endpoint_of(self.request.user, self.kwargs["public_id"]).deliveries.all()

    @extend_schema(responses={200: DeliveryOutput(many=True)})
    def get(self, request: Request, public_id: Any) -> Response:
        """The endpoint's deliveries, newest first: state, attempts, last status and error."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)


@extend_schema(tags=["webhooks"])
class DeliveryReplayView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request: Request, public_id: Any, webhook_id: str) -> Response:
        """Send the delivery again now, with the same webhook-id and payload (409 while the endpoint
        is disabled)."""
        endpoint = services.endpoint_of(request.user, public_id)
        delivery = services.delivery_replay(actor=request.user, delivery=services.delivery_of(endpoint, webhook_id))
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
