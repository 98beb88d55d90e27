"""The Open Badges 3.0 API as a host (docs/api.md), under /ims/ob/v3p0/: the service description
(discovery), dynamic client registration, the authorization (the learner signs in with a mailed link,
then consents), django-oauth-toolkit's token and revocation endpoints, and the two resources a token
reads: the learner's credentials and profile. Errors of the resources are the spec's Imsx_StatusInfo;
those of registration are RFC 7591's; those of the token endpoint RFC 6749's (the toolkit's).

Thin: the rules are in learners.wallets; the toolkit does the OAuth 2.0 protocol.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.views import AuthorizationView, RevokeTokenView
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from config.auth_views import client_address
from config.errors import DomainError, NotFound
from learners import wallets
from learners.services import account_history
from learners.session import current_learner
from learners.views import learner_required
from learners.wallet_scopes import CREDENTIAL_READ, PROFILE_READ, SERVED, scope_descriptions

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _absolute(name: str) -> str:
    return settings.SITE_URL + reverse(name)


# --- Imsx_StatusInfo ------------------------------------------------------------------------------------
def status_info(status: int, minor: str, description: str, *, major: str = "failure",
                headers: dict[str, str] | None = None) -> JsonResponse:
    """The spec's error payload (Imsx_StatusInfo) with the HTTP status."""
    response = JsonResponse({
        "imsx_codeMajor": major,
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]},
    }, status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    response["Cache-Control"] = "no-store"
    return response


