"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C Data Integrity EdDSA v1.0).

Signing (spec §3.2.x, interop notes 6, 7, 9, 10):

1. proof options `{type, cryptosuite, created, verificationMethod, proofPurpose}`; the proof
   configuration is the options plus the document's `@context`;
2. canonicalize the configuration and the document without `proof` (URDNA2015, safe mode);
3. hash data = sha256(canonical configuration) || sha256(canonical document) (64 bytes);
4. Ed25519 signature of the hash data; `proofValue` = `z` + base58btc(signature);
5. the emitted proof carries no `@context`; `proof` is always written as an array.

`verify` never raises for a bad document: it returns a `VerificationResult` with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature

from . import canon
from .builders import issuer_id, json_copy
from .errors import (
    CanonicalizationError,
    CredentialError,
    KeyNotFoundError,
    MultibaseError,
    ProofError,
    UnknownContextError,
    UnsafeDocumentError,
)
from .fastcanon import fast_canonicalizer
from .keys import Ed25519PrivateKey, Ed25519PublicKey
from .loader import StaticDocumentLoader, default_loader
from .multibase import base58btc_decode, base58btc_encode
from .timeutil import format_datetime, is_utc_timestamp

JsonDict = dict[str, Any]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION_METHOD = "assertionMethod"

#: Turns a JSON-LD document into canonical N-Quads (safe mode); `canon.canonicalize` by default.
Canonicalizer = Callable[[JsonDict, StaticDocumentLoader], str]
#: Resolves a verification method id to its public key (may raise `KeyNotFoundError`).
KeyResolver = Callable[[str], Ed25519PublicKey | None]

def plain_canonicalizer(document: JsonDict, loader: StaticDocumentLoader) -> str:
    """pyld end to end (one safe expansion, pyld's RDF conversion and URDNA2015)."""
    return canon.canonicalize(document, loader)


#: The default: byte-identical to `plain_canonicalizer` (see fastcanon and its differential tests).
_default_canonicalizer: Canonicalizer = fast_canonicalizer
_canonicalizer: Canonicalizer = _default_canonicalizer


def set_default_canonicalizer(canonicalizer: Canonicalizer | None) -> None:
    """Choose the canonicalizer `sign` and `verify` use when none is passed (None: the fast one)."""
    global _canonicalizer
    _canonicalizer = canonicalizer or _default_canonicalizer


def get_default_canonicalizer() -> Canonicalizer:
    """The canonicalizer `sign` and `verify` use when none is passed."""
    return _canonicalizer


class VerificationFailure(StrEnum):
    """Why a document did not verify."""

    NOT_A_DOCUMENT = "not_a_document"
    NO_PROOF = "no_proof"
    MALFORMED_PROOF = "malformed_proof"
    UNSUPPORTED_PROOF_TYPE = "unsupported_proof_type"
    UNKNOWN_CRYPTOSUITE = "unknown_cryptosuite"
    WRONG_PROOF_PURPOSE = "wrong_proof_purpose"
    MALFORMED_PROOF_VALUE = "malformed_proof_value"
    CONTEXT_MISMATCH = "context_mismatch"
    ISSUER_MISMATCH = "issuer_mismatch"
    KEY_NOT_FOUND = "key_not_found"
    UNKNOWN_CONTEXT = "unknown_context"
    UNSAFE_DOCUMENT = "unsafe_document"
    MALFORMED_DOCUMENT = "malformed_document"
    SIGNATURE_MISMATCH = "signature_mismatch"


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of `verify`: `verified`, and when not, a `reason` and a readable `message`."""

    verified: bool
    reason: VerificationFailure | None = None
    message: str = ""
    verification_method: str | None = None
    proofs_checked: int = 0

    def __bool__(self) -> bool:
        return self.verified


def _fail(
    reason: VerificationFailure, message: str, method: str | None = None, checked: int = 0
) -> VerificationResult:
    return VerificationResult(False, reason, message, method, checked)


def hash_data(canonical_proof_config: str, canonical_document: str) -> bytes:
    """sha256(canonical proof configuration) || sha256(canonical document): the 64 signed bytes."""
    return (
        hashlib.sha256(canonical_proof_config.encode("utf-8")).digest()
        + hashlib.sha256(canonical_document.encode("utf-8")).digest()
    )


def proof_configuration(proof_options: JsonDict, document_context: Any) -> JsonDict:
    """The proof options with the document's `@context` (what is canonicalized, not emitted)."""
    config = {k: v for k, v in proof_options.items() if k not in ("proofValue", "@context")}
    config["@context"] = json_copy(document_context)
    return config


