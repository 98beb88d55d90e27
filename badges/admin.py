"""Programmes in the body's admin: read-only (organisations edit their own through the portal and API;
what reviewers judge is the snapshot frozen into each application). The learners' chosen mail
languages, read-only too: each is the learner's own choice on their account page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from badges.models import Programme, RecipientLanguage
from config.phrases import with_break_opportunities
from endorsement.figures import figures_context, figures_csv_response
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
                                          "field_of_study", "criteria_narrative", "prerequisites", "stackability")}),
        (_("Assessment and quality"), {"fields": ("assessment_method", "assessment_supervised",
                                                  "identity_verified", "evidence_policy", "quality_assurance",
                                                  "responsible_person")}),
        (_("Credential"), {"fields": ("credential_pattern", "achievement_type", "participation_form", "language",
                                      "country", "validity_months", "alignments", "tags", "image")}),
        (_("Issuance figures"), {"fields": ("issuance_figures",)}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("public_id", "created_at", "updated_at", "issuance_figures")

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.figures_csv_view)
        return [path("<path:object_id>/figures.csv", view, name="badges_programme_figures_csv"), *super().get_urls()]

    def figures_csv_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        programme = self.get_object(request, object_id)
        if programme is None or not self.has_view_permission(request, programme):
            raise Http404
        return figures_csv_response(programme, programme.public_id)

    @admin.display(description=_("badges issued per month"))
    def issuance_figures(self, obj: Programme) -> SafeString:
        """The chart, its table and the CSV link (templates/includes/issuance_chart.html)."""
        if obj.pk is None:
            return mark_safe("")
        url = reverse("admin:badges_programme_figures_csv", args=[obj.pk], current_app=self.admin_site.name)
        context: dict[str, Any] = {**figures_context(obj, url, "admin-figures"), "figures_no_heading": True}
        return mark_safe(render_to_string("includes/issuance_chart.html", context))  # noqa: S308

    @admin.display(description=_("name"), ordering="name_en")
    def name(self, obj: Programme) -> str:
        """The name in the reader's language, with break opportunities between Japanese phrases."""
        return with_break_opportunities(str(obj))


@admin.register(RecipientLanguage)
class RecipientLanguageAdmin(BodyAdmin):
    """Which language a learner chose for the mails to one address (badges.mail_language): the body's
    staff look it up when a learner asks why a mail came in one language. Read-only: only the
    learner changes it, on their account page."""

    list_display = ("email", "language", "updated_at")
    list_filter = ("language",)
    search_fields = ("email",)
    ordering = ("email",)
    fields = ("email", "language", "updated_at")
    readonly_fields = fields
