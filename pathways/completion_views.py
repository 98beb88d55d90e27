"""Pages of pathway completion (pathways.completion): the organisation opens a completion for a
learner (portal), follows it and presents credentials; the learner does the same through the
capability link; the pathway badge and the ClrCredential are served as JSON at their ids.

Thin: each view checks who is asking, calls a service, renders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from badges.verification import credential_verify
from badges.verify_views import plain_words
from config.errors import DomainError
from config.pages import raise_as_http
from institutions.forms import add_service_errors
from institutions.permissions import can_issue_for
from pathways.completion import (
    DECISIONS,
    awards_present,
    completion_decide,
    completion_for_token,
    completion_issue,
    completion_of_staff,
    completion_open,
    completion_progress,
    credential_present,
    presented_credential,
    progress_words,
)
from pathways.completion_models import Completion, CompletionState
from pathways.models import Pathway


class OpenForm(forms.Form):
    learner_email = forms.CharField(label=gettext_lazy("Learner's e-mail"), required=False)
    learner_name = forms.CharField(label=gettext_lazy("Learner's name"), required=False)
    learner_did = forms.CharField(label=gettext_lazy("Learner's DID"), required=False)


class PresentForm(forms.Form):
    component = forms.ChoiceField(label=gettext_lazy("Component"))
    credential = forms.CharField(label=gettext_lazy("The credential's JSON"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 6}))
    file = forms.FileField(label=gettext_lazy("…or a baked badge image (PNG or SVG)"), required=False)

    def __init__(self, *args: Any, pathway: Pathway, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["component"].choices = [(c.code, c.label) for c in pathway.components.select_related("programme")]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), widget=forms.RadioSelect, choices=[
        ("flag", gettext_lazy("Keep the pathway credential, flagged")),
        ("revoke", gettext_lazy("Revoke the pathway credential")),
    ])
    comment = forms.CharField(label=gettext_lazy("Comment (required to revoke)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


def _present(request: HttpRequest, completion: Completion, form: PresentForm) -> int:
    """Handle the present form or the "find my badges" button; returns the status to answer."""
    if "find_awards" in request.POST:
        try:
            outcomes = awards_present(completion=completion)
        except DomainError as error:
            raise_as_http(error)
            messages.error(request, error.message)
            return error.status_code
        if not outcomes:
            messages.info(request, _("No badge of this learner on this server is a component of the pathway."))
        for component, result in outcomes:
            (messages.success if result.accepted else messages.error)(
                request, f"{component.label}: {result.reason}")
        return 200
    if not form.is_valid():
        return 400
    try:
        upload = form.cleaned_data.get("file")
        credential = presented_credential(image=upload.read() if upload else None,
                                          credential=form.cleaned_data.get("credential"))
        result = credential_present(completion=completion, component_code=form.cleaned_data["component"],
                                    credential=credential)
    except DomainError as error:
        raise_as_http(error)
        add_service_errors(form, error)
        return error.status_code
    messages.success(request, result.reason)
    return 200


def _page(request: HttpRequest, completion: Completion, *, staff: bool, status: int = 200,
          form: PresentForm | None = None, decision: DecisionForm | None = None) -> HttpResponse:
    completion.refresh_from_db()
    evaluation = completion_progress(completion)
    components = {c.code: c for c in completion.pathway.components.select_related("programme")}
    presented = [{"number": n, "component": components.get(p["component"]), "source": p["source"],
                  "issued_on": p["issued_on"], "name": (p["credential"].get("name") or "")[:200]}
                 for n, p in enumerate(completion.presented, start=1)]
    return render(request, "pathways/completion.html", {
        "completion": completion, "pathway": completion.pathway, "staff": staff, "rows": progress_words(completion),
        "evaluation": evaluation, "presented": presented,
        "form": form or PresentForm(pathway=completion.pathway),
        "decision": decision or DecisionForm(), "is_open": completion.state == CompletionState.OPEN,
    }, status=status)


@login_required
def completion_new(request: HttpRequest, public_id: Any) -> HttpResponse:
    pathway = Pathway.objects.select_related("organisation").filter(public_id=public_id).first()
    if pathway is None or not can_issue_for(request.user, pathway.organisation):
        raise Http404(_("No such pathway."))
    form = OpenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            completion, link = completion_open(actor=request.user, pathway=pathway, **form.cleaned_data)
        except DomainError as error:
            raise_as_http(error)
            add_service_errors(form, error)
            status = error.status_code
        else:
            messages.success(request, _("Send the learner this link (it is shown only now): %(link)s")
                             % {"link": link})
            return redirect("pathway-completion-staff", completion.public_id)
    completions = Completion.objects.filter(pathway=pathway).order_by("-created_at", "-id")[:200]
    return render(request, "pathways/completion_new.html", {"pathway": pathway, "form": form,
                                                            "completions": completions}, status=status)


@login_required
def completion_staff(request: HttpRequest, public_id: Any) -> HttpResponse:
    try:
        completion = completion_of_staff(request.user, public_id)
    except DomainError as error:
        raise_as_http(error)
        raise
    form = PresentForm(request.POST or None, request.FILES or None, pathway=completion.pathway)
    decision = DecisionForm(request.POST) if request.POST.get("form") == "decision" else None
    status = 200
    if request.method == "POST" and decision is not None:
        if decision.is_valid():
            try:
                completion_decide(actor=request.user, completion=completion, **decision.cleaned_data)
            except DomainError as error:
                add_service_errors(decision, error)
                status = error.status_code
            else:
                messages.success(request, _("Your decision was recorded."))
                return redirect("pathway-completion-staff", completion.public_id)
        else:
            status = 400
        form = PresentForm(pathway=completion.pathway)
    elif request.method == "POST" and "issue" in request.POST:
        try:
            completion_issue(completion=completion)
        except DomainError as error:
            messages.error(request, error.message)
            status = error.status_code
        else:
            messages.success(request, _("The pathway credential and the learner record were issued."))
            return redirect("pathway-completion-staff", completion.public_id)
    elif request.method == "POST":
        status = _present(request, completion, form)
        if status == 200:
            return redirect("pathway-completion-staff", completion.public_id)
    return _page(request, completion, staff=True, status=status, form=form, decision=decision)


def completion_learner(request: HttpRequest, token: str) -> HttpResponse:
    try:
        completion = completion_for_token(token)
    except DomainError as error:
        raise_as_http(error)
        raise
    form = PresentForm(request.POST or None, request.FILES or None, pathway=completion.pathway)
    status = 200
    if request.method == "POST":
        status = _present(request, completion, form)
        if status == 200:
            return redirect("pathway-completion-learner", token)
    response = _page(request, completion, staff=False, status=status, form=form)
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response["Cache-Control"] = "private, no-store"
    return response


def _issued(public_id: Any) -> Completion:
    completion = Completion.objects.filter(public_id=public_id, badge__isnull=False).first()
    if completion is None:
        raise Http404(_("No such pathway credential."))
    return completion


def _json(document: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Type"] = "application/vc+ld+json"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _prefers_html(request: HttpRequest) -> bool:
    """A browser asks for HTML first; a client that names no type, or JSON, gets the credential."""
    return request.get_preferred_type(["application/vc+ld+json", "application/ld+json", "application/json",
                                       "text/html"]) == "text/html"


def _bundled(clr: dict[str, Any] | None) -> list[dict[str, str]]:
    """What the ClrCredential bundles, as the page lists it: each credential's achievement and issuer."""
    subject = (clr or {}).get("credentialSubject") or {}
    rows = []
    for credential in subject.get("verifiableCredential") or []:
        achievement = (credential.get("credentialSubject") or {}).get("achievement") or {}
        issuer = credential.get("issuer") or {}
        rows.append({"name": str(achievement.get("name") or achievement.get("id") or ""),
                     "issuer": str(issuer.get("name") or issuer.get("id") or "") if isinstance(issuer, dict)
                     else str(issuer)})
    return rows


@require_GET
def pathway_credential(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The pathway badge, at its id: the signed credential, or for a browser a page that verifies
    it, lists what its ClrCredential bundles and links both documents."""
    completion = _issued(public_id)
    if not _prefers_html(request):
        return _json(completion.badge)
    report = credential_verify(completion.badge)
    response = render(request, "pathways/credential.html", {
        "completion": completion, "badge": completion.badge, "report": report,
        "words": plain_words(completion.badge, report), "bundled": _bundled(completion.clr)})
    response["Vary"] = "Accept"
    return response


@require_GET
def pathway_credential_json(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The pathway badge as JSON whatever the client asks for (the page's download link)."""
    return _json(_issued(public_id).badge)


@require_GET
def pathway_clr(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The ClrCredential, at its id."""
    return _json(_issued(public_id).clr)


__all__ = ["DECISIONS", "completion_learner", "completion_new", "completion_staff", "pathway_clr",
           "pathway_credential", "pathway_credential_json"]