def _split_proofs(document: JsonDict) -> tuple[JsonDict, list[Any]]:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proofs = document.get("proof")
    if proofs is None:
        return unsecured, []
    return unsecured, list(proofs) if isinstance(proofs, list) else [proofs]


def create_proof(
    document: JsonDict,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | str | None = None,
    *,
    loader: StaticDocumentLoader | None = None,
    proof_purpose: str = ASSERTION_METHOD,
    canonicalizer: Canonicalizer | None = None,
) -> JsonDict:
    """The `eddsa-rdfc-2022` proof object for `document` (its existing proofs are not signed)."""
    if not isinstance(document, dict) or "@context" not in document:
        raise ProofError("only a JSON-LD object with an @context can be signed")
    if not isinstance(verification_method, str) or not verification_method:
        raise ProofError("verification_method must be a DID URL string")
    if isinstance(created, datetime) or created is None:
        created_text = format_datetime(created)
    elif is_utc_timestamp(created):
        created_text = created
    else:
        raise ProofError(f"created must be a datetime or 'YYYY-MM-DDTHH:MM:SSZ', not {created!r}")
    loader = loader or default_loader()
    canonicalize = canonicalizer or _canonicalizer
    unsecured, _ = _split_proofs(document)
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created_text,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    canonical_config = canonicalize(proof_configuration(options, document["@context"]), loader)
    canonical_document = canonicalize(unsecured, loader)
    signature = private_key.sign(hash_data(canonical_config, canonical_document))
    return {**options, "proofValue": "z" + base58btc_encode(signature)}


def sign(
    document: JsonDict,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | str | None = None,
    *,
    loader: StaticDocumentLoader | None = None,
    proof_purpose: str = ASSERTION_METHOD,
    canonicalizer: Canonicalizer | None = None,
) -> JsonDict:
    """A signed copy of `document`, with its new proof appended to the `proof` array.

    Raises `UnsafeDocumentError` (undefined term, relative IRI, control character),
    `UnknownContextError`, `CanonicalizationError` or `ProofError`; never signs a document whose
    JSON shows more than the signature covers. The input is not modified.
    """
    proof = create_proof(
        document,
        private_key,
        verification_method,
        created,
        loader=loader,
        proof_purpose=proof_purpose,
        canonicalizer=canonicalizer,
    )
    signed = json_copy(document)
    _, existing = _split_proofs(document)
    signed["proof"] = [*json_copy(existing), proof]
    return signed


