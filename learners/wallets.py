"""The learner's credentials for wallets and backpacks: the host side of the 1EdTech Open Badges 3.0 API
(docs/api.md, "The Open Badges 3.0 API").

django-oauth-toolkit is the OAuth 2.0 server (authorization code with PKCE, tokens, refresh, revocation).
What it lacks for this API is here:

* dynamic client registration (RFC 7591) with the checks the API needs: `client_register` validates the
  metadata (redirect URIs https or loopback http, a client name, the spec's scopes, https links) and
  creates django-oauth-toolkit's Application and our WalletClient together, or nothing;
* learners are not Django users, and the toolkit ties grants and tokens to users: each learner account
  that authorizes an application gets one hidden Django user (`WalletHolder`), with no usable password,
  which the authorization view alone puts on the request;
* what a token may read: `credentials_page` (the account's signed badges) and `profile`;
* the account's list of applications that hold access, and revoking one (its tokens and grants are
  deleted: the next read answers 401).
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_id
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from config.errors import DomainError, NotFound
from learners.models import LearnerAccount, WalletClient, WalletHolder
from learners.services import account_awards
from learners.wallet_scopes import NOT_SERVED, SERVED

MAX_REDIRECT_URIS = 10
MAX_URI = 2000
MAX_NAME = 200
MAX_TEXT = 200
MAX_CONTACTS = 10
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
LOOPBACK_HOSTS = {"localhost"}
LINK_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
TEXT_FIELDS = ("software_id", "software_version")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class RegistrationError(DomainError):
    """An RFC 7591 error: `code` is `invalid_redirect_uri` or `invalid_client_metadata`."""

    status_code = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TooManyRegistrations(DomainError):
    status_code = 429


# --- dynamic client registration (RFC 7591) ----------------------------------------------------------
def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: Any) -> str | None:
    """Why `uri` cannot be a redirect URI (None when it can): absolute https, or http on a loopback
    address (RFC 8252, §7.3, for an application on the learner's own machine); no fragment."""
    if not isinstance(uri, str) or not uri:
        return _("Each redirect URI must be a non-empty string.")
    if len(uri) > MAX_URI:
        return _("A redirect URI is longer than %(n)d characters.") % {"n": MAX_URI}
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return _("%(uri)s is not a valid URL.") % {"uri": uri}
    if parts.fragment or "#" in uri:
        return _("A redirect URI must not have a fragment: %(uri)s") % {"uri": uri}
    if not host:
        return _("A redirect URI must be an absolute URL: %(uri)s") % {"uri": uri}
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return None
    return _("A redirect URI must use https (http only on a loopback address): %(uri)s") % {"uri": uri}


def _link_problem(field: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > MAX_URI:
        return _("%(field)s must be an https URL.") % {"field": field}
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        return _("%(field)s must be an https URL.") % {"field": field}
    return None


def _metadata_clean(data: Any) -> dict[str, Any]:
    """The registration metadata as we keep and answer it; RegistrationError at the first problem."""
    if not isinstance(data, dict):
        raise RegistrationError("invalid_client_metadata", _("The request body must be a JSON object."))
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        raise RegistrationError("invalid_redirect_uri", _("redirect_uris must be a non-empty array of URLs."))
    if len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri",
                                _("At most %(n)d redirect URIs can be registered.") % {"n": MAX_REDIRECT_URIS})
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise RegistrationError("invalid_redirect_uri", problem)
    if any(" " in uri for uri in uris):
        raise RegistrationError("invalid_redirect_uri", _("A redirect URI must not contain spaces."))
    name = data.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise RegistrationError("invalid_client_metadata", _("client_name is required: learners see it."))
    if len(name) > MAX_NAME:
        raise RegistrationError("invalid_client_metadata",
                                _("client_name is longer than %(n)d characters.") % {"n": MAX_NAME})
    scope = data.get("scope")
    if not isinstance(scope, str) or not scope.split():
        raise RegistrationError("invalid_client_metadata",
                                _("scope is required: the Open Badges scopes the application will ask for."))
    asked = list(dict.fromkeys(scope.split()))
    unknown = [s for s in asked if s not in SERVED and s not in NOT_SERVED]
    if unknown:
        raise RegistrationError("invalid_client_metadata",
                                _("Unknown scope: %(scope)s.") % {"scope": " ".join(unknown)})
    granted = [s for s in asked if s in SERVED]  # RFC 7591 §2: the server may register fewer scopes
    if not [s for s in granted if s != "offline_access"]:
        raise RegistrationError("invalid_client_metadata",
                                _("This host serves only the credential.readonly and profile.readonly scopes."))
    grant_types = data.get("grant_types", ["authorization_code", "refresh_token"])
    if (not isinstance(grant_types, list) or "authorization_code" not in grant_types
            or not set(grant_types) <= {"authorization_code", "refresh_token"}):
        raise RegistrationError("invalid_client_metadata",
                                _("grant_types must be authorization_code (and refresh_token)."))
    if data.get("response_types", ["code"]) != ["code"]:
        raise RegistrationError("invalid_client_metadata", _("response_types must be [\"code\"]."))
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise RegistrationError("invalid_client_metadata",
                                _("token_endpoint_auth_method must be client_secret_basic or client_secret_post."))
    cleaned: dict[str, Any] = {
        "client_name": name.strip(), "redirect_uris": uris, "scope": " ".join(granted),
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": method,
    }
    for field in LINK_FIELDS:
        if field in data:
            problem = _link_problem(field, data[field])
            if problem:
                raise RegistrationError("invalid_client_metadata", problem)
            cleaned[field] = data[field]
    for field in TEXT_FIELDS:
        if field in data:
            if not isinstance(data[field], str) or len(data[field]) > MAX_TEXT:
                raise RegistrationError("invalid_client_metadata",
                                        _("%(field)s must be a string of at most %(n)d characters.")
                                        % {"field": field, "n": MAX_TEXT})
            cleaned[field] = data[field]
    if "contacts" in data:
        contacts = data["contacts"]
        if not isinstance(contacts, list) or len(contacts) > MAX_CONTACTS:
            raise RegistrationError("invalid_client_metadata",
                                    _("contacts must be an array of at most %(n)d e-mail addresses.")
                                    % {"n": MAX_CONTACTS})
        for contact in contacts:
            try:
                validate_email(contact if isinstance(contact, str) else "")
            except ValidationError:
                raise RegistrationError("invalid_client_metadata",
                                        _("contacts must be e-mail addresses.")) from None
        cleaned["contacts"] = contacts
    return cleaned


def _registration_throttle(address: str) -> None:
    key = "wallets:register:" + address
    if (cache.get(key) or 0) >= settings.WALLET_REGISTRATION_LIMIT:
        raise TooManyRegistrations(_("Too many applications were registered from this address. "
                                     "Please try again in an hour."))
    cache.add(key, 0, timeout=3600)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)


