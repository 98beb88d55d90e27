"""did:web identifiers and documents, offline did:key resolution, and key resolvers for `verify`.

* `did_web_from_url("http://127.0.0.1:8000")` → `did:web:127.0.0.1%3A8000`;
  `did_web_from_url("https://example.org/orgs/acme")` → `did:web:example.org:orgs:acme`.
* `did_web_document_url` goes back: `/.well-known/did.json` for a bare host, `/<path>/did.json`
  otherwise (https unless told otherwise; a development server on http passes `scheme="http"`).
* `build_did_document` lists every key (current and retired) as a `Multikey` verification method
  and in `assertionMethod` (never `authentication`: the keys only sign credentials), so credentials
  signed with a retired key still verify; a compromised key is left out, so nothing signed with it
  does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .errors import DidError, KeyFormatError, KeyNotFoundError
from .keys import Ed25519PublicKey, public_key_from_multibase, public_key_to_multibase
from .loader import DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT

#: A function from a verification method id (DID URL) to the Ed25519 public key it names.
KeyResolver = Callable[[str], Ed25519PublicKey]


def did_web_from_url(url: str) -> str:
    """The did:web DID for a site URL: host (port as `%3A<port>`), then path segments by `:`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DidError(f"not an http(s) URL with a host: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise DidError(f"a did:web site URL has no query, fragment or credentials: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        raise DidError("did:web does not support IPv6 literal hosts")
    if parts.port is not None:
        host += f"%3A{parts.port}"
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments and segments[-1] == "did.json":
        segments.pop()
    if segments == [".well-known"]:
        segments = []
    return ":".join(["did", "web", host, *(quote(s, safe="") for s in segments)])


def did_web_document_url(did: str, *, scheme: str = "https") -> str:
    """The URL of a did:web DID's document (`/.well-known/did.json` or `/<path>/did.json`)."""
    if scheme not in ("http", "https"):
        raise DidError("scheme must be 'http' or 'https'")
    did = did.split("#", 1)[0]
    if not did.startswith("did:web:") or did == "did:web:":
        raise DidError(f"not a did:web DID: {did!r}")
    host, *segments = did[len("did:web:") :].split(":")
    if not host or any(not s for s in segments):
        raise DidError(f"malformed did:web DID: {did!r}")
    host = unquote(host)
    if "/" in host or "@" in host:
        raise DidError(f"malformed did:web host in {did!r}")
    path = "/".join(quote(unquote(s), safe="") for s in segments)
    if path:
        return f"{scheme}://{host}/{path}/did.json"
    return f"{scheme}://{host}/.well-known/did.json"


# --- did:key -----------------------------------------------------------------------------------


def did_key_from_public_key(key: Ed25519PublicKey) -> str:
    """`did:key:z6Mk…` for an Ed25519 public key."""
    return "did:key:" + public_key_to_multibase(key)


def did_key_verification_method(key: Ed25519PublicKey) -> str:
    """The verification method id of an Ed25519 did:key: `did:key:z6Mk…#z6Mk…`."""
    multikey = public_key_to_multibase(key)
    return f"did:key:{multikey}#{multikey}"


def resolve_did_key(did_or_method: str) -> Ed25519PublicKey:
    """The Ed25519 public key of a `did:key:z6Mk…` DID or its `#z6Mk…` verification method.

    Offline: the key is in the identifier. Raises `KeyNotFoundError` if it is not a valid Ed25519
    did:key or the fragment does not name the same key.
    """
    if not isinstance(did_or_method, str) or not did_or_method.startswith("did:key:"):
        raise KeyNotFoundError(f"not a did:key identifier: {did_or_method!r}")
    did, _, fragment = did_or_method.partition("#")
    multikey = did[len("did:key:") :]
    if fragment and fragment != multikey:
        raise KeyNotFoundError(f"did:key fragment does not name the DID's key: {did_or_method!r}")
    try:
        return public_key_from_multibase(multikey)
    except KeyFormatError as error:
        raise KeyNotFoundError(f"{did_or_method!r} is not an Ed25519 did:key: {error}") from None


# --- DID documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DidKey:
    """One key of a DID document: its fragment (`key-1`) and its public key (or `z6Mk…`)."""

    fragment: str
    public_key: Ed25519PublicKey | str

    @property
    def public_key_multibase(self) -> str:
        """The Multikey `publicKeyMultibase` of this key."""
        if isinstance(self.public_key, str):
            public_key_from_multibase(self.public_key)  # validate
            return self.public_key
        return public_key_to_multibase(self.public_key)


def build_did_document(
    did: str,
    keys: Sequence[DidKey],
    *,
    also_known_as: Sequence[str] = (),
) -> dict[str, Any]:
    """A DID document for `did` listing every key as `Multikey`, in `assertionMethod` only.

    Keep retired keys in `keys`: a credential signed with one must still verify; leave out a
    compromised key, so that nothing signed with it verifies. The keys sign credentials and
    nothing else, so none is listed in `authentication` (a DID that proves control of itself by
    logging in somewhere would need a key of its own there).
    """
    if not did.startswith("did:") or "#" in did:
        raise DidError(f"not a DID: {did!r}")
    if not keys:
        raise DidError("a DID document needs at least one key")
    methods = []
    seen: set[str] = set()
    for key in keys:
        if not key.fragment or "#" in key.fragment or key.fragment in seen:
            raise DidError(f"key fragments must be unique, non-empty and without '#': {key.fragment!r}")
        seen.add(key.fragment)
        methods.append(
            {
                "id": f"{did}#{key.fragment}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
        )
    ids = [m["id"] for m in methods]
    document: dict[str, Any] = {
        "@context": [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT],
        "id": did,
    }
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    document["verificationMethod"] = methods
    document["assertionMethod"] = list(ids)
    return document


def _absolute(reference: str, did: str) -> str:
    return did + reference if reference.startswith("#") else reference


def assertion_keys(did_document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Verification method id → public key for every Multikey the document lists in assertionMethod.

    Keys not named in `assertionMethod` (or whose controller is another DID) are left out, since
    they are not allowed to sign credentials for this DID.
    """
    did = did_document.get("id")
    if not isinstance(did, str):
        raise DidError("DID document has no id")
    methods: dict[str, Mapping[str, Any]] = {}
    for method in did_document.get("verificationMethod", []) or []:
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            methods[_absolute(method["id"], did)] = method
    result: dict[str, Ed25519PublicKey] = {}
    for entry in did_document.get("assertionMethod", []) or []:
        if isinstance(entry, str):
            method_id = _absolute(entry, did)
            method = methods.get(method_id)
        elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            method_id = _absolute(entry["id"], did)
            method = entry
        else:
            continue
        if method is None or method.get("type") != "Multikey":
            continue
        if method.get("controller", did) != did:
            continue
        try:
            result[method_id] = public_key_from_multibase(method.get("publicKeyMultibase", ""))
        except KeyFormatError:
            continue
    return result


def make_key_resolver(
    did_documents: Iterable[Mapping[str, Any]] = (),
    *,
    allow_did_key: bool = True,
) -> KeyResolver:
    """A key resolver for `proof.verify` over DID documents the caller already holds (offline).

    Resolves verification methods listed in an `assertionMethod` of one of `did_documents`, and
    (unless `allow_did_key=False`) any Ed25519 `did:key`. Raises `KeyNotFoundError` otherwise.
    """
    table: dict[str, Ed25519PublicKey] = {}
    for document in did_documents:
        table.update(assertion_keys(document))

    def resolve(method_id: str) -> Ed25519PublicKey:
        key = table.get(method_id)
        if key is not None:
            return key
        if allow_did_key and isinstance(method_id, str) and method_id.startswith("did:key:"):
            return resolve_did_key(method_id)
        raise KeyNotFoundError(f"verification method {method_id!r} is not a known assertion key")

    return resolve
