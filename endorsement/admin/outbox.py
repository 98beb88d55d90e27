"""The outbox, for the body's managers: the e-mails written by the services and sent after commit
(endorsement.outbox), read-only, filtered by state and age, with "Retry now" through the service.
A mail's body is not shown: a learner's carries the claim link of their badge, which is theirs alone.
(The body's own webhook deliveries have their page, with a Replay action: webhooks.admin.)"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.errors import DomainError
from endorsement.models import Notification
from endorsement.outbox import notification_retry
from institutions.admin import BodyAdmin
from institutions.permissions import is_manager


class WaitingFilter(admin.SimpleListFilter):
    """The mails that still need someone: not sent yet (pending or given up)."""

    title = _("needs attention")
    parameter_name = "unsent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Not sent (pending or failed)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Notification]) -> QuerySet[Notification]:
        if self.value() == "yes":
            return queryset.exclude(state=Notification.State.SENT)
        return queryset


@admin.register(Notification)
class NotificationAdmin(BodyAdmin):
    list_display = ["subject", "recipient_list", "state", "attempts", "next_attempt_at", "created_at", "sent_at"]
    list_filter = [WaitingFilter, "state", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["key", "subject", "recipients"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = ["key", "recipients", "subject", "state", "attempts", "last_error", "created_at", "next_attempt_at",
              "sent_at"]
    readonly_fields = fields
    actions = ["retry_now"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and is_manager(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    @admin.display(description=_("recipients"))
    def recipient_list(self, row: Notification) -> str:
        return ", ".join(row.recipients)

    @admin.action(description=_("Retry now: send the chosen mails again"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        done = 0
        for row in queryset.order_by("pk"):
            try:
                notification_retry(actor=request.user, notification=row)
            except DomainError as error:
                messages.error(request, f"{row.subject}: {error.message}")
            else:
                done += 1
        if done:
            messages.success(request, ngettext("%(count)d mail is being sent again.",
                                               "%(count)d mails are being sent again.", done) % {"count": done})

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return super().get_actions(request) if self.has_module_permission(request) else {}
