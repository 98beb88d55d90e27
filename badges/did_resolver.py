"""Resolving the DIDs that sign presented credentials.

* This server's own `did:web` DIDs (host and port equal to SITE_URL's) are answered from the
  database (`institutions.keys.did_document`), never over HTTP;
* `did:key` is resolved offline: the key is in the identifier;
* any other `did:web` is fetched over HTTPS (`badges.fetch`: public addresses only, short time and
  size limits). Plain http to loopback is allowed only with `settings.VERIFY_ALLOW_LOOPBACK`
  (the test settings), so tests can serve a DID document from 127.0.0.1.

A `DidResolver` caches what it resolved, so one verification fetches each DID at most once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from django.conf import settings

from badges import credentials as vc
from badges.fetch import FetchError, fetch
from badges.texts import gettext as _
from institutions.models import MembershipState, Organisation

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


@dataclass(frozen=True)
class DidResolution:
    """A DID and its document, or why it could not be resolved. `source` says where it came from."""

    did: str
    document: dict[str, Any] | None = None
    source: str = ""
    error: str = ""
    # The document's assertion keys (verification method id → key), when already known.
    keys: Mapping[str, Any] | None = None

    @property
    def resolved(self) -> bool:
        return self.document is not None


def site_did() -> str:
    """The certification body's DID, derived from SITE_URL (remembered per SITE_URL: a verification
    asks a dozen times)."""
    return _did_of_site(settings.SITE_URL)


@lru_cache(maxsize=8)
def _did_of_site(site_url: str) -> str:
    return vc.did_web_from_url(site_url)


def _host_of(did: str) -> str:
    return did.split(":")[2].lower() if did.count(":") >= 2 else ""


def is_local_did(did: str) -> bool:
    """True for a did:web on this server's host (and port)."""
    return did.startswith("did:web:") and _host_of(did) == _host_of(site_did())


def local_organisation(did: str) -> Organisation | None:
    """The organisation of this server whose DID this is (the body or a listed member), or None."""
    if not is_local_did(did):
        return None
    segments = [unquote(s) for s in did.split(":")[3:]]
    if not segments:
        return Organisation.objects.filter(is_certification_body=True).first()
    if len(segments) == 2 and segments[0] == "organisations":
        return (
            Organisation.objects.filter(slug=segments[1], is_certification_body=False)
            .exclude(membership__in=[MembershipState.APPLIED, MembershipState.REJECTED])
            .first()
        )
    return None


