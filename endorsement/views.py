"""Pages of the endorsement workflow: the portal's application pages. (The public registry's pages
are in endorsement.registry_views.)"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_fsm import can_proceed

from badges.views import programme_details, programme_for
from config.errors import DomainError, NotPermitted, WrongState
from config.fsm import allowed_transitions, check_transition
from endorsement import renewals, services
from endorsement.audit import AuditAction, audit_for
from endorsement.audit_labels import action_label
from endorsement.forms import TransitionForm
from endorsement.models import Application, ApplicationKind, ApplicationState, Endorsement, Verdict
from endorsement.transparency import changes_feedback
from institutions.models import StaffMember
from institutions.permissions import can_edit_for
from institutions.views import portal_staff

# The transitions organisation staff take from the portal, and the service behind each.
TRANSITIONS = {
    "submit": services.application_submit,
    "resubmit": services.application_resubmit,
    "withdraw": services.application_withdraw,
}
# How the history of an application names each event (other events keep their own label).
EVENT_LABELS = {
    AuditAction.APPLICATION_CREATED: gettext_lazy("Application opened"),
    AuditAction.APPLICATION_SUBMITTED: gettext_lazy("Submitted"),
    AuditAction.APPLICATION_RESUBMITTED: gettext_lazy("Resubmitted"),
    AuditAction.APPLICATION_REVIEWER_ASSIGNED: gettext_lazy("Reviewer assigned"),
    AuditAction.APPLICATION_REVIEW_STARTED: gettext_lazy("Review started"),
    AuditAction.REVIEW_COMPLETED: gettext_lazy("A review was completed"),
    AuditAction.APPLICATION_CHANGES_REQUESTED: gettext_lazy("Changes requested"),
    AuditAction.APPLICATION_ENDORSED: gettext_lazy("Endorsed"),
    AuditAction.APPLICATION_PUBLISHED: gettext_lazy("Published in the registry"),
    AuditAction.APPLICATION_REJECTED: gettext_lazy("Rejected"),
    AuditAction.APPLICATION_WITHDRAWN: gettext_lazy("Withdrawn"),
}
DONE = {
    "submit": gettext_lazy("The application was submitted. The body will assign reviewers."),
    "resubmit": gettext_lazy("The application was resubmitted. The reviewers will look at it again."),
    "withdraw": gettext_lazy("The application was withdrawn."),
}


# --- Portal: applications -------------------------------------------------------------------------
def application_for(request: HttpRequest, pk: int) -> Application:
    """The user's organisation's application, or 404 (another organisation's included)."""
    staff = portal_staff(request)
    return get_object_or_404(
        Application.objects.select_related("programme", "pathway", "organisation", "criteria_table"),
        pk=pk, organisation=staff.organisation,
    )


def _label(choices: Any, value: str) -> str:
    return choices(value).label if value in choices.values else value


def _in_language(item: Any, field: str) -> str:
    """`field_ja` for a Japanese visitor when filled, else `field_en` (or the reverse)."""
    first, second = ("ja", "en") if (get_language() or "").startswith("ja") else ("en", "ja")
    get = item.get if isinstance(item, dict) else lambda name, default="": getattr(item, name, default)
    return get(f"{field}_{first}", "") or get(f"{field}_{second}", "") or ""


def _blocked(application: Application, user: Any, allowed: list[str]) -> list[str]:
    """Why submit or resubmit, possible from this state for this user, is not offered now."""
    reasons = []
    for name in ("submit", "resubmit"):
        if name in allowed or not can_proceed(getattr(application, name), check_conditions=False):
            continue
        if not can_edit_for(user, application.organisation):
            continue
        try:
            check_transition(application, name, user)
        except WrongState as error:
            reasons.append(error.message)
    return reasons


def _audit_rows(application: Application) -> list[dict[str, Any]]:
    # The organisation sees its own people by name, and the body's reviewers and managers as "the
    # certification body": who reviewed is the body's business, what was decided is not hidden.
    own_staff = set(
        StaffMember.objects.filter(organisation_id=application.organisation_id).values_list("user_id", flat=True)
    )
    rows = []
    for event in audit_for(application).order_by("seq"):
        if event.actor_id is None and event.actor_repr == "system":
            who = _("system")
        elif event.actor_id in own_staff:
            who = event.actor_repr
        else:
            who = _("the certification body")
        label = EVENT_LABELS.get(event.action) or action_label(event.action)
        rows.append({
            "event": event, "who": who, "label": label,
            "from": _label(ApplicationState, event.from_state) if event.from_state != event.to_state else "",
            "to": _label(ApplicationState, event.to_state),
        })
    return rows


def _feedback(application: Application) -> dict[str, Any] | None:
    """The reviewers' feedback while changes are requested, with the criterion titles and verdicts
    in the visitor's language."""
    feedback = changes_feedback(application)
    if feedback is None:
        return None
    for item in feedback["unmet_criteria"]:
        item["title"] = _in_language(item, "title")
        item["verdict_label"] = _label(Verdict, item["verdict"])
    return feedback


def _application_page(request: HttpRequest, application: Application, *, error: str = "",
                      status: int = 200) -> HttpResponse:
    if application.pathway_id:  # a pathway's application is shown on the pathway's own page
        return redirect("portal:pathway", application.pathway.public_id)
    allowed = allowed_transitions(application, request.user, list(TRANSITIONS))
    criteria = []
    if application.criteria_table_id:
        criteria = [
            {"criterion": c, "title": _in_language(c, "title"), "guidance": _in_language(c, "guidance")}
            for c in application.criteria_table.criteria.all()
        ]
    context = {
        "application": application,
        "programme": application.programme,
        "allowed": allowed,
        "blocked": _blocked(application, request.user, allowed),
        "can_edit": can_edit_for(request.user, application.organisation),
        "snapshot_rows": programme_details(application.snapshot) if application.snapshot else None,
        "criteria": criteria,
        "audit": _audit_rows(application),
        "resubmit_form": TransitionForm(action="resubmit", auto_id="resubmit_%s"),
        "kind_label": ApplicationKind(application.kind).label,
        "new_endorsement": Endorsement.objects.filter(application=application).first(),
        "changes": renewals.application_changes(application),
        "feedback": _feedback(application),
        "error": error,
    }
    return render(request, "portal/application_detail.html", context, status=status)


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _application_page(request, application_for(request, pk))


@login_required
@require_POST
def application_new(request: HttpRequest, public_id: Any) -> HttpResponse:
    """"Apply for certification": open a draft application for the programme, then show it."""
    programme = programme_for(request, public_id)
    try:
        application = services.application_create(actor=request.user, programme=programme)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:programme", programme.public_id)
    messages.success(request, _("A draft application was opened. Check the programme, then submit it."))
    return redirect("portal:application", application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def application_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST: take the transition through its service; on refusal nothing changes and the page says
    why. GET shows the withdrawal's confirmation page (the other transitions need none)."""
    if action not in TRANSITIONS:
        raise Http404
    application = application_for(request, pk)
    if not can_edit_for(request.user, application.organisation):
        raise PermissionDenied(_("Only owners and editors of the organisation may do this."))
    form = TransitionForm(request.POST if request.method == "POST" else None, action=action)
    if request.method == "GET":
        if action == "withdraw" and allowed_transitions(application, request.user, [action]):
            return render(request, "portal/application_withdraw.html", {"application": application, "form": form})
        return redirect("portal:application", application.pk)
    if not form.is_valid():
        if action == "withdraw":
            return render(request, "portal/application_withdraw.html",
                          {"application": application, "form": form}, status=400)
        problems = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
        return _application_page(request, application, error=problems, status=400)
    try:
        TRANSITIONS[action](actor=request.user, application=application, **form.service_kwargs())
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        application.refresh_from_db()
        return _application_page(request, application, error=error.message, status=error.status_code)
    messages.success(request, DONE[action])
    return redirect("portal:application", application.pk)


# --- Portal: endorsements -------------------------------------------------------------------------
def endorsement_for(request: HttpRequest, public_id: Any) -> Endorsement:
    """The user's organisation's endorsement, or 404 (another organisation's included)."""
    staff = portal_staff(request)
    return get_object_or_404(
        Endorsement.objects.select_related("programme", "pathway", "organisation", "application", "predecessor"),
        public_id=public_id, organisation=staff.organisation,
    )


@login_required
def endorsement_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """An endorsement of one of the organisation's programmes or pathways: its period and standing,
    the history of the subject's endorsements, and the renewal (open it, or follow it)."""
    endorsement = endorsement_for(request, public_id)
    subject = endorsement.subject
    context = {
        **renewals.renewal_standing(endorsement, request.user),
        "subject": subject,
        "subject_url": (reverse("portal:pathway", args=[subject.public_id]) if endorsement.pathway_id
                        else reverse("portal:programme", args=[subject.public_id])),
        "history": renewals.endorsement_lineage(endorsement),
        "successor": endorsement.successor,
    }
    return render(request, "portal/endorsement_detail.html", context)


@login_required
@require_POST
def endorsement_renew(request: HttpRequest, public_id: Any) -> HttpResponse:
    """"Renew": open the renewal application (a draft for the programme as it is now), then show it."""
    endorsement = endorsement_for(request, public_id)
    try:
        application = renewals.endorsement_renew(actor=request.user, endorsement=endorsement)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:endorsement", endorsement.public_id)
    messages.success(request, _("The renewal application was opened. Check the pathway, then submit it.")
                     if endorsement.pathway_id else
                     _("The renewal application was opened. Check the programme, then submit it."))
    return redirect("portal:application", application.pk)
