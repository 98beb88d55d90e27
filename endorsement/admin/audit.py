"""The audit trail: read-only (no add, change or delete, for anyone), and a page that verifies the chain."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from endorsement.audit import audit_verify
from endorsement.audit_labels import action_label, state_label
from endorsement.models import AuditEvent
from institutions.admin import BodyAdmin


def subject_label(subject_type: str) -> str:
    """The model's name in the reader's language (AuditEvent.subject_type is the model name)."""
    for model in apps.get_models():
        if model._meta.model_name == subject_type:
            return str(model._meta.verbose_name)
    return subject_type


class ActionFilter(admin.SimpleListFilter):
    """The actions the trail holds, in words (the code is what is filtered on)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in codes), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


class SubjectTypeFilter(admin.SimpleListFilter):
    title = pgettext_lazy("audit event", "subject")
    parameter_name = "subject_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        types = AuditEvent.objects.order_by().values_list("subject_type", flat=True).distinct()
        return sorted(((t, subject_label(t)) for t in types), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(subject_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(BodyAdmin):
    list_display = ("seq", "at", "actor_repr", "action_words", "subject_words", "subject_id", "from_words",
                    "to_words")
    list_filter = (ActionFilter, SubjectTypeFilter)
    search_fields = ("actor_repr", "subject_id", "comment", "action")
    ordering = ("-seq",)
    date_hierarchy = "at"
    # The recorded codes stay on the page beside their words: they are what the chain hashed.
    fields = ("seq", "at", "actor", "actor_repr", "action_words", "action", "subject_words", "subject_type",
              "subject_id", "from_words", "to_words", "from_state", "to_state", "comment", "data", "prev_hash",
              "hash")
    readonly_fields = fields
    change_list_template = "admin/endorsement/auditevent/change_list.html"

    @admin.display(description=_("what happened"), ordering="action")
    def action_words(self, event: AuditEvent) -> str:
        return action_label(event.action)

    @admin.display(description=pgettext_lazy("audit event", "subject"), ordering="subject_type")
    def subject_words(self, event: AuditEvent) -> str:
        return subject_label(event.subject_type)

    @admin.display(description=_("from"))
    def from_words(self, event: AuditEvent) -> str:
        return state_label(event.subject_type, event.from_state) if event.from_state else "—"

    @admin.display(description=_("to"))
    def to_words(self, event: AuditEvent) -> str:
        return state_label(event.subject_type, event.to_state) if event.to_state else "—"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.verify_view)
        return [path("verify/", view, name="endorsement_auditevent_verify"), *super().get_urls()]

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """Walk the whole chain and show whether every link and hash holds (reads only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Verify the audit chain"),
            "report": audit_verify(),
        }
        return TemplateResponse(request, "admin/endorsement/auditevent/verify.html", context)
