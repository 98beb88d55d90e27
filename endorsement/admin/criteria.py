"""Criteria tables: a draft's criteria are edited inline by managers; a published or retired table is
read-only (the model refuses writes as well). Publishing and new versions go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from endorsement import services
from endorsement.models import CriteriaTable, Criterion
from institutions.admin import BodyAdmin, Button, ButtonsAdminMixin, body_can_view
from institutions.permissions import is_manager


def _editable(request: HttpRequest, table: CriteriaTable | None) -> bool:
    return bool(is_manager(request.user) and (table is None or table.is_editable))


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ("position", "code", "required", "title_en", "title_ja", "guidance_en", "guidance_ja")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return body_can_view(request.user)

    # `obj` is the table: criteria change only while it is a draft.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and _editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and _editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and _editable(request, obj)


@admin.register(CriteriaTable)
class CriteriaTableAdmin(ButtonsAdminMixin, BodyAdmin):
    list_display = ("code", "version", "title_en", "status", "criteria_count", "published_at", "created_at")
    list_filter = ("status", "code")
    search_fields = ("code", "title_en", "title_ja")
    fields = ("code", "version", "status", "title_en", "title_ja", "rule", "published_at", "created_at")
    readonly_fields = ("code", "version", "status", "published_at", "created_at")
    inlines = (CriterionInline,)
    buttons = (
        Button("publish", _("Publish this version"), transition="publish",
               done=_("Published; the version published before it is retired."),
               run=lambda actor, table, text: services.criteria_table_publish(actor=actor, table=table)),
        Button("new-version", _("Start a new version (draft copy)"), shown=lambda user, table: is_manager(user),
               done=_("A new draft version was created from this one."), open_result=True,
               run=lambda actor, table, text: services.criteria_table_new_version(actor=actor, table=table)),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(n_criteria=Count("criteria"))

    @admin.display(description=_("criteria"), ordering="n_criteria")
    def criteria_count(self, table: CriteriaTable) -> int:
        return table.n_criteria

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(request, obj)
