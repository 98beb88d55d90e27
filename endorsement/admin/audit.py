"""The audit trail: read-only (no add, change or delete, for anyone), and a page that verifies the chain."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from endorsement.audit import audit_verify
from endorsement.models import AuditEvent
from institutions.admin import BodyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(BodyAdmin):
    list_display = ("seq", "at", "actor_repr", "action", "subject_type", "subject_id", "from_state", "to_state")
    list_filter = ("action", "subject_type")
    search_fields = ("actor_repr", "subject_id", "comment", "action")
    ordering = ("-seq",)
    date_hierarchy = "at"
    fields = ("seq", "at", "actor", "actor_repr", "action", "subject_type", "subject_id", "from_state", "to_state",
              "comment", "data", "prev_hash", "hash")
    readonly_fields = fields
    change_list_template = "admin/endorsement/auditevent/change_list.html"

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
