"""The portal's organisation page: what the registry shows of the organisation, and its logo, which
its owners upload, replace and remove here (institutions.services.organisation_set_logo: checked,
audited, the registry refreshed). Everyone on the staff sees the page; a refusal shows why on the
field and changes nothing.

The portal's account page: anyone on a staff (a member organisation's or the body's) chooses the
language of the mails they get (institutions.staff.staff_language_set)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from config.errors import DomainError
from endorsement.registry_images import logo_response
from institutions import services
from institutions import staff as staff_services
from institutions.forms import LogoForm, add_service_errors
from institutions.permissions import may_manage_staff, staff_of
from institutions.views import portal_staff


def _page(request: HttpRequest, form: LogoForm | None = None, status: int = 200) -> HttpResponse:
    staff = portal_staff(request)
    organisation = staff.organisation
    context = {
        "staff": staff, "organisation": organisation,
        "can_manage": may_manage_staff(request.user, organisation),
        "form": form or LogoForm(),
        "logo_version": organisation.logo.name.rpartition("/")[2] if organisation.logo else "",
    }
    return render(request, "portal/organisation.html", context, status=status)


@login_required
def organisation_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_safe
def organisation_logo_preview(request: HttpRequest) -> HttpResponse:
    """The stored logo for the organisation's own staff, before the registry shows it."""
    return logo_response(request, portal_staff(request).organisation, cache_control="private, no-cache")


@login_required
@require_POST
def organisation_logo_upload(request: HttpRequest) -> HttpResponse:
    organisation = portal_staff(request).organisation
    form = LogoForm(request.POST, request.FILES)
    status = _submitted(request, form, lambda data: services.organisation_set_logo(
        actor=request.user, organisation=organisation, data=data["logo"].read()),
        _("Logo saved. The registry shows it within a minute."))
    return redirect("portal:organisation") if status is None else _page(request, form=form, status=status)


def _submitted(request: HttpRequest, form: forms.Form, call, success: str) -> int | None:
    """Call the service with a valid form's data: None when it is done (its message noted), else the
    status of the page that shows the form again with the errors (400, or the service's refusal)."""
    if not form.is_valid():
        return 400
    try:
        call(form.cleaned_data)
    except DomainError as error:
        add_service_errors(form, error)
        return error.status_code
    messages.success(request, success)
    return None


@login_required
@require_POST
def organisation_logo_remove(request: HttpRequest) -> HttpResponse:
    organisation = portal_staff(request).organisation
    try:
        services.organisation_set_logo(actor=request.user, organisation=organisation, data=None)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Logo removed."))
    return redirect("portal:organisation")


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the mails you get"), required=False,
        choices=[("", gettext_lazy("The language I last signed in with")), *settings.LANGUAGES],
        help_text=gettext_lazy("Mails about applications, reviews, endorsements and your organisation's "
                               "membership are written in it."),
    )


def _account(request: HttpRequest, form: LanguageForm | None = None, status: int = 200) -> HttpResponse:
    staff = staff_of(request.user)
    if staff is None:
        raise Http404
    context = {"staff": staff, "form": form or LanguageForm(initial={"language": staff.language}),
               "sign_in_language": dict(settings.LANGUAGES).get(staff.sign_in_language, "")}
    return render(request, "portal/account.html", context, status=status)


@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _account(request)
    form = LanguageForm(request.POST)
    status = _submitted(request, form, lambda data: staff_services.staff_language_set(
        actor=request.user, language=data["language"]),
        _("Saved: your mails are written in the language you chose."))
    return redirect("portal:account") if status is None else _account(request, form=form, status=status)