def _check_proof_shape(
    proof: Any, expected_purpose: str
) -> tuple[VerificationResult | None, bytes, str]:
    if not isinstance(proof, dict):
        return _fail(VerificationFailure.MALFORMED_PROOF, "proof is not a JSON object"), b"", ""
    if proof.get("type") != PROOF_TYPE:
        return (
            _fail(
                VerificationFailure.UNSUPPORTED_PROOF_TYPE,
                f"proof type {proof.get('type')!r} is not supported (only {PROOF_TYPE})",
            ),
            b"",
            "",
        )
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return (
            _fail(
                VerificationFailure.UNKNOWN_CRYPTOSUITE,
                f"cryptosuite {proof.get('cryptosuite')!r} is not supported (only {CRYPTOSUITE})",
            ),
            b"",
            "",
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return _fail(VerificationFailure.MALFORMED_PROOF, "proof has no verificationMethod"), b"", ""
    if proof.get("proofPurpose") != expected_purpose:
        return (
            _fail(
                VerificationFailure.WRONG_PROOF_PURPOSE,
                f"proofPurpose is {proof.get('proofPurpose')!r}, expected {expected_purpose!r}",
                method,
            ),
            b"",
            method,
        )
    if "created" in proof and not isinstance(proof["created"], str):
        failure = _fail(VerificationFailure.MALFORMED_PROOF, "proof created is not a string", method)
        return failure, b"", method
    value = proof.get("proofValue")
    signature = b""
    if isinstance(value, str) and value.startswith("z"):
        try:
            signature = base58btc_decode(value[1:])
        except MultibaseError:
            signature = b""
    if len(signature) != 64:
        return (
            _fail(
                VerificationFailure.MALFORMED_PROOF_VALUE,
                "proofValue must be 'z' + base58btc of a 64-byte Ed25519 signature",
                method,
            ),
            b"",
            method,
        )
    return None, signature, method


def _verify_one(
    document: JsonDict,
    unsecured: JsonDict,
    proof: Any,
    resolve_key: KeyResolver,
    loader: StaticDocumentLoader,
    canonicalize: Canonicalizer,
    expected_purpose: str,
    check_issuer: bool,
) -> VerificationResult:
    failure, signature, method = _check_proof_shape(proof, expected_purpose)
    if failure is not None:
        return failure
    context = document.get("@context")
    if "@context" in proof:
        # Data Integrity (verify proof): the proof's @context must start the document's, and is
        # then used as the @context of both the unsecured document and the proof configuration.
        proof_context = proof["@context"]
        doc_list = context if isinstance(context, list) else [context]
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        if doc_list[: len(proof_list)] != proof_list:
            return _fail(
                VerificationFailure.CONTEXT_MISMATCH,
                "the proof's @context does not start the document's @context",
                method,
            )
        context = proof_context
        unsecured = {**unsecured, "@context": proof_context}
    if check_issuer:
        issuer = issuer_id(document)
        controller = method.partition("#")[0]
        if issuer is not None and issuer != controller:
            return _fail(
                VerificationFailure.ISSUER_MISMATCH,
                f"verification method {method!r} is not controlled by the issuer {issuer!r}",
                method,
            )
    try:
        public_key = resolve_key(method)
    except CredentialError as error:
        return _fail(VerificationFailure.KEY_NOT_FOUND, f"key not found: {error}", method)
    except Exception as error:
        return _fail(VerificationFailure.KEY_NOT_FOUND, f"key resolution failed: {error}", method)
    if not isinstance(public_key, Ed25519PublicKey):
        return _fail(VerificationFailure.KEY_NOT_FOUND, f"no Ed25519 key for {method!r}", method)
    try:
        canonical_config = canonicalize(proof_configuration(proof, context), loader)
        canonical_document = canonicalize(unsecured, loader)
    except UnknownContextError as error:
        return _fail(VerificationFailure.UNKNOWN_CONTEXT, str(error), method)
    except UnsafeDocumentError as error:
        return _fail(VerificationFailure.UNSAFE_DOCUMENT, str(error), method)
    except (CanonicalizationError, CredentialError) as error:
        return _fail(VerificationFailure.MALFORMED_DOCUMENT, str(error), method)
    try:
        public_key.verify(signature, hash_data(canonical_config, canonical_document))
    except InvalidSignature:
        return _fail(
            VerificationFailure.SIGNATURE_MISMATCH,
            "the signature does not match the document: it was altered or signed by another key",
            method,
        )
    return VerificationResult(True, None, "verified", method, 1)


def verify(
    document: Any,
    resolve_key: KeyResolver,
    *,
    loader: StaticDocumentLoader | None = None,
    expected_proof_purpose: str = ASSERTION_METHOD,
    check_issuer: bool = True,
    canonicalizer: Canonicalizer | None = None,
) -> VerificationResult:
    """Verify every `eddsa-rdfc-2022` proof of `document` (`proof` as an array or one object).

    `resolve_key` maps a verification method id to its Ed25519 public key (raising
    `KeyNotFoundError` or returning None when unknown). With `check_issuer` (the default) the
    verification method must belong to the DID named as `issuer` (interop note 8). Never raises
    for a bad document: the result says why it failed.
    """
    if not isinstance(document, dict):
        return _fail(VerificationFailure.NOT_A_DOCUMENT, "a credential must be a JSON object")
    unsecured, proofs = _split_proofs(document)
    if not proofs:
        return _fail(VerificationFailure.NO_PROOF, "the document has no proof")
    if "@context" not in document:
        return _fail(VerificationFailure.MALFORMED_DOCUMENT, "the document has no @context")
    loader = loader or default_loader()
    canonicalize = canonicalizer or _canonicalizer
    method = None
    for count, proof in enumerate(proofs, start=1):
        try:
            result = _verify_one(
                document,
                unsecured,
                proof,
                resolve_key,
                loader,
                canonicalize,
                expected_proof_purpose,
                check_issuer,
            )
        except Exception as error:  # a verifier of untrusted input must not raise
            return _fail(VerificationFailure.MALFORMED_DOCUMENT, f"could not verify: {error!r}")
        if not result.verified:
            return VerificationResult(False, result.reason, result.message, result.verification_method, count)
        method = result.verification_method
    return VerificationResult(True, None, "verified", method, len(proofs))


__all__ = [
    "ASSERTION_METHOD",
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "Canonicalizer",
    "KeyNotFoundError",
    "KeyResolver",
    "VerificationFailure",
    "VerificationResult",
    "create_proof",
    "format_datetime",
    "get_default_canonicalizer",
    "hash_data",
    "plain_canonicalizer",
    "proof_configuration",
    "set_default_canonicalizer",
    "sign",
    "verify",
]