def _bearer_account(request: HttpRequest, scope: str) -> tuple[Any, JsonResponse | None]:
    """The learner account of the request's bearer token, or the 401/403 answer."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    account = wallets.account_for_user(token.user) if token is not None else None
    if account is None:
        challenge = 'Bearer realm="ob"'
        if request.headers.get("Authorization"):
            challenge += ', error="invalid_token"'
        return None, status_info(401, "unauthorizedrequest",
                                 _("An access token is missing, expired or revoked."),
                                 headers={"WWW-Authenticate": challenge})
    if not token.allow_scopes([scope]):
        return None, status_info(403, "forbidden", _("The access token does not have the scope %(scope)s.")
                                 % {"scope": scope},
                                 headers={"WWW-Authenticate": f'Bearer realm="ob", error="insufficient_scope", '
                                                              f'scope="{scope}"'})
    wallets.access_used(account, token.application_id)
    return account, None


def _unsupported(allow: str) -> JsonResponse:
    return status_info(405, "not_allowed", _("This host does not support this operation: it keeps only the "
                                             "badges its members issued."), major="unsupported",
                       headers={"Allow": allow})


# --- discovery ------------------------------------------------------------------------------------------------
def _scopes_document() -> dict[str, str]:
    return {scope: description for scope, description in scope_descriptions().items() if scope in SERVED}


def _operation(operation_id: str, summary: str, scope: str | None) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": ["OpenBadgeCredentials"],
                                 "responses": {"200": {"description": summary}}}
    if scope:
        operation["security"] = [{"OAuth2ACG": [scope]}]
        for status in ("400", "401", "403", "405", "500"):
            operation["responses"][status] = {"description": _("An error (Imsx_StatusInfo)."),
                                              "content": {"application/json": {"schema": {
                                                  "$ref": "#/components/schemas/Imsx_StatusInfo"}}}}
    return operation


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """The Service Description Document (an OpenAPI 3.0 document), open to anyone."""
    credentials = _operation("getCredentials", _("The learner's OpenBadgeCredentials."), CREDENTIAL_READ)
    credentials["parameters"] = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": wallets.MAX_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    ]
    credentials["responses"]["200"]["headers"] = {
        "X-Total-Count": {"schema": {"type": "integer"}}, "Link": {"schema": {"type": "string"}}}
    privacy = settings.WALLET_PRIVACY_POLICY_URL or settings.SITE_URL + reverse("learners:sign_in")
    terms = settings.WALLET_TERMS_URL or settings.SITE_URL + "/"
    document = {
        "openapi": "3.0.1",
        "info": {
            "title": _("Open Badges API of %(site)s") % {"site": settings.SITE_URL},
            "version": "3.0",
            "description": _("The learners' badges issued on this server, for the wallets and backpacks they "
                             "allow (1EdTech Open Badges 3.0 API)."),
            "termsOfService": terms,
            "x-imssf-privacyPolicyUrl": privacy,
        },
        "servers": [{"url": settings.SITE_URL + "/ims/ob/v3p0", "description": _("This host")}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {"get": credentials},
            "/profile": {"get": _operation("getProfile", _("The learner's profile."), PROFILE_READ)},
            "/discovery": {"get": {**_operation("getServiceDescription", _("This document."), None),
                                   "tags": ["Discovery"]}},
        },
        "components": {
            "securitySchemes": {"OAuth2ACG": {
                "type": "oauth2",
                "description": _("OAuth 2.0 Authorization Code Grant with PKCE (S256)"),
                "x-imssf-name": settings.SITE_URL,
                "x-imssf-privacyPolicyUrl": privacy,
                "x-imssf-registrationUrl": _absolute("obapi:register"),
                "x-imssf-termsOfServiceUrl": terms,
                "flows": {"authorizationCode": {
                    "authorizationUrl": _absolute("obapi:authorize"),
                    "tokenUrl": _absolute("obapi:token"),
                    "refreshUrl": _absolute("obapi:token"),
                    "scopes": _scopes_document(),
                }},
            }},
            "schemas": {"Imsx_StatusInfo": {"type": "object", "required": ["imsx_codeMajor", "imsx_severity"],
                                            "properties": {"imsx_codeMajor": {"type": "string"},
                                                           "imsx_severity": {"type": "string"},
                                                           "imsx_description": {"type": "string"},
                                                           "imsx_codeMinor": {"type": "object"}}}},
        },
    }
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- registration (RFC 7591) -------------------------------------------------------------------------------------
def _registration_error(code: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": code, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # an API called with no cookies: nothing a forged request could use
@require_POST
def register(request: HttpRequest) -> JsonResponse:
    if request.content_type != "application/json":
        return _registration_error("invalid_client_metadata", _("Send the metadata as application/json."))
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _registration_error("invalid_client_metadata", _("The request body is not valid JSON."))
    try:
        registration = wallets.client_register(data, address=client_address(request))
    except wallets.RegistrationError as error:
        return _registration_error(error.code, error.message)
    except DomainError as error:  # too many registrations
        return _registration_error("invalid_client_metadata", error.message, status=error.status_code)
    response = JsonResponse(registration.as_json(), status=201, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


# --- authorization ------------------------------------------------------------------------------------------------
class Authorize(AuthorizationView):
    """django-oauth-toolkit's authorization view for a learner: no learner signed in → the sign-in page,
    back here once signed in; then the consent page. The toolkit sees the account's hidden user.
    Only the S256 code challenge method is accepted."""

    template_name = "wallet/authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = current_learner(request)
        if account is None:
            return redirect(reverse("learners:sign_in") + "?" + urlencode({"next": request.get_full_path()}))
        request.user = wallets.holder_user(account)
        request.learner = account  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)

    def validate_authorization_request(self, request: HttpRequest) -> Any:
        scopes, credentials = super().validate_authorization_request(request)
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(error=CustomOAuth2Error(
                error="invalid_request", description="PKCE with code_challenge_method=S256 is required.",
                state=credentials.get("state")), redirect_uri=credentials.get("redirect_uri"))
        return scopes, credentials

    def form_valid(self, form: Any) -> HttpResponse:
        if form.cleaned_data.get("code_challenge_method") != "S256" or not form.cleaned_data.get("code_challenge"):
            return status_info(400, "invalid_data", "PKCE with code_challenge_method=S256 is required.")
        with transaction.atomic():
            response = super().form_valid(form)
            # Allowed, and the toolkit issued a code (not an error redirect): the consent, audited.
            if form.cleaned_data.get("allow") and "code" in parse_qs(urlsplit(response.get("Location", "")).query):
                application = get_application_model().objects.get(client_id=form.cleaned_data["client_id"])
                wallets.access_granted(self.request.learner,  # type: ignore[attr-defined]
                                       application, (form.cleaned_data.get("scope") or "").split())
        return response

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        # The page is rendered for the learner, who is no staff user: the header must not show the
        # hidden user as logged in (the toolkit is done with it by now).
        self.request.user = AnonymousUser()
        return super().render_to_response(context, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        descriptions = scope_descriptions()
        context["scope_rows"] = [descriptions.get(s, s) for s in context.get("scopes", [])]
        application = context.get("application")
        client = getattr(application, "wallet_client", None) if application is not None else None
        context["client_metadata"] = client.metadata if client is not None else {}
        context["learner"] = self.request.learner  # type: ignore[attr-defined]
        context["emails"] = self.request.learner.emails.all()  # type: ignore[attr-defined]
        return context


class Revoke(RevokeTokenView):
    """django-oauth-toolkit's revocation endpoint (RFC 7009), with the audit event when a learner's
    token was indeed revoked (the endpoint answers 200 for an unknown token too, and then records
    nothing). The token itself is never recorded."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raw = request.POST.get("token", "")
        with transaction.atomic():
            owner = wallets.token_owner(raw)
            response = super().post(request, *args, **kwargs)
            if response.status_code == 200 and owner is not None and wallets.token_owner(raw) is None:
                wallets.token_revoked_by_wallet(owner)
        return response


