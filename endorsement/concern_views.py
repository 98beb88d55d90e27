"""The public form to report a concern about a programme in the registry (endorsement.quality).
Throttled per client address; the concern goes to the managers' queue and is never shown publicly."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from config.auth_views import client_address
from config.errors import InvalidInput, NotFound
from endorsement.quality import MAX_CONCERN, TooManyConcerns, concern_report, programme_in_registry


class ConcernForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Your concern"), max_length=MAX_CONCERN, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What seems wrong with this programme or its endorsement. Only the body's managers "
                               "read it; it is never published."))
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail (optional)"), required=False, max_length=254,
        help_text=gettext_lazy("Only if you would like the body to be able to reply."))


@require_http_methods(["GET", "POST"])
def concern(request: HttpRequest, public_id: Any) -> HttpResponse:
    try:
        programme, _endorsement = programme_in_registry(public_id)
    except NotFound:
        raise Http404 from None
    form = ConcernForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"programme": programme, "form": form, "sent": False, "error": ""}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                concern_report(public_id=public_id, address=client_address(request), **form.cleaned_data)
            except TooManyConcerns as refused:
                context["error"], status = refused.message, refused.status_code
            except InvalidInput as refused:
                for name, problems in refused.field_errors.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                status = 400
            else:
                context["sent"] = True
                context["form"] = ConcernForm()
        else:
            status = 400
    return render(request, "registry/concern.html", context, status=status)
