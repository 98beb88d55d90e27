"""Pages of the endorsement workflow: the portal's application pages, and the public registry.

The registry pages read one row, the newest RegistrySnapshot, and search and filter its entries in
Python: browsing costs no query beyond that read, whatever the visitor asks for.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_fsm import can_proceed

from badges.models import CredentialPattern, ParticipationForm
from badges.views import programme_details, programme_for
from config.errors import DomainError, NotPermitted, WrongState
from config.fsm import allowed_transitions, check_transition
from endorsement import services
from endorsement.audit import AuditAction, audit_for
from endorsement.forms import RegistryFilterForm, TransitionForm
from endorsement.models import Application, ApplicationState, EndorsementState
from endorsement.registry import registry_latest
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
        Application.objects.select_related("programme", "organisation", "criteria_table"),
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
        label = EVENT_LABELS.get(event.action) or _label(AuditAction, event.action)
        rows.append({
            "event": event, "who": who, "label": label,
            "from": _label(ApplicationState, event.from_state) if event.from_state != event.to_state else "",
            "to": _label(ApplicationState, event.to_state),
        })
    return rows


def _application_page(request: HttpRequest, application: Application, *, error: str = "",
                      status: int = 200) -> HttpResponse:
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


# --- Public registry ------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """Comparable text: NFKC (full-width to half-width, for Japanese input) and case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _haystack(entry: dict[str, Any]) -> str:
    programme, organisation = entry.get("programme", {}), entry.get("organisation", {})
    parts = [
        programme.get("name_en", ""), programme.get("name_ja", ""),
        programme.get("description_en", ""), programme.get("description_ja", ""),
        *programme.get("learning_outcomes", []), *programme.get("tags", []),
        organisation.get("name", ""), organisation.get("name_ja", ""),
    ]
    return _fold("\n".join(str(p) for p in parts))


def registry_search(entries: list[dict[str, Any]], criteria: dict[str, str]) -> list[dict[str, Any]]:
    """Entries matching every word of `q` (in either language) and every filter given."""
    words = _fold(criteria.get("q", "")).split()
    result = []
    for entry in entries:
        programme, endorsement = entry.get("programme", {}), entry.get("endorsement", {})
        if "organisation" in criteria and entry.get("organisation", {}).get("slug") != criteria["organisation"]:
            continue
        if "level" in criteria and programme.get("level") != criteria["level"]:
            continue
        if "pattern" in criteria and programme.get("credential_pattern") != criteria["pattern"]:
            continue
        if "standing" in criteria and endorsement.get("state") != criteria["standing"]:
            continue
        if words:
            haystack = _haystack(entry)
            if not all(word in haystack for word in words):
                continue
        result.append(entry)
    return result


def _display(entry: dict[str, Any]) -> dict[str, Any]:
    """What the templates show of an entry, in the visitor's language with a fallback."""
    programme, organisation, endorsement = entry["programme"], entry["organisation"], entry["endorsement"]
    organisation_name = (
        (organisation.get("name_ja") if (get_language() or "").startswith("ja") else "") or organisation["name"]
    )
    return {
        "entry": entry,
        "id": entry["id"],
        "name": _in_language(programme, "name"),
        "description": _in_language(programme, "description"),
        "organisation_name": organisation_name,
        "pattern": _label(CredentialPattern, programme.get("credential_pattern", "")),
        "participation": _label(ParticipationForm, programme.get("participation_form", "")),
        "standing": _label(EndorsementState, endorsement.get("state", "")),
        "endorsed_on": parse_datetime(endorsement["valid_from"]),
        "valid_until": parse_datetime(endorsement["valid_until"]),
    }


def _entries() -> tuple[Any, list[dict[str, Any]]]:
    snapshot = registry_latest()
    return snapshot, (snapshot.entries if snapshot is not None else [])


@require_safe
def registry_index(request: HttpRequest) -> HttpResponse:
    snapshot, entries = _entries()
    organisations = sorted({(e["organisation"]["slug"], e["organisation"]["name"]) for e in entries},
                           key=lambda pair: pair[1].casefold())
    levels = sorted({e["programme"]["level"] for e in entries if e["programme"].get("level")})
    form = RegistryFilterForm(request.GET or None, organisations=organisations, levels=levels)
    criteria = form.criteria() if form.is_bound else {}
    found = registry_search(entries, criteria)
    context = {
        "snapshot": snapshot, "form": form, "searched": bool(criteria), "total": len(entries),
        "results": [_display(entry) for entry in found],
    }
    return render(request, "registry/index.html", context)


@require_safe
def registry_programme(request: HttpRequest, public_id: Any) -> HttpResponse:
    snapshot, entries = _entries()
    entry = next((e for e in entries if e["id"] == str(public_id)), None)
    if entry is None:
        raise Http404
    return render(request, "registry/programme.html", {"snapshot": snapshot, "item": _display(entry)})


@require_safe
def registry_json(request: HttpRequest) -> HttpResponse:
    """The registry's entries as JSON, with the snapshot digest as ETag (304 when unchanged)."""
    snapshot = registry_latest()
    if snapshot is None:
        return JsonResponse({"generated_at": None, "count": 0, "entries": []},
                            json_dumps_params={"ensure_ascii": False})
    etag = f'"{snapshot.digest}"'
    last_modified = int(snapshot.generated_at.timestamp())
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        not_modified["ETag"] = etag
        return not_modified
    response = JsonResponse(
        {"generated_at": snapshot.generated_at.isoformat(), "count": len(snapshot.entries),
         "entries": snapshot.entries},
        json_dumps_params={"ensure_ascii": False},
    )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response