# --- the resources ------------------------------------------------------------------------------------------------
def _page_url(request: HttpRequest, limit: int, offset: int) -> str:
    query = {key: value for key, value in request.GET.items() if key not in ("limit", "offset")}
    query.update({"limit": str(limit), "offset": str(offset)})
    return f"<{_absolute('obapi:credentials')}?{urlencode(query)}>"


@csrf_exempt  # bearer tokens only: a POST is answered as unsupported
def credentials(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        account, refused = _bearer_account(request, CREDENTIAL_READ)
        return refused or _unsupported("GET")
    if request.method not in ("GET", "HEAD"):
        return _unsupported("GET")
    account, refused = _bearer_account(request, CREDENTIAL_READ)
    if refused:
        return refused
    try:
        page = wallets.credentials_page(account, request.GET)
    except DomainError as error:
        return status_info(400, "invalid_query_parameter", error.message)
    response = JsonResponse({"credential": page.credentials}, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/ld+json"
    response["X-Total-Count"] = str(page.total)
    links = [f'{_page_url(request, page.limit, 0)}; rel="first"',
             f'{_page_url(request, page.limit, page.last_offset)}; rel="last"']
    if page.offset + page.limit < page.total:
        links.insert(0, f'{_page_url(request, page.limit, page.offset + page.limit)}; rel="next"')
    if page.offset > 0:
        links.append(f'{_page_url(request, page.limit, max(0, page.offset - page.limit))}; rel="prev"')
    response["Link"] = ", ".join(links)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def profile(request: HttpRequest) -> JsonResponse:
    if request.method == "PUT":
        account, refused = _bearer_account(request, PROFILE_READ)
        return refused or _unsupported("GET")
    if request.method not in ("GET", "HEAD"):
        return _unsupported("GET")
    account, refused = _bearer_account(request, PROFILE_READ)
    if refused:
        return refused
    response = JsonResponse(wallets.profile(account), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


# --- the learner's account: applications holding access --------------------------------------------------------
@learner_required
@require_GET
def connected(request: HttpRequest) -> HttpResponse:
    """The connected wallets: each application the learner allowed, what it can read, when it was
    allowed and last read, with Revoke; and the account's history from the audit trail."""
    learner = request.learner  # type: ignore[attr-defined]
    described = scope_descriptions()
    access = [{"access": entry, "described": [described.get(s, s) for s in entry.scopes]}
              for entry in wallets.account_access(learner)]
    return render(request, "learners/wallets.html", {
        "learner": learner, "access": access, "history": account_history(learner)})


@learner_required
@require_POST
def access_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        wallets.access_revoke(request.learner, pk)  # type: ignore[attr-defined]
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, _("The application no longer has access to your badges."))
    return redirect("learners:wallets")

