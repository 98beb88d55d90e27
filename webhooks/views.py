"""Portal pages of an organisation's webhooks (its owners only): the endpoints, registering one,
its events, its secret (shown once), its deliveries with a replay button. Every write calls
webhooks.services; a refusal shows the service's message and changes nothing."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.errors import DomainError, NotFound, NotPermitted
from institutions.forms import add_service_errors
from institutions.views import portal_staff
from webhooks import services
from webhooks.models import WebhookEndpoint, events_for

ONCE_SESSION_KEY = "webhook_shown_once"  # the session entry of a secret to show once
DELIVERIES_SHOWN = 50


class EndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=1000, help_text=gettext_lazy(
        "https, on a public address: deliveries are POSTed here."))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=gettext_lazy("Events"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(str(e), e.label) for e in events_for(organisation)]
        self.fields["url"].widget.attrs.update({"inputmode": "url", "autocomplete": "url", "spellcheck": "false"})


def _organisation(request: HttpRequest):
    """The member organisation whose webhooks the user manages; 404 outside a member, 403 for staff
    who are not its owners."""
    organisation = portal_staff(request).organisation
    try:
        services.webhook_organisation(request.user)
    except NotPermitted:
        raise PermissionDenied from None
    return organisation


def _endpoint(request: HttpRequest, public_id) -> WebhookEndpoint:
    _organisation(request)
    try:
        return services.endpoint_of(request.user, public_id)
    except NotFound:
        from django.http import Http404

        raise Http404 from None


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    request.session[ONCE_SESSION_KEY] = {"endpoint": str(endpoint.public_id), "secret": secret}


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    form = EndpointForm(request.POST if request.method == "POST" else None, organisation=organisation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, secret = services.endpoint_create(actor=request.user, organisation=organisation,
                                                            **form.cleaned_data)
            except DomainError as error:
                add_service_errors(form, error)
            else:
                _show_secret_once(request, endpoint, secret)
                messages.success(request, _("Endpoint registered."))
                return redirect("portal:webhook", endpoint.public_id)
        status = 400
    endpoints = WebhookEndpoint.objects.filter(organisation=organisation)
    return render(request, "portal/webhooks.html", {"organisation": organisation, "endpoints": endpoints,
                                                    "form": form}, status=status)


@login_required
def webhook_detail(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    organisation = endpoint.organisation
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = EndpointForm(request.POST if request.method == "POST" else None, organisation=organisation,
                        initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
            except DomainError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect("portal:webhook", endpoint.public_id)
        status = 400
    shown = request.session.pop(ONCE_SESSION_KEY, None)
    secret = shown["secret"] if shown and shown.get("endpoint") == str(endpoint.public_id) else None
    context = {"organisation": organisation, "endpoint": endpoint, "form": form, "secret": secret,
               "deliveries": endpoint.deliveries.all()[:DELIVERIES_SHOWN], "shown": DELIVERIES_SHOWN,
               "test_limit": settings.WEBHOOK_TEST_EVENTS_PER_HOUR}
    return render(request, "portal/webhook_detail.html", context, status=status)


def _perform(request: HttpRequest, endpoint: WebhookEndpoint, call, success: str) -> HttpResponse:
    try:
        call()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("portal:webhook", endpoint.public_id)


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    try:
        endpoint, secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _show_secret_once(request, endpoint, secret)
        messages.success(request, _("A new secret was made; the old one no longer signs."))
    return redirect("portal:webhook", endpoint.public_id)


@login_required
@require_POST
def webhook_enabled(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    enable = request.POST.get("enabled") == "1"
    return _perform(request, endpoint, lambda: services.endpoint_set_enabled(
        actor=request.user, endpoint=endpoint, enabled=enable),
        _("Endpoint enabled.") if enable else _("Endpoint disabled."))


@login_required
@require_POST
def webhook_delete(request: HttpRequest, public_id) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    try:
        services.endpoint_delete(actor=request.user, endpoint=endpoint)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:webhook", endpoint.public_id)
    messages.success(request, _("Endpoint removed."))
    return redirect("portal:webhooks")


@login_required
@require_POST
def webhook_replay(request: HttpRequest, public_id, webhook_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)

    def replay() -> None:
        services.delivery_replay(actor=request.user, delivery=services.delivery_of(endpoint, webhook_id))

    return _perform(request, endpoint, replay, _("Delivery %(id)s sent again.") % {"id": webhook_id})


@login_required
@require_POST
def webhook_test(request: HttpRequest, public_id) -> HttpResponse:
    """"Send a test event": a signed `webhook.test` delivery, sent after commit, shown in the log."""
    endpoint = _endpoint(request, public_id)
    return _perform(request, endpoint, lambda: services.endpoint_send_test(actor=request.user, endpoint=endpoint),
                    _("A test event was sent: its delivery is at the top of the list below."))
