from __future__ import annotations

from rest_framework import serializers

from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class EndpointOutput(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "enabled", "disabled_at", "disabled_reason",
                  "failing_since", "created_at", "secret_rotated_at"]


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="The signing secret (whsec_…): shown this once.")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=1000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointChangeInput(serializers.Serializer):
    url = serializers.CharField(max_length=1000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False,
                                   required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["webhook_id", "event_type", "state", "attempts", "last_status_code", "last_error",
                  "last_attempt_at", "next_attempt_at", "retry_until", "delivered_at", "created_at", "payload"]
