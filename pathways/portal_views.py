"""Portal pages for members' pathways: list, create, edit (read-only while locked), view with its
diagram, the application's state and the buttons to apply, submit, resubmit or withdraw."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError, NotPermitted
from config.fsm import allowed_transitions
from config.i18n import visitor_language
from endorsement import renewals
from endorsement import services as endorsement_services
from institutions.permissions import can_issue_for
from institutions.views import portal_staff
from pathways.diagram import pathway_diagram
from pathways.forms import ComponentFormSet, PathwayForm, RuleFormSet, initial_of, service_data
from pathways.models import Pathway
from pathways.permissions import can_edit_pathway
from pathways.services import pathway_create, pathway_lock_reason, pathway_update
from pathways.snapshots import missing_labels, pathway_snapshot

TRANSITIONS = ("submit", "resubmit", "withdraw")


def pathway_for(request: HttpRequest, public_id: Any) -> Pathway:
    staff = portal_staff(request)
    return get_object_or_404(Pathway.objects.select_related("organisation"), public_id=public_id,
                             organisation=staff.organisation)


@login_required
def pathway_list(request: HttpRequest) -> HttpResponse:
    staff = portal_staff(request)
    pathways = Pathway.objects.filter(organisation=staff.organisation).order_by("name_en", "name_ja", "pk")
    return render(request, "portal/pathways.html", {
        "pathways": pathways, "can_edit": can_edit_pathway(request.user, staff.organisation)})


def _forms(request: HttpRequest, pathway: Pathway | None):
    if request.method == "POST":
        return (PathwayForm(request.POST), ComponentFormSet(request.POST, prefix="components"),
                RuleFormSet(request.POST, prefix="rules"))
    if pathway is None:
        return PathwayForm(), ComponentFormSet(prefix="components"), RuleFormSet(prefix="rules")
    fields, components, rules = initial_of(pathway)
    return (PathwayForm(initial=fields), ComponentFormSet(initial=components, prefix="components"),
            RuleFormSet(initial=rules, prefix="rules"))


def _edit(request: HttpRequest, pathway: Pathway | None) -> HttpResponse:
    organisation = portal_staff(request).organisation
    if not can_edit_pathway(request.user, organisation):
        raise PermissionDenied(_("Only owners and editors of the organisation may change pathways."))
    lock = pathway_lock_reason(pathway) if pathway is not None else None
    form, components, rules = _forms(request, pathway)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        status = 400
        if lock:
            status = 409
        elif form.is_valid() and components.is_valid() and rules.is_valid():
            data = service_data(form, components, rules)
            try:
                if pathway is None:
                    pathway = pathway_create(actor=request.user, organisation=organisation, data=data)
                else:
                    pathway = pathway_update(actor=request.user, pathway=pathway, data=data)
            except DomainError as error:
                errors = getattr(error, "field_errors", None) or {"": [error.message]}
                status = error.status_code
            else:
                messages.success(request, _("The pathway was saved."))
                return redirect("portal:pathway", pathway.public_id)
    return render(request, "portal/pathway_form.html", {
        "pathway": pathway, "form": form, "components": components, "rules": rules, "lock_reason": lock,
        "service_errors": [(field, message) for field, found in errors.items() for message in found],
    }, status=status)


@login_required
def pathway_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
def pathway_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _edit(request, pathway_for(request, public_id))


@login_required
def pathway_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    pathway = pathway_for(request, public_id)
    applications = list(pathway.applications.order_by("-created_at", "-pk"))
    current = applications[0] if applications else None
    allowed = allowed_transitions(current, request.user, list(TRANSITIONS)) if current else []
    endorsement = renewals.current_endorsement(pathway)  # renewed as a programme's is (endorsement.renewals)
    return render(request, "portal/pathway_detail.html", {
        **(renewals.renewal_standing(endorsement, request.user) if endorsement else {}),
        "endorsements": list(pathway.endorsements.order_by("-valid_from", "-pk")),
        "pathway": pathway, "application": current, "applications": applications, "allowed": allowed,
        "can_edit": can_edit_pathway(request.user, pathway.organisation),
        "can_issue": can_issue_for(request.user, pathway.organisation),  # completions (path2)
        "missing": missing_labels(pathway), "lock_reason": pathway_lock_reason(pathway),
        "diagram": pathway_diagram(pathway_snapshot(pathway), visitor_language()),
    })


@login_required
@require_POST
def pathway_apply(request: HttpRequest, public_id: Any) -> HttpResponse:
    pathway = pathway_for(request, public_id)
    try:
        endorsement_services.pathway_application_create(actor=request.user, pathway=pathway)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A draft application was opened. Check the pathway, then submit it."))
    return redirect("portal:pathway", pathway.public_id)


@login_required
@require_POST
def pathway_transition(request: HttpRequest, public_id: Any, action: str) -> HttpResponse:
    pathway = pathway_for(request, public_id)
    application = pathway.applications.order_by("-created_at", "-pk").first()
    if action not in TRANSITIONS or application is None:
        return redirect("portal:pathway", pathway.public_id)
    service = {"submit": endorsement_services.application_submit,
               "resubmit": endorsement_services.application_resubmit,
               "withdraw": endorsement_services.application_withdraw}[action]
    try:
        service(actor=request.user, application=application)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, {"submit": _("The application was submitted. The body will assign reviewers."),
                                   "resubmit": _("The application was resubmitted."),
                                   "withdraw": _("The application was withdrawn.")}[action])
    return redirect("portal:pathway", pathway.public_id)
