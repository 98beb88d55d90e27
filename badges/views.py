"""Portal pages for programmes: create, edit (read-only while locked) and view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from badges.codes import country_name, language_name
from badges.forms import ProgrammeForm, programme_initial
from badges.models import AchievementType, CredentialPattern, ParticipationForm, Programme
from badges.services import (
    EDITABLE_FIELDS,
    REQUIRED_FOR_SUBMISSION,
    programme_create,
    programme_is_locked,
    programme_lock_reason,
    programme_missing_fields,
    programme_update,
)
from config.errors import DomainError
from config.i18n import WRITTEN_FIELDS, text_language, visitor_language
from endorsement.figures import figures_context, figures_csv_response
from endorsement.models import OPEN_STATES
from institutions.permissions import can_edit_for
from institutions.views import portal_staff

_CHOICES = {"credential_pattern": CredentialPattern, "participation_form": ParticipationForm,
            "achievement_type": AchievementType}
_CODES = {"language": language_name, "country": country_name}
_LISTS = {"learning_outcomes", "tags"}


def programme_details(source: Model | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Label, value and kind of each programme field, from a Programme or a frozen snapshot, for
    templates/includes/programme_details.html. Codes are given as words (badges.codes); `lang` is
    the language of a text in the language other than the visitor's, for its `lang` attribute."""
    visitor = visitor_language()
    declared = (source.get("language") if isinstance(source, Mapping) else source.language) or ""
    rows = []
    for name in EDITABLE_FIELDS:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name)
        if name in _CHOICES and value:
            value = _CHOICES[name](value).label if value in _CHOICES[name].values else value
        elif name in _CODES and value:
            value = _CODES[name](value)
        kind = "alignments" if name == "alignments" else "list" if name in _LISTS else (
            "bool" if isinstance(value, bool) else "text"
        )
        lang = ""
        if name in WRITTEN_FIELDS:
            lang = text_language(value, declared)
        elif name.endswith(("_en", "_ja")):
            lang = name[-2:]
        if lang.split("-")[0] == visitor:
            lang = ""
        label = Programme._meta.get_field(name).verbose_name
        rows.append({"name": name, "label": label[:1].upper() + label[1:], "value": value, "kind": kind,
                     "lang": lang if value not in (None, "", []) else ""})
    return rows


def missing_labels(programme: Programme) -> list[str]:
    """The required fields still empty, named as the form names them (a language pair by its first)."""
    labels = []
    for key in programme_missing_fields(programme):
        label = str(Programme._meta.get_field(REQUIRED_FOR_SUBMISSION[key][0]).verbose_name)
        labels.append(label.split(" (")[0].capitalize() if len(REQUIRED_FOR_SUBMISSION[key]) > 1 else label)
    return labels


def programme_for(request: HttpRequest, public_id: Any) -> Programme:
    """The user's organisation's programme, or 404 (another organisation's included)."""
    staff = portal_staff(request)
    return get_object_or_404(
        Programme.objects.select_related("organisation"), public_id=public_id, organisation=staff.organisation
    )


def _require_editor(request: HttpRequest, programme_or_organisation: Any) -> None:
    organisation = getattr(programme_or_organisation, "organisation", programme_or_organisation)
    if not can_edit_for(request.user, organisation):
        raise PermissionDenied(_("Only owners and editors of the organisation may change programmes."))


def _saved_redirect(request: HttpRequest, programme: Programme) -> HttpResponse:
    """After a save: back to the section whose button was pressed (the form is saved in sections),
    or, without one, to the programme's page."""
    section = request.POST.get("section", "")
    if section.startswith("section-") and section[len("section-"):].isdigit():
        return redirect(reverse("portal:programme_edit", args=[programme.public_id]) + f"#{section}")
    return redirect("portal:programme", programme.public_id)


def _programme_form(request: HttpRequest, **kwargs: Any) -> ProgrammeForm:
    if request.method == "POST":
        return ProgrammeForm(request.POST, request.FILES, **kwargs)
    return ProgrammeForm(**kwargs)


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    organisation = portal_staff(request).organisation
    _require_editor(request, organisation)
    form = _programme_form(request)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                programme = programme_create(actor=request.user, organisation=organisation,
                                             data=form.programme_data(), image=form.image_bytes())
            except DomainError as error:
                form.add_service_errors(error)
                status = error.status_code
            else:
                messages.success(request, _("The programme was saved as a draft."))
                return _saved_redirect(request, programme)
    return render(request, "portal/programme_form.html", {"form": form, "programme": None}, status=status)


@login_required
def programme_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Edit a programme; one under review or endorsed is shown read-only and a POST is refused."""
    programme = programme_for(request, public_id)
    _require_editor(request, programme)
    locked = programme_is_locked(programme)
    if locked:
        form = ProgrammeForm(initial=programme_initial(programme))
        form.disable()
        status = 409 if request.method == "POST" else 200
        return render(request, "portal/programme_form.html",
                      {"form": form, "programme": programme, "locked": True,
                       "lock_reason": programme_lock_reason(programme)}, status=status)
    form = _programme_form(request, initial=programme_initial(programme))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                programme_update(actor=request.user, programme=programme, data=form.programme_data(),
                                 image=form.image_bytes())
            except DomainError as error:
                form.add_service_errors(error)
                status = error.status_code
            else:
                messages.success(request, _("The programme was saved."))
                return _saved_redirect(request, programme)
    return render(request, "portal/programme_form.html", {"form": form, "programme": programme}, status=status)


@login_required
def programme_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    programme = programme_for(request, public_id)
    applications = list(programme.applications.order_by("-created_at", "-pk"))
    can_edit = can_edit_for(request.user, programme.organisation)
    context = {
        "programme": programme,
        "details": programme_details(programme),
        "applications": applications,
        "can_edit": can_edit,
        "locked": programme_lock_reason(programme),
        "can_apply": can_edit and not any(a.state in OPEN_STATES for a in applications),
        "endorsed": any(a.state == "published" for a in applications),
        "endorsements": list(programme.endorsements.order_by("-valid_from", "-pk")),
        "missing": missing_labels(programme),
        **figures_context(programme, reverse("portal:programme_figures_csv", args=[programme.public_id])),
    }
    return render(request, "portal/programme_detail.html", context)


@login_required
def programme_figures_csv(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The programme's issuance figures per month as CSV, for its organisation's staff."""
    programme = programme_for(request, public_id)
    return figures_csv_response(programme, programme.public_id)
