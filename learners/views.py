"""The learner's pages (docs/learners.md): claim a badge from its mail, sign in with a mailed link,
the account with every badge, hide or show one, add an address, download all, delete the account.

Thin: each view reads the form, calls learners.services, renders. Links from mails open a page with
a button (POST): a mail scanner fetching the link uses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badges.awards import award_standing, award_url
from badges.claims import award_for_claim
from config.auth_views import client_address
from config.errors import DomainError, NotFound
from config.i18n import in_language
from learners import services, wallets
from learners.models import LinkPurpose
from learners.session import current_learner, learner_sign_in, learner_sign_out
from learners.wallet_scopes import scope_descriptions


class EmailForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("E-mail address"), max_length=services.MAX_EMAIL,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the mails sent to me"), required=False,
        choices=lambda: [("", gettext_lazy("The issuer's choice, else the site's language")),
                         *settings.LANGUAGES],
        help_text=gettext_lazy("Badge notifications, claim links and sign-in links are written in it."))


def _language() -> str:
    return (get_language() or "en")[:2]


def learner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = current_learner(request)
        if account is None:
            return redirect("learners:sign_in")
        request.learner = account  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)
    return wrapped


def _form_error(form: forms.Form, error: DomainError) -> None:
    for field, field_messages in error.field_errors.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors:
        form.add_error(None, error.message)


def _badge_name(award: Any) -> str:
    return (in_language(award.endorsement.application.snapshot, "name").text
            or award.credential["credentialSubject"]["achievement"]["name"])


# --- claim --------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the badge and the offer of an account; POST: the claim (the link is then spent)."""
    try:
        award = award_for_claim(token)
    except DomainError as error:
        return render(request, "learners/link_problem.html", {"message": error.message}, status=error.status_code)
    if request.method == "POST":
        try:
            award, account = services.claim_with_link(token)
        except DomainError as error:
            return render(request, "learners/link_problem.html", {"message": error.message},
                          status=error.status_code)
        learner_sign_in(request, account)
        messages.success(request, _("The badge is claimed and kept in your learner account."))
        return redirect("learners:account")
    return render(request, "learners/claim.html", {"award": award, "name": _badge_name(award),
                                                   "url": award_url(award.public_id)})


# --- signing in ---------------------------------------------------------------------------------------
NEXT_KEY = "learner_next"


def _remember_next(request: HttpRequest) -> None:
    """Keep where to go once signed in (a wallet's authorization page), if it is a path of this site.
    It is kept in this browser's session: the mailed link opened here brings the learner back."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/"):
        request.session[NEXT_KEY] = target


def _after_sign_in(request: HttpRequest) -> HttpResponse:
    target = request.session.pop(NEXT_KEY, None)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/"):
        return redirect(target)
    return redirect("learners:account")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    _remember_next(request)
    form = EmailForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_in_link_request(email=form.cleaned_data["email"], address=client_address(request),
                                          language=_language())
        except DomainError as error:
            _form_error(form, error)
            status = error.status_code
        else:
            return render(request, "learners/sign_in_sent.html", {"email": form.cleaned_data["email"]})
    elif form.errors:
        status = 400
    return render(request, "learners/sign_in.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            account = services.sign_in_with_link(token)
        except DomainError as error:
            return render(request, "learners/link_problem.html", {"message": error.message},
                          status=error.status_code)
        learner_sign_in(request, account)
        return _after_sign_in(request)
    problem = services.link_problem(token, LinkPurpose.SIGN_IN)
    if problem:
        return render(request, "learners/link_problem.html", {"message": problem}, status=400)
    return render(request, "learners/link_confirm.html", {
        "title": _("Sign in to your learner account"), "button": _("Sign in")})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    learner_sign_out(request)
    messages.success(request, _("You are signed out of your learner account."))
    return redirect("learners:sign_in")


# --- the account --------------------------------------------------------------------------------------
def _account_page(request: HttpRequest, form: EmailForm, status: int = 200,
                  language_form: LanguageForm | None = None) -> HttpResponse:
    """The account: every badge of its addresses, the addresses and the form adding one."""
    learner = request.learner  # type: ignore[attr-defined]
    rows = [{"award": a, "name": _badge_name(a), "standing": award_standing(a)}
            for a in services.account_awards(learner)]
    described = scope_descriptions()
    access = [{"access": entry, "described": [described.get(s, s) for s in entry.scopes]}
              for entry in wallets.account_access(learner)]
    return render(request, "learners/account.html", {
        "learner": learner, "rows": rows, "emails": learner.emails.all(), "form": form,
        "max_addresses": services.MAX_ADDRESSES, "access": access,
        "language_form": language_form or LanguageForm(initial={"language": services.account_language(learner)})},
        status=status)


@learner_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request, EmailForm())


@learner_required
@require_POST
def visibility(request: HttpRequest, public_id: Any) -> HttpResponse:
    hidden = request.POST.get("hidden") == "yes"
    try:
        services.award_visibility_set(account=request.learner, public_id=public_id,  # type: ignore[attr-defined]
                                      hidden=hidden)
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, _("The badge's page is now private: it answers as if it did not exist. Its "
                                "credential still verifies.") if hidden else _("The badge's page is public again."))
    return redirect("learners:account")


@learner_required
@require_POST
def address_add(request: HttpRequest) -> HttpResponse:
    learner = request.learner  # type: ignore[attr-defined]
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            services.address_add_request(account=learner, email=form.cleaned_data["email"],
                                         address=client_address(request), language=_language())
        except DomainError as error:
            _form_error(form, error)
            status = error.status_code
        else:
            messages.success(request, _("A link was sent to %(email)s: open it to add the address.")
                             % {"email": form.cleaned_data["email"]})
            return redirect("learners:account")
    else:
        status = 400
    return _account_page(request, form, status)


@learner_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        try:
            services.account_language_set(request.learner, form.cleaned_data["language"])  # type: ignore[attr-defined]
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The language of your mails is saved."))
            return redirect("learners:account")
    return _account_page(request, EmailForm(), 400, language_form=form)


@require_http_methods(["GET", "POST"])
def address_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            email = services.address_confirm(token)
        except DomainError as error:
            return render(request, "learners/link_problem.html", {"message": error.message},
                          status=error.status_code)
        messages.success(request, _("%(email)s is now in your learner account.") % {"email": email.email})
        if current_learner(request) is not None:
            return redirect("learners:account")
        return redirect("learners:sign_in")
    problem = services.link_problem(token, LinkPurpose.ADD_ADDRESS)
    if problem:
        return render(request, "learners/link_problem.html", {"message": problem}, status=400)
    return render(request, "learners/link_confirm.html", {
        "title": _("Add this address to your learner account"), "button": _("Add the address")})


@learner_required
@require_GET
def download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.account_archive(request.learner),  # type: ignore[attr-defined]
                            content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="my-badges.zip"'
    response["Cache-Control"] = "no-store"
    return response


@learner_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    """GET: what deleting does, and the button; POST with confirm=yes: delete and sign out."""
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.account_delete(request.learner)  # type: ignore[attr-defined]
        learner_sign_out(request)
        messages.success(request, _("Your learner account is deleted. Your badges remain valid."))
        return redirect("learners:sign_in")
    return render(request, "learners/delete.html", {"learner": request.learner})  # type: ignore[attr-defined]
