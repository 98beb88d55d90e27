"""Continuous quality assurance in the admin: the managers' queue of concerns reported from the
registry, and quality reviews (assign reviewers, record findings, decide). Every write is a POST
to one service in endorsement.quality; nothing is edited through the form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from endorsement import quality
from endorsement.audit import audit_for
from endorsement.models import Concern, ConcernState, QualityReview, QualityReviewAssignment
from endorsement.services import reviewer_conflict
from institutions.admin import BodyAdmin, Button, ButtonsAdminMixin, ReadOnlyInline, perform
from institutions.models import BODY_ROLES
from institutions.permissions import is_manager


class ConcernInline(ReadOnlyInline):
    model = Concern
    fields = ("received_at", "message", "email", "state")
    readonly_fields = fields
    verbose_name_plural = _("concerns behind this review")


@admin.register(QualityReview)
class QualityReviewAdmin(ButtonsAdminMixin, BodyAdmin):
    list_display = ("id", "programme", "organisation", "state", "opened_at", "conditions_due", "decided_at")
    list_display_links = ("id", "programme")
    list_filter = ("state", ("organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("programme__name_en", "programme__name_ja", "organisation__name", "reason")
    list_select_related = ("programme", "organisation")
    fields = ("programme", "organisation", "endorsement", "state", "reason", "opened_by", "opened_at",
              "conditions", "conditions_due", "decision_comment", "decided_at")
    readonly_fields = fields
    inlines = [ConcernInline]
    change_form_template = "admin/endorsement/qualityreview/change_form.html"
    buttons = (
        Button("start_review", _("Start the review"), transition="start_review", done=_("The review has started."),
               run=lambda actor, r, text: quality.quality_review_start(actor=actor, review=r)),
        Button("close_no_change", _("Close with no change"), transition="close_no_change",
               text=_("Decision (the organisation sees this)"), text_required=True,
               done=_("The review was closed with no change."),
               run=lambda actor, r, text: quality.quality_review_close(actor=actor, review=r, comment=text)),
        Button("conditions_met", _("Conditions met: close the review"), transition="conditions_met",
               text=_("Comment (optional)"), done=_("The conditions were recorded as met; the review is closed."),
               run=lambda actor, r, text: quality.quality_review_conditions_met(actor=actor, review=r, comment=text)),
        Button("suspend", _("Suspend the endorsement"), transition="suspend", text=_("Reason"), text_required=True,
               danger=True, done=_("The endorsement was suspended; the review is closed."),
               run=lambda actor, r, text: quality.quality_review_suspend(actor=actor, review=r, comment=text)),
        Button("revoke", _("Revoke the endorsement"), transition="revoke", text=_("Reason"), text_required=True,
               danger=True, done=_("The endorsement was revoked; the review is closed."),
               run=lambda actor, r, text: quality.quality_review_revoke(actor=actor, review=r, comment=text)),
    )

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/assign-reviewer/", wrap(self.assign_view), name="endorsement_qualityreview_assign"),
            path("<path:object_id>/conditions/", wrap(self.conditions_view),
                 name="endorsement_qualityreview_conditions"),
            path("<path:object_id>/finding/", wrap(self.finding_view), name="endorsement_qualityreview_finding"),
            *super().get_urls(),
        ]

    def _url(self, name: str, review: QualityReview) -> str:
        return reverse(f"admin:endorsement_qualityreview_{name}", args=[review.pk], current_app=self.admin_site.name)

    def candidates(self, review: QualityReview) -> list[Any]:
        assigned = review.assignments.values_list("reviewer_id", flat=True)
        users = get_user_model().objects.filter(
            is_active=True, staff__organisation__is_certification_body=True,
            staff__role__in=[r.value for r in BODY_ROLES]).exclude(pk__in=assigned).order_by("username")
        return [user for user in users if reviewer_conflict(review, user) is None]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        review = self.get_object(request, unquote(object_id))
        if review is not None and self.has_view_permission(request, review):
            manager = is_manager(request.user)
            assignments = list(review.assignments.select_related("reviewer"))
            own = next((a for a in assignments if a.reviewer_id == request.user.pk), None)
            extra_context = {
                **(extra_context or {}),
                "assignments": assignments,
                "assign": ({"url": self._url("assign", review), "candidates": self.candidates(review)}
                           if manager and review.state in ("open", "in_review") else None),
                "conditions_url": (self._url("conditions", review)
                                   if manager and review.state == "in_review" else None),
                "own": own if own and review.state == "in_review" else None,
                "finding_url": self._url("finding", review),
                "trail": list(audit_for(review).order_by("seq")),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _post_only(self, request: HttpRequest) -> HttpResponse | None:
        return HttpResponseNotAllowed(["POST"]) if request.method != "POST" else None

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        review = self.visible_object(request, object_id)
        raw = request.POST.get("reviewer", "")
        reviewer = get_user_model().objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if reviewer is None:
            messages.error(request, _("Choose a reviewer from the list."))
        else:
            perform(request, lambda: quality.quality_review_assign_reviewer(actor=request.user, review=review,
                                                                            reviewer=reviewer),
                    str(_("%(user)s is assigned as a reviewer.") % {"user": reviewer}))
        return HttpResponseRedirect(self.change_url(review))

    def conditions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        review = self.visible_object(request, object_id)
        perform(request, lambda: quality.quality_review_impose_conditions(
            actor=request.user, review=review, conditions=request.POST.get("conditions", ""),
            due=request.POST.get("due", "")), str(_("The conditions were recorded; the organisation is told.")))
        return HttpResponseRedirect(self.change_url(review))

    def finding_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        review = self.visible_object(request, object_id)
        assignment = QualityReviewAssignment.objects.filter(quality_review=review, reviewer_id=request.user.pk).first()
        if assignment is None:
            messages.error(request, _("You are not assigned to this review; nothing was recorded."))
        else:
            perform(request, lambda: quality.quality_review_record_finding(
                actor=request.user, assignment=assignment, finding=request.POST.get("finding", "")),
                str(_("Your finding was recorded.")))
        return HttpResponseRedirect(self.change_url(review))


class ConcernQueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("new", _("To handle"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "new":
            return queryset.filter(state=ConcernState.NEW)
        return queryset


@admin.register(Concern)
class ConcernAdmin(ButtonsAdminMixin, BodyAdmin):
    """The managers' queue of concerns reported from the registry (never shown publicly)."""

    list_display = ("received_at", "programme", "short_message", "email", "state", "quality_review")
    list_filter = (ConcernQueueFilter, "state")
    search_fields = ("message", "email", "programme__name_en", "programme__name_ja")
    list_select_related = ("programme", "quality_review")
    date_hierarchy = "received_at"
    fields = ("programme", "endorsement", "received_at", "message", "email", "state", "quality_review",
              "handled_by", "handled_comment", "address_hash")
    readonly_fields = fields
    buttons = (
        Button("open_review", _("Open a quality review"), transition="open_review",
               text=_("Reason for the review (optional: the concern is quoted)"), open_result=True,
               done=_("A quality review of the endorsement is open with this concern."),
               run=lambda actor, c, text: quality.concern_open_review(actor=actor, concern=c, reason=text)),
        Button("dismiss", _("Dismiss the concern"), transition="dismiss", text=_("Reason (kept here, never published)"),
               text_required=True, done=_("The concern was dismissed."),
               run=lambda actor, c, text: quality.concern_dismiss(actor=actor, concern=c, comment=text)),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_manager(request.user) or request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Concerns may name people: the managers' queue, not every reviewer's.
        return bool(request.user.is_active and (is_manager(request.user) or request.user.is_superuser))

    @admin.display(description=_("concern"))
    def short_message(self, concern: Concern) -> str:
        return concern.message if len(concern.message) <= 80 else concern.message[:79] + "…"
