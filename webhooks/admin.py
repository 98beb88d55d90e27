"""The body's own webhook endpoints, for its managers: register (the secret is shown once), choose
the body's events, enable or disable, make a new secret, see the deliveries and replay them. Members'
endpoints are theirs (the portal and the API) and are not shown here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from institutions.models import Organisation
from institutions.permissions import is_manager
from webhooks import services
from webhooks.models import BODY_EVENTS, WebhookDelivery, WebhookEndpoint


def _may(request: HttpRequest) -> bool:
    return bool(request.user.is_active and (request.user.is_superuser or is_manager(request.user)))


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(label=gettext_lazy("Events"), widget=forms.CheckboxSelectMultiple,
                                       choices=[(str(e), e.label) for e in BODY_EVENTS])
    url = forms.CharField(label=gettext_lazy("URL"), max_length=1000,
                          help_text=gettext_lazy("https, on a public address: deliveries are POSTed here."))

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "enabled"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            if "url" in cleaned:
                cleaned["url"] = services.url_check(cleaned["url"])
            if "events" in cleaned:
                cleaned["events"] = services.events_check(Organisation.objects.get(is_certification_body=True),
                                                          cleaned["events"])
        except DomainError as error:
            for field, problems in error.field_errors.items():
                for problem in problems:
                    self.add_error(field if field in self.fields else None, problem)
        return cleaned


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["event_type", "webhook_id", "state", "attempts", "last_status_code", "last_error", "next_attempt_at",
              "delivered_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "description", "enabled", "failing_since", "created_at"]
    readonly_fields = ["secret_rotated_at", "failing_since", "disabled_at", "disabled_reason", "created_at"]
    inlines = [DeliveryInline]
    actions = ["rotate_secret"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return super().get_queryset(request).filter(organisation__is_certification_body=True)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.Form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.endpoint_update(actor=request.user, endpoint=obj, url=data["url"], events=data["events"],
                                     description=data.get("description", ""))
            services.endpoint_set_enabled(actor=request.user, endpoint=obj, enabled=data.get("enabled", True))
            return
        body = Organisation.objects.get(is_certification_body=True)
        endpoint, secret = services.endpoint_create(actor=request.user, organisation=body, url=data["url"],
                                                    events=data["events"], description=data.get("description", ""))
        obj.pk, obj.public_id = endpoint.pk, endpoint.public_id
        obj._state.adding = False
        messages.warning(request, _("The signing secret of %(url)s, shown this once: %(secret)s") % {
            "url": endpoint.url, "secret": secret})

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.endpoint_delete(actor=request.user, endpoint=obj)

    @admin.action(description=gettext_lazy("Make a new signing secret"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            endpoint, secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
            messages.warning(request, _("The new signing secret of %(url)s, shown this once: %(secret)s") % {
                "url": endpoint.url, "secret": secret})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook_id", "event_type", "endpoint", "state", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at", "created_at"]
    list_filter = ["state", "event_type"]
    readonly_fields = ["endpoint", "event_type", "webhook_id", "source", "payload", "state", "attempts",
                       "last_error", "last_status_code", "last_attempt_at", "next_attempt_at", "retry_until",
                       "delivered_at", "created_at"]
    fields = readonly_fields
    actions = ["replay"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).filter(endpoint__organisation__is_certification_body=True)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Replay: send again with the same webhook-id"))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_replay(actor=request.user, delivery=delivery)
            except DomainError as error:
                messages.error(request, f"{delivery.webhook_id}: {error.message}")
            else:
                done += 1
        if done:
            messages.success(request, _("%(count)s deliveries sent again.") % {"count": done})

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        return actions if _may(request) else {}
