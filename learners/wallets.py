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

import hashlib
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from endorsement.audit import AuditAction, audit_record
from learners.models import LearnerAccount, WalletAccess, WalletClient, WalletHolder
from learners.services import account_awards, learner_actor
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
# A read moves `last_used_at` at most this often (not one write per read).
LAST_USED_STEP = timedelta(minutes=1)


@dataclass
class Access:
    application: Any
    client: WalletClient | None
    scopes: list[str]
    since: datetime
    last_used: datetime | None = None


def _audit_data(account: LearnerAccount, application: Any, scopes: list[str]) -> dict[str, Any]:
    """What an access event records: who, which application (its public client_id and name), what it
    may read. Never a token, a code or the client's secret."""
    return {"account": str(account.public_id), "client_id": application.client_id,
            "client_name": application.name, "scopes": scopes}


def _audit_subject(application: Any) -> Any:
    # The WalletClient, not the toolkit's Application: the trail names subjects by model name, and
    # "application" is already the endorsement application's.
    return getattr(application, "wallet_client", None) or application


def access_granted(account: LearnerAccount, application: Any, scopes: list[str]) -> WalletAccess:
    """Record the learner's consent to `application` for `scopes` (the authorization page's Allow):
    the access row (made, or its scopes and date renewed) and the audit event."""
    now = timezone.now()
    with transaction.atomic():
        access, _created = WalletAccess.objects.select_for_update().get_or_create(
            account=account, application=application, defaults={"scope": " ".join(scopes), "granted_at": now})
        if not _created:
            access.scope, access.granted_at = " ".join(scopes), now
            access.save(update_fields=["scope", "granted_at"])
        audit_record(actor=learner_actor(account), action=AuditAction.WALLET_ACCESS_GRANTED,
                     subject=_audit_subject(application), data=_audit_data(account, application, scopes))
    return access


def access_used(account: LearnerAccount, application_id: int) -> None:
    """Note that the application read with its token now (at most once per LAST_USED_STEP)."""
    now = timezone.now()
    (WalletAccess.objects.filter(account=account, application_id=application_id)
     .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_STEP))
     .update(last_used_at=now))


def account_access(account: LearnerAccount) -> list[Access]:
    """The applications the learner allowed (a consent not revoked) or that hold a token (access or
    refresh, not revoked) for the account, oldest consent first."""
    holder = WalletHolder.objects.filter(account=account).first()
    found: dict[int, Access] = {}
    for row in WalletAccess.objects.filter(account=account).select_related("application__wallet_client"):
        found[row.application_id] = Access(application=row.application,
                                           client=getattr(row.application, "wallet_client", None),
                                           scopes=row.scope.split(), since=row.granted_at,
                                           last_used=row.last_used_at)
    tokens = [] if holder is None else [
        *get_access_token_model().objects.filter(user_id=holder.user_id).select_related("application"),
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


def _live_tokens(user_id: Any, application_pk: Any) -> bool:
    return (get_access_token_model().objects.filter(user_id=user_id, application_id=application_pk).exists()
            or get_refresh_token_model().objects.filter(user_id=user_id, application_id=application_pk,
                                                        revoked__isnull=True).exists())


def access_revoke(account: LearnerAccount, application_pk: Any) -> None:
    """Take away an application's access to the account (the learner's Revoke): its grants, refresh
    and access tokens and the consent are deleted (the next read with them answers 401), and the audit
    trail records it. NotFound when it holds none."""
    holder = WalletHolder.objects.filter(account=account).first()
    with transaction.atomic():
        user_id = getattr(holder, "user_id", None)
        rows = {"grants": get_grant_model().objects, "refresh": get_refresh_token_model().objects,
                "access": get_access_token_model().objects}
        matched = {key: manager.filter(user_id=user_id, application_id=application_pk)
                   for key, manager in rows.items()}
        consent = WalletAccess.objects.select_for_update().filter(account=account, application_id=application_pk)
        if not (consent.exists() or (holder is not None and _live_tokens(user_id, application_pk))):
            raise NotFound(_("This application holds no access to your account."))
        application = get_application_model().objects.select_related("wallet_client").get(pk=application_pk)
        scopes = list(dict.fromkeys([*(s for row in consent for s in row.scope.split()),
                                     *(s for t in matched["access"] for s in t.scope.split())]))
        for key in ("refresh", "access", "grants"):
            matched[key].delete()
        consent.delete()
        audit_record(actor=learner_actor(account), action=AuditAction.WALLET_ACCESS_REVOKED,
                     subject=_audit_subject(application), data=_audit_data(account, application, scopes))


@dataclass
class TokenOwner:
    account: LearnerAccount
    application: Any
    kind: str  # "access_token" or "refresh_token"
    scopes: list[str]


def token_owner(raw_token: str) -> TokenOwner | None:
    """Whose live token (access, or refresh not revoked) `raw_token` is, looked up by its SHA-256 as
    django-oauth-toolkit stores it; None if it is no such token of a learner."""
    if not isinstance(raw_token, str) or not raw_token:
        return None
    checksum = hashlib.sha256(raw_token.encode("utf-8")).hexdigest()
    access = get_access_token_model().objects.filter(token_checksum=checksum).select_related("application").first()
    refresh = None if access is not None else (
        get_refresh_token_model().objects.filter(token_checksum=checksum, revoked__isnull=True)
        .select_related("application", "access_token").first())
    token = access or refresh
    if token is None:
        return None
    account = account_for_user(token.user)
    if account is None:
        return None
    scope = token.scope if access is not None else getattr(token.access_token, "scope", "")
    return TokenOwner(account=account, application=token.application,
                      kind="access_token" if access is not None else "refresh_token", scopes=scope.split())


def token_revoked_by_wallet(owner: TokenOwner) -> None:
    """After the revocation endpoint (RFC 7009) took `owner`'s token away: the audit event, with the
    application as actor; the consent goes too once the application holds no live token for the
    account. Runs in the revocation's transaction."""
    application = owner.application
    audit_record(actor=f"wallet:{application.client_id}", action=AuditAction.WALLET_TOKEN_REVOKED,
                 subject=_audit_subject(application),
                 data={**_audit_data(owner.account, application, owner.scopes), "token_type": owner.kind})
    holder = WalletHolder.objects.filter(account=owner.account).first()
    if holder is None or not _live_tokens(holder.user_id, application.pk):
        WalletAccess.objects.filter(account=owner.account, application=application).delete()