class _LocalDocuments:
    """The DID documents of this server's issuers, built from their rows, by those rows' exact
    values: (SITE_URL, body or not, slug, each key's fragment and multibase text) → (the document,
    its assertion keys decoded). A pure function of the rows, which every verification still reads
    afresh (badges.verification_data): a withdrawn or added key is another input and misses.
    Decoding the keys (base58, then the Ed25519 point) and building the document cost more than
    the lookup. At most `size`, all dropped when full. The documents are shared: read, never
    changed."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._data: dict[tuple[Any, ...], tuple[dict[str, Any], Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def document(self, organisation: Any, keys: tuple[tuple[str, str], ...]
                 ) -> tuple[dict[str, Any], Mapping[str, Any]]:
        from institutions.keys import organisation_did

        at = (settings.SITE_URL, bool(organisation.is_certification_body), organisation.slug, keys)
        found = self._data.get(at)
        if found is None:
            document = vc.build_did_document(organisation_did(organisation),
                                             [vc.DidKey(fragment=fragment, public_key=key) for fragment, key in keys])
            found = (document, MappingProxyType(vc.assertion_keys(document)))
            with self._lock:
                if len(self._data) >= self.size:
                    self._data.clear()
                self._data[at] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


LOCAL_DOCUMENTS = _LocalDocuments()


@dataclass
class DidResolver:
    """Resolves DIDs for one verification; results (and failures) are cached on the instance."""

    allow_loopback: bool = field(default_factory=lambda: bool(getattr(settings, "VERIFY_ALLOW_LOOPBACK", False)))
    timeout: float = field(default_factory=lambda: float(getattr(settings, "VERIFY_FETCH_TIMEOUT", 3)))
    max_bytes: int = field(default_factory=lambda: int(getattr(settings, "VERIFY_FETCH_MAX_BYTES", 2 * 1024 * 1024)))
    max_fetches: int = 8
    fetches: int = 0
    # A verification's `badges.verification_data.VerificationRecords`: local DIDs are answered from
    # the organisations and keys it reads (with the rest of the verification's records), not one by one.
    records: Any = None
    _cache: dict[str, DidResolution] = field(default_factory=dict)
    _assertion_keys: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def resolve(self, did: str) -> DidResolution:
        did = did.split("#", 1)[0] if isinstance(did, str) else did
        if not isinstance(did, str) or not did.startswith("did:"):
            return DidResolution(str(did), error=_("“%(id)s” is not a DID.") % {"id": did})
        if did not in self._cache:
            self._cache[did] = self._resolve(did)
        return self._cache[did]

    def _resolve(self, did: str) -> DidResolution:
        if did.startswith("did:key:"):
            try:
                key = vc.resolve_did_key(did)
            except vc.CredentialError as error:
                return DidResolution(did, error=str(error))
            multikey = vc.public_key_to_multibase(key)
            document = vc.build_did_document(did, [vc.DidKey(fragment=multikey, public_key=key)])
            return DidResolution(did, document, source=_("did:key (the key is the identifier itself)"))
        if not did.startswith("did:web:"):
            return DidResolution(did, error=_("The DID method of %(did)s is not supported (only did:web and did:key).")
                                 % {"did": did})
        if is_local_did(did):
            return self._resolve_local(did)
        return self._resolve_remote(did)

    def _resolve_local(self, did: str) -> DidResolution:
        from institutions.keys import did_document

        if self.records is not None:
            found = self.records.organisation_keys(did)
            if found is None:
                return DidResolution(did, error=_("%(did)s names this server, but no issuer here has that DID.")
                                     % {"did": did})
            organisation, keys = found
            if any(retired_at is None for _fragment, _key, retired_at in keys):
                document, assertion = LOCAL_DOCUMENTS.document(
                    organisation, tuple((fragment, key) for fragment, key, _retired_at in keys))
                return DidResolution(did, document, source=_("this registry's own records"), keys=assertion)
            # No current key yet: did_document creates it, as the published DID document does.
            return DidResolution(did, did_document(Organisation.objects.get(pk=organisation.pk)),
                                 source=_("this registry's own records"))
        organisation = local_organisation(did)
        if organisation is None:
            return DidResolution(did, error=_("%(did)s names this server, but no issuer here has that DID.")
                                 % {"did": did})
        return DidResolution(did, did_document(organisation), source=_("this registry's own records"))

    def _resolve_remote(self, did: str) -> DidResolution:
        host = unquote(_host_of(did)).rsplit(":", 1)[0]
        scheme = "http" if self.allow_loopback and host in LOOPBACK_HOSTS else "https"
        try:
            url = vc.did_web_document_url(did, scheme=scheme)
        except vc.DidError as error:
            return DidResolution(did, error=str(error))
        document, error = self.fetch_json(url, accept="application/did+ld+json, application/json")
        if document is None:
            return DidResolution(did, error=_("The DID document at %(url)s could not be fetched: %(reason)s")
                                 % {"url": url, "reason": error})
        if not isinstance(document, dict) or document.get("id") != did:
            return DidResolution(did, error=_("The document at %(url)s is not the DID document of %(did)s.")
                                 % {"url": url, "did": did})
        return DidResolution(did, document, source=url)

    def fetch_json(self, url: str, *, accept: str) -> tuple[dict[str, Any] | None, str]:
        """(the JSON object at `url`, "") or (None, why not): https only, within this verification's
        budget of `max_fetches` documents, so one credential cannot keep the server fetching."""
        if self.fetches >= self.max_fetches:
            return None, _("this credential needs more than %(max)d documents from other servers; the rest were "
                           "not fetched.") % {"max": self.max_fetches}
        self.fetches += 1
        try:
            result = fetch(url, timeout=self.timeout, max_bytes=self.max_bytes, allow_loopback=self.allow_loopback,
                           https_only=True, accept=accept)
        except FetchError as error:
            return None, error.message
        try:
            document = json.loads(result.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None, _("it is not JSON.")
        if not isinstance(document, dict):
            return None, _("it is not a JSON object.")
        return document, ""

    def key_resolver(self) -> vc.KeyResolver:
        """A resolver for `vc.verify`: a verification method id → its Ed25519 key, named in the
        controlling DID document's assertionMethod. Raises `KeyNotFoundError` otherwise."""

        def resolve_key(method_id: str) -> vc.Ed25519PublicKey:
            if method_id.startswith("did:key:"):
                return vc.resolve_did_key(method_id)
            resolution = self.resolve(method_id)
            if not resolution.resolved:
                raise vc.KeyNotFoundError(resolution.error)
            keys = resolution.keys
            if keys is None:
                keys = self._assertion_keys.get(resolution.did)
                if keys is None:
                    keys = self._assertion_keys[resolution.did] = vc.assertion_keys(resolution.document)
            if method_id not in keys:
                raise vc.KeyNotFoundError(
                    _("%(method)s is not an assertion key in the DID document of %(did)s.")
                    % {"method": method_id, "did": resolution.did}
                )
            return keys[method_id]

        return resolve_key
