"""Pathways in the body's admin: the list with the flag of a component that lost its endorsement
(a filter for the managers), the components and rules read-only, and the button clearing the flag."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from institutions.admin import BodyAdmin, Button, ButtonsAdminMixin
from institutions.permissions import is_manager
from pathways.completion_models import Completion
from pathways.flags import pathway_clear_flag
from pathways.models import Pathway, PathwayComponent, PathwayRule


class FlaggedFilter(admin.SimpleListFilter):
    title = _("component lost its endorsement")
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Flagged")), ("no", _("Not flagged"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(flagged_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(flagged_at__isnull=True)
        return queryset


class ComponentInline(admin.TabularInline):
    model = PathwayComponent
    fields = ("code", "programme", "achievement_url", "issuer_id", "issuer_name", "hours", "is_capstone")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RuleInline(admin.TabularInline):
    model = PathwayRule
    fields = ("kind", "n", "hours", "members_list")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("components"))
    def members_list(self, rule: PathwayRule) -> str:
        return ", ".join(m.component.code for m in rule.members.select_related("component"))


@admin.register(Pathway)
class PathwayAdmin(ButtonsAdminMixin, BodyAdmin):
    list_display = ("__str__", "organisation", "learning_hours", "flagged_at")
    list_filter = (FlaggedFilter, ("organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name_en", "name_ja", "organisation__name", "organisation__name_ja")
    fields = ("public_id", "organisation", "name_en", "name_ja", "description_en", "description_ja",
              "learning_outcomes", "level", "level_framework", "learning_hours", "assessment_of_whole",
              "quality_assurance", "stackability", "responsible_person", "flagged_at", "flag_reason")
    readonly_fields = fields
    inlines = (ComponentInline, RuleInline)
    buttons = (
        Button("clear_flag", _("Clear the flag (the pathway was looked at)"), text=_("Comment (optional)"),
               shown=lambda user, pathway: pathway.flagged_at is not None and is_manager(user),
               done=_("The flag is cleared."),
               run=lambda actor, pathway, text: pathway_clear_flag(actor=actor, pathway=pathway, comment=text)),
    )


@admin.register(Completion)
class CompletionAdmin(BodyAdmin):
    """Learners' completions of pathways (pathways.completion), read-only: the organisation acts on
    its portal and API; the body sees the state, what was presented and what was issued."""

    list_display = ("__str__", "state", "issued_at", "component_problem_at")
    list_filter = ("state", ("pathway", admin.RelatedOnlyFieldListFilter))
    search_fields = ("learner_email", "learner_name", "pathway__name_en", "pathway__name_ja")
    fields = ("public_id", "pathway", "learner_email", "learner_name", "learner_did", "state", "created_by",
              "created_at", "components_presented", "badge_id", "clr_id", "issued_at", "component_problem",
              "component_problem_at", "checked_at", "revoked_at", "revocation_reason")
    readonly_fields = fields

    @admin.display(description=_("credentials presented"))
    def components_presented(self, completion: Completion) -> str:
        return ", ".join(f"{p['component']} ({p['issued_on']})" for p in completion.presented) or "—"

    @admin.display(description=_("pathway badge (signed)"))
    def badge_id(self, completion: Completion) -> str:
        return (completion.badge or {}).get("id", "—")

    @admin.display(description=_("ClrCredential (signed)"))
    def clr_id(self, completion: Completion) -> str:
        return (completion.clr or {}).get("id", "—")
