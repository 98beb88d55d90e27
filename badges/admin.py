"""Programmes in the body's admin: read-only (organisations edit their own through the portal and API;
what reviewers judge is the snapshot frozen into each application)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from badges.models import Programme
from config.phrases import with_break_opportunities
from institutions.admin import BodyAdmin


@admin.register(Programme)
class ProgrammeAdmin(BodyAdmin):
    list_display = ("name", "organisation", "credential_pattern", "learning_hours", "achievement_type", "updated_at")
    list_filter = ("credential_pattern", "achievement_type", "participation_form")
    search_fields = ("name_en", "name_ja", "slug", "organisation__name", "organisation__name_ja")
    list_select_related = ("organisation",)
    ordering = ("organisation__name", "name_en")
    fieldsets = (
        (None, {"fields": ("organisation", "public_id", "slug", "name_en", "name_ja", "description_en",
                           "description_ja")}),
        (_("What is learnt"), {"fields": ("learning_outcomes", "learning_hours", "level", "level_framework",
                                          "criteria_narrative", "prerequisites", "stackability")}),
        (_("Assessment and quality"), {"fields": ("assessment_method", "assessment_supervised",
                                                  "identity_verified", "evidence_policy", "quality_assurance",
                                                  "responsible_person")}),
        (_("Credential"), {"fields": ("credential_pattern", "achievement_type", "participation_form", "language",
                                      "country", "validity_months", "alignments", "tags", "image")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("public_id", "created_at", "updated_at")

    @admin.display(description=_("name"), ordering="name_en")
    def name(self, obj: Programme) -> str:
        """The name in the reader's language, with break opportunities between Japanese phrases."""
        return with_break_opportunities(str(obj))