@dataclass
class Registration:
    client: WalletClient
    client_secret: str

    def as_json(self) -> dict[str, Any]:
        """The RFC 7591 §3.2.1 answer: the client's credentials and its metadata as registered."""
        application = self.client.application
        return {
            "client_id": application.client_id,
            "client_secret": self.client_secret,
            "client_id_issued_at": int(self.client.registered_at.timestamp()),
            "client_secret_expires_at": 0,  # never
            **self.client.metadata,
        }


def client_register(data: Any, *, address: str) -> Registration:
    """Register a wallet (RFC 7591): a confidential django-oauth-toolkit Application for the
    authorization code grant, and its WalletClient (scopes, metadata). All or nothing."""
    metadata = _metadata_clean(data)
    _registration_throttle(address)
    Application = get_application_model()
    secret = secrets.token_urlsafe(48)
    with transaction.atomic():
        application = Application(
            client_id=generate_client_id(), client_secret=secret, name=metadata["client_name"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(metadata["redirect_uris"]), skip_authorization=False, algorithm="",
            registration_source=Application.RegistrationSource.DCR,
        )
        try:
            application.full_clean()
        except ValidationError as error:
            raise RegistrationError("invalid_client_metadata", "; ".join(error.messages)) from None
        application.save()  # hashes the secret: only the answer below ever shows it
        client = WalletClient.objects.create(application=application, scope=metadata["scope"], metadata=metadata,
                                             registered_from=address[:64])
    return Registration(client=client, client_secret=secret)


# --- learners and the toolkit's users ----------------------------------------------------------------
def holder_user(account: LearnerAccount) -> Any:
    """The hidden Django user of `account` (made on first use): no usable password, not staff."""
    found = WalletHolder.objects.select_related("user").filter(account=account).first()
    if found is not None:
        return found.user
    with transaction.atomic():
        user = get_user_model()(username=f"learner-{account.public_id}", is_active=True, is_staff=False)
        user.set_unusable_password()
        user.save()
        WalletHolder.objects.create(account=account, user=user)
    return user


def account_for_user(user: Any) -> LearnerAccount | None:
    holder = WalletHolder.objects.select_related("account").filter(user_id=getattr(user, "pk", None)).first()
    return holder.account if holder is not None else None


# --- what a token reads ---------------------------------------------------------------------------------
class BadQuery(DomainError):
    status_code = 400


def _int_param(value: str | None, name: str, *, minimum: int, default: int) -> int:
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or int(value) < minimum:
        raise BadQuery(_("%(name)s must be an integer of at least %(min)d.") % {"name": name, "min": minimum})
    return int(value)


@dataclass
class Page:
    credentials: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def last_offset(self) -> int:
        return max(0, (math.ceil(self.total / self.limit) - 1) * self.limit)


def credentials_page(account: LearnerAccount, params: Any) -> Page:
    """A page of the account's signed credentials (`limit`, `offset`, `since` as in the spec), newest
    first; hidden ones included (docs/api.md). BadQuery for a malformed parameter."""
    limit = min(_int_param(params.get("limit"), "limit", minimum=1, default=DEFAULT_LIMIT), MAX_LIMIT)
    offset = _int_param(params.get("offset"), "offset", minimum=0, default=0)
    awards = account_awards(account)
    since = params.get("since")
    if since:
        moment = _datetime_param(since)
        awards = awards.filter(Q(issued_at__gte=moment) | Q(revoked_at__gte=moment))
    total = awards.count()
    rows = awards.select_related(None).only("credential")[offset:offset + limit]
    return Page(credentials=[award.credential for award in rows], total=total, limit=limit, offset=offset)


def _datetime_param(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(_("since must be a date and time (ISO 8601, e.g. 2026-01-31T00:00:00Z).")) from None
    if timezone.is_naive(moment):
        raise BadQuery(_("since must give its time zone (e.g. 2026-01-31T00:00:00Z)."))
    return moment


def profile(account: LearnerAccount) -> dict[str, Any]:
    """The learner's OB 3.0 Profile: the account's id (a URN) and its verified addresses."""
    emails = list(account.emails.values_list("email", flat=True))
    document: dict[str, Any] = {
        "@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["Profile"],
        "id": f"urn:uuid:{account.public_id}",
    }
    if emails:
        document["email"] = emails[0]
        if len(emails) > 1:
            document["otherIdentifier"] = [
                {"type": "IdentifierEntry", "identifier": e, "identifierType": "emailAddress"} for e in emails[1:]]
    return document


# --- access held by applications --------------------------------------------------------------------------
@dataclass
class Access:
    application: Any
    client: WalletClient | None
    scopes: list[str]
    since: datetime


def account_access(account: LearnerAccount) -> list[Access]:
    """The applications holding a token (access or refresh, not revoked) for the account."""
    holder = WalletHolder.objects.filter(account=account).first()
    if holder is None:
        return []
    found: dict[int, Access] = {}
    tokens = [*get_access_token_model().objects.filter(user_id=holder.user_id).select_related("application"),
              *get_refresh_token_model().objects.filter(user_id=holder.user_id, revoked__isnull=True)
              .select_related("application", "access_token")]
    for token in tokens:
        application = token.application
        scopes = (token.scope if hasattr(token, "scope") else getattr(token.access_token, "scope", "")).split()
        entry = found.setdefault(application.pk, Access(
            application=application, client=getattr(application, "wallet_client", None), scopes=[],
            since=token.created))
        entry.scopes = list(dict.fromkeys([*entry.scopes, *scopes]))
        entry.since = min(entry.since, token.created)
    return sorted(found.values(), key=lambda a: a.since)


def access_revoke(account: LearnerAccount, application_pk: Any) -> None:
    """Take away an application's access to the account: its grants, refresh and access tokens are
    deleted (the next read with them answers 401). NotFound when it holds none."""
    holder = WalletHolder.objects.filter(account=account).first()
    with transaction.atomic():
        rows = {"grants": get_grant_model().objects, "refresh": get_refresh_token_model().objects,
                "access": get_access_token_model().objects}
        matched = {key: manager.filter(user_id=getattr(holder, "user_id", None), application_id=application_pk)
                   for key, manager in rows.items()}
        if holder is None or not (matched["access"].exists() or matched["refresh"].exists()):
            raise NotFound(_("This application holds no access to your account."))
        for key in ("refresh", "access", "grants"):
            matched[key].delete()



