"""Applications: the review queue, and the page where reviewers judge and managers decide.

Nothing is edited through the form (the state is protected, the snapshot frozen); every change is a
POST to one of the URLs below, which calls one service. Applications come from organisations, so
there is no add and no delete; drafts stay the organisation's own until submitted.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from config.phrases import with_break_opportunities
from endorsement import renewals, services
from endorsement.admin.application_page import (
    application_trail,
    assignable_reviewers,
    judgement_matrix,
    my_review,
    snapshot_view,
)
from endorsement.models import Application, ApplicationKind, ApplicationState, Criterion, Review, ReviewDepth
from endorsement.rules import endorsement_allowed
from institutions.admin import BodyAdmin, Button, ButtonsAdminMixin, perform
from institutions.permissions import is_manager
from pathways.review import component_map

S = ApplicationState
ASSIGNABLE_STATES = {S.SUBMITTED, S.IN_REVIEW}


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("mine", _("Assigned to me")), ("decision", _("Waiting for a decision"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "mine":
            # Incomplete reviews first: see ApplicationAdmin.get_ordering.
            return queryset.filter(assigned_to_me=True)
        if self.value() == "decision":
            return queryset.filter(state=S.IN_REVIEW, n_reviews__gt=0, n_reviews_done=F("n_reviews"))
        return queryset


def _text_button(name: str, label: Any, service: Any, kwarg: str, done: Any, *, required: bool,
                 text: Any, danger: bool = False, confirm: Any = "") -> Button:
    return Button(name, label, transition=name, text=text, text_required=required, danger=danger, done=done,
                  confirm=confirm,
                  run=lambda actor, app, value: service(actor=actor, application=app, **{kwarg: value}))


# The decisions: shown after the rule result on the application's page, and confirmed before they run.
DECISIONS = ("endorse", "reject")


def _with_previous(matrix: dict[str, Any], previous: dict[str, list[dict[str, str]]]) -> bool:
    """Put the judgements behind the endorsement being replaced beside each criterion's row (by
    code: the replaced application may have pinned an earlier table). True if there are any."""
    for row in matrix["rows"]:
        row["previous"] = previous.get(row["criterion"].code, [])
    return bool(previous)


def _depth_settable(user: Any, app: Application, depth: str) -> bool:
    return (is_manager(user) and bool(app.revises_id) and app.review_depth != depth
            and app.state in {ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW})


@admin.register(Application)
class ApplicationAdmin(ButtonsAdminMixin, BodyAdmin):
    list_display = ("id", "programme_name", "organisation", "kind", "state", "submitted_at", "reviews_progress",
                    "my_review")
    list_display_links = ("id", "programme_name")
    list_filter = (QueueFilter, "state", ("organisation", admin.RelatedOnlyFieldListFilter))
    search_fields = ("programme__name_en", "programme__name_ja", "pathway__name_en", "pathway__name_ja",
                     "organisation__name", "organisation__name_ja")
    fields = ("programme", "pathway", "organisation", "state", "revision", "criteria_table", "submitted_at",
              "decided_at", "changes_message", "decision_comment", "renews", "revises", "review_depth", "created_by",
              "created_at", "snapshot_sha256")
    readonly_fields = fields
    change_form_template = "admin/endorsement/application/change_form.html"
    buttons = (
        Button("start_review", _("Start the review"), transition="start_review", done=_("The review has started."),
               run=lambda actor, app, text: services.application_start_review(actor=actor, application=app)),
        _text_button("request_changes", _("Request changes"), services.application_request_changes, "message",
                     _("Changes requested; the organisation is told."), required=True,
                     text=_("What should change (the organisation sees this)")),
        _text_button("endorse", _("Endorse"), services.application_endorse, "comment", _("Endorsed."),
                     required=False, text=_("Decision comment (optional)"),
                     confirm=_("The body's EndorsementCredential is signed for this programme, and the organisation "
                               "is told. An endorsement can later be suspended or revoked, but not undone.")),
        _text_button("reject", _("Reject"), services.application_reject, "comment", _("Rejected."),
                     required=True, text=_("Reason (the organisation sees this)"), danger=True,
                     confirm=_("The application is closed as rejected and the organisation is told, with your "
                               "reason. It cannot be reopened: the organisation would have to apply again.")),
        Button("publish", _("Publish on the registry"), transition="publish", done=_("Published on the registry."),
               run=lambda actor, app, text: services.application_publish(actor=actor, application=app)),
        Button("review_minor", _("Review as a minor change (one reviewer decides)"),
               shown=lambda user, app: _depth_settable(user, app, ReviewDepth.MINOR), text=_("Reason"),
               text_required=True, done=_("The change is reviewed as minor: one reviewer decides."),
               run=lambda actor, app, text: renewals.application_set_review_depth(
                   actor=actor, application=app, depth=ReviewDepth.MINOR, comment=text)),
        Button("review_full", _("Review in full"), shown=lambda user, app: _depth_settable(user, app, ReviewDepth.FULL),
               text=_("Reason (optional)"), done=_("The change is reviewed in full."),
               run=lambda actor, app, text: renewals.application_set_review_depth(
                   actor=actor, application=app, depth=ReviewDepth.FULL, comment=text)),
    )

    def get_queryset(self, request: HttpRequest):
        current = Q(reviews__completed_at__isnull=False, reviews__completed_revision=F("revision"))
        mine = Review.objects.filter(application=OuterRef("pk"), reviewer_id=request.user.pk)
        # Not super(): the ordering (get_ordering) refers to the annotations, so it comes after them.
        queryset = (
            self.model._default_manager.get_queryset()
            .exclude(submitted_at__isnull=True)
            .select_related("programme", "pathway", "organisation")
            .annotate(
                n_reviews=Count("reviews", distinct=True),
                n_reviews_done=Count("reviews", filter=current, distinct=True),
                assigned_to_me=Exists(mine),
                my_review_open=Exists(mine.filter(completed_at__isnull=True)),
            )
        )
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request: HttpRequest) -> list[str]:
        if request.GET.get(QueueFilter.parameter_name) == "mine":
            return ["-my_review_open", "submitted_at"]
        return ["-submitted_at"]

    @admin.display(description=_("programme or pathway"), ordering="programme__name_en")
    def programme_name(self, app: Application) -> str:
        return with_break_opportunities(str(app.subject))

    @admin.display(description=_("kind"))
    def kind(self, app: Application) -> str:
        """New application, renewal or change (minor changes say so)."""
        label = str(ApplicationKind(app.kind).label)
        return f"{label} ({ReviewDepth(app.review_depth).label})" if app.review_depth == ReviewDepth.MINOR else label

    @admin.display(description=_("reviews done / assigned"))
    def reviews_progress(self, app: Application) -> str:
        return f"{app.n_reviews_done} / {app.n_reviews}"

    @admin.display(description=_("my review"))
    def my_review(self, app: Application) -> str:
        if not app.assigned_to_me:
            return "—"
        return str(_("to do")) if app.my_review_open else str(_("done"))

    # --- The page -------------------------------------------------------------------------------
    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/assign-reviewer/", wrap(self.assign_view), name="endorsement_application_assign"),
            path("<path:object_id>/my-review/", wrap(self.review_save_view), name="endorsement_application_review"),
            path("<path:object_id>/my-review/complete/", wrap(self.review_complete_view),
                 name="endorsement_application_review_complete"),
            *super().get_urls(),
        ]

    def _url(self, name: str, app: Application) -> str:
        return reverse(f"admin:endorsement_application_{name}", args=[app.pk], current_app=self.admin_site.name)

    def page_context(self, request: HttpRequest, app: Application) -> dict[str, Any]:
        matrix = judgement_matrix(app)
        own = next((r for r in matrix["reviews"] if r.reviewer_id == request.user.pk), None)
        assign = None
        if is_manager(request.user) and app.state in ASSIGNABLE_STATES:
            assign = {"url": self._url("assign", app), "candidates": assignable_reviewers(app)}
        return {
            "snapshot": snapshot_view(app.snapshot),
            "component_map": component_map(app.snapshot),
            "snapshot_json": json.dumps(app.snapshot, indent=2, ensure_ascii=False) if app.snapshot else "",
            "matrix": matrix,
            "changes": renewals.application_changes(app),
            "replaces": app.replaces,
            "previous_judgements": _with_previous(matrix, renewals.previous_judgements(app)),
            "rule": endorsement_allowed(app) if app.criteria_table_id else None,
            "trail": application_trail(app),
            "assign": assign,
            "my_review": my_review(app, own, matrix["criteria"]) if own else None,
            "my_review_url": self._url("review", app),
            "my_review_complete_url": self._url("review_complete", app),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The decision buttons are taken out of the actions at the top: the page shows them after the
        rule result (the template puts them there)."""
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        buttons = response.context_data.get("object_buttons", [])
        response.context_data["decision_buttons"] = [b for b in buttons if b["name"] in DECISIONS]
        response.context_data["top_buttons"] = [b for b in buttons if b["name"] not in DECISIONS]
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        app = self.get_object(request, unquote(object_id))
        if app is not None and self.has_view_permission(request, app):
            extra_context = {**(extra_context or {}), **self.page_context(request, app)}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Posts ----------------------------------------------------------------------------------
    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        app = self.visible_object(request, object_id)
        raw = request.POST.get("reviewer", "")
        reviewer = get_user_model().objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if reviewer is None:
            messages.error(request, _("Choose a reviewer from the list."))
        else:
            perform(
                request,
                lambda: services.application_assign_reviewer(actor=request.user, application=app, reviewer=reviewer),
                str(_("%(user)s is assigned as a reviewer.") % {"user": reviewer}),
            )
        return HttpResponseRedirect(self.change_url(app))

    def _own_review(self, request: HttpRequest, app: Application) -> Review | None:
        review = Review.objects.filter(application=app, reviewer_id=request.user.pk).first()
        if review is None:
            messages.error(request, _("You are not assigned to review this application; nothing was recorded."))
        return review

    def review_save_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Record the reviewer's verdicts and comments for every criterion in one go (all or nothing).
        A criterion left without a verdict is skipped, unless it carries a comment, which is refused
        rather than silently dropped."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        app = self.visible_object(request, object_id)
        review = self._own_review(request, app)
        if review is None:
            return HttpResponseRedirect(self.change_url(app))
        judgements, comment_only = [], []
        for criterion in Criterion.objects.filter(table_id=app.criteria_table_id):
            verdict = request.POST.get(f"verdict_{criterion.pk}", "").strip()
            comment = request.POST.get(f"comment_{criterion.pk}", "").strip()
            if verdict:
                judgements.append({"criterion": criterion.code, "verdict": verdict, "comment": comment})
            elif comment:
                comment_only.append(criterion.code)
        if comment_only:
            messages.error(request, _("Choose a verdict for %(codes)s (a comment needs a verdict); nothing was "
                                      "recorded.") % {"codes": ", ".join(comment_only)})
        elif not judgements:
            messages.error(request, _("Choose a verdict for at least one criterion; nothing was recorded."))
        else:
            perform(request,
                    lambda: services.review_record_judgements(actor=request.user, review=review, judgements=judgements),
                    str(_("Your judgements are recorded.")))
        return HttpResponseRedirect(self.change_url(app) + "#my-review")

    def review_complete_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        app = self.visible_object(request, object_id)
        review = self._own_review(request, app)
        if review is not None:
            perform(request,
                    lambda: services.review_complete(actor=request.user, review=review,
                                                     summary=request.POST.get("summary", "")),
                    str(_("Your review is complete.")))
        return HttpResponseRedirect(self.change_url(app) + "#my-review")
