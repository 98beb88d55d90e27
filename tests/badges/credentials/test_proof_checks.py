"""Every refusal of the proof checks (`_check_proof_shape`, `_verify_one`), named exactly: the reason,
the words a verifier shows, the verification method reported, and which proof failed. The expected
values are literals written from the Data Integrity rules, never read back from the code."""

from __future__ import annotations

import copy

import pytest

from badges.credentials import (
    CredentialError,
    KeyNotFoundError,
    VerificationFailure,
    VerificationResult,
    generate_private_key,
    sign,
    verify,
)
from badges.credentials.errors import CanonicalizationError, UnknownContextError, UnsafeDocumentError
from badges.credentials.loader import default_loader
from badges.credentials.multibase import base58btc_encode
from badges.credentials.proof import _check_proof_shape, _verify_one, get_default_canonicalizer

from .factories import Parties, credential, seeded_key

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture
def signed(parties: Parties) -> dict:
    return sign(credential(parties), parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")


def result_of(document: dict, parties: Parties, **options) -> tuple:
    result = verify(document, parties.resolver(), **options)
    return result.verified, result.reason, result.message, result.verification_method, result.proofs_checked


def with_proof(signed: dict, **changes) -> dict:
    altered = copy.deepcopy(signed)
    for key, value in changes.items():
        if value is ...:
            del altered["proof"][0][key]
        else:
            altered["proof"][0][key] = value
    return altered


# --- the shape of a proof ---------------------------------------------------------------------------
def test_the_untouched_credential_verifies_with_its_method_and_one_proof(signed: dict, parties: Parties) -> None:
    assert result_of(signed, parties) == (True, None, "verified", parties.org_method, 1)


@pytest.mark.parametrize("proof", [42, "a proof", ["a", "list"], None])
def test_a_proof_that_is_not_an_object_is_malformed(signed: dict, parties: Parties, proof: object) -> None:
    document = {**signed, "proof": [proof]}
    assert result_of(document, parties) == (
        False, VerificationFailure.MALFORMED_PROOF, "proof is not a JSON object", None, 1)


def test_another_proof_type_is_named_in_the_refusal(signed: dict, parties: Parties) -> None:
    assert result_of(with_proof(signed, type="Ed25519Signature2020"), parties) == (
        False, VerificationFailure.UNSUPPORTED_PROOF_TYPE,
        "proof type 'Ed25519Signature2020' is not supported (only DataIntegrityProof)", None, 1)
    assert result_of(with_proof(signed, type=...), parties)[1:3] == (
        VerificationFailure.UNSUPPORTED_PROOF_TYPE, "proof type None is not supported (only DataIntegrityProof)")


def test_another_cryptosuite_is_named_in_the_refusal(signed: dict, parties: Parties) -> None:
    assert result_of(with_proof(signed, cryptosuite="ecdsa-rdfc-2019"), parties) == (
        False, VerificationFailure.UNKNOWN_CRYPTOSUITE,
        "cryptosuite 'ecdsa-rdfc-2019' is not supported (only eddsa-rdfc-2022)", None, 1)
    assert result_of(with_proof(signed, cryptosuite=...), parties)[1:3] == (
        VerificationFailure.UNKNOWN_CRYPTOSUITE, "cryptosuite None is not supported (only eddsa-rdfc-2022)")


@pytest.mark.parametrize("method", [..., "", 7, ["did:web:x#key-1"]])
def test_a_proof_without_a_verification_method_is_malformed(signed: dict, parties: Parties, method: object) -> None:
    assert result_of(with_proof(signed, verificationMethod=method), parties) == (
        False, VerificationFailure.MALFORMED_PROOF, "proof has no verificationMethod", None, 1)


def test_a_proof_for_another_purpose_is_refused_and_accepted_where_that_purpose_is_expected(
    parties: Parties,
) -> None:
    document = sign(credential(parties), parties.org_key, parties.org_method, "2025-03-01T10:00:05Z",
                    proof_purpose="authentication")
    assert result_of(document, parties) == (
        False, VerificationFailure.WRONG_PROOF_PURPOSE,
        "proofPurpose is 'authentication', expected 'assertionMethod'", parties.org_method, 1)
    assert result_of(document, parties, expected_proof_purpose="authentication") == (
        True, None, "verified", parties.org_method, 1)
    signed = sign(credential(parties), parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")
    assert result_of(signed, parties, expected_proof_purpose="authentication")[1:3] == (
        VerificationFailure.WRONG_PROOF_PURPOSE, "proofPurpose is 'assertionMethod', expected 'authentication'")


@pytest.mark.parametrize("created", [20250301, None, ["2025-03-01T10:00:05Z"]])
def test_a_created_that_is_not_a_string_is_malformed(signed: dict, parties: Parties, created: object) -> None:
    assert result_of(with_proof(signed, created=created), parties) == (
        False, VerificationFailure.MALFORMED_PROOF, "proof created is not a string", parties.org_method, 1)


def test_a_proof_without_created_is_checked_by_its_signature(signed: dict, parties: Parties) -> None:
    # `created` is optional in Data Integrity; here it was signed, so dropping it breaks the signature.
    assert result_of(with_proof(signed, created=...), parties)[1] is VerificationFailure.SIGNATURE_MISMATCH


def signature_bytes(signed: dict) -> bytes:
    from badges.credentials.multibase import base58btc_decode

    return base58btc_decode(signed["proof"][0]["proofValue"][1:])


@pytest.mark.parametrize("make_value", [
    lambda sig: base58btc_encode(sig),  # the right bytes without the multibase prefix
    lambda sig: "u" + base58btc_encode(sig),  # another prefix
    lambda sig: "z" + base58btc_encode(sig[:63]),
    lambda sig: "z" + base58btc_encode(sig + b"\x01"),
    lambda sig: "z" + base58btc_encode(sig)[:-1] + "0",  # "0" is not a base58btc digit
    lambda sig: "z",
    lambda sig: None,
    lambda sig: list(sig),
])
def test_a_proof_value_that_is_not_z_base58btc_of_64_bytes_is_malformed(
    signed: dict, parties: Parties, make_value
) -> None:
    value = make_value(signature_bytes(signed))
    assert result_of(with_proof(signed, proofValue=value), parties) == (
        False, VerificationFailure.MALFORMED_PROOF_VALUE,
        "proofValue must be 'z' + base58btc of a 64-byte Ed25519 signature", parties.org_method, 1)


def test_a_64_byte_value_of_another_signature_is_a_mismatch_not_malformed(signed: dict, parties: Parties) -> None:
    other = bytes(64)
    assert result_of(with_proof(signed, proofValue="z" + base58btc_encode(other)), parties) == (
        False, VerificationFailure.SIGNATURE_MISMATCH,
        "the signature does not match the document: it was altered or signed by another key", parties.org_method, 1)


def test_the_second_proof_failing_is_reported_as_the_second(signed: dict, parties: Parties) -> None:
    twice = sign(signed, parties.org_key, parties.org_method, "2025-03-02T00:00:00Z")
    twice["proof"][1]["cryptosuite"] = "bbs-2023"
    assert result_of(twice, parties) == (
        False, VerificationFailure.UNKNOWN_CRYPTOSUITE,
        "cryptosuite 'bbs-2023' is not supported (only eddsa-rdfc-2022)", None, 2)


# --- the proof's @context -----------------------------------------------------------------------------
def test_a_proof_context_that_starts_the_documents_verifies(signed: dict, parties: Parties) -> None:
    whole = with_proof(signed, **{"@context": list(signed["@context"])})
    assert result_of(whole, parties) == (True, None, "verified", parties.org_method, 1)


def test_a_proof_context_that_only_starts_the_documents_is_used_for_both_and_breaks_the_signature(
    signed: dict, parties: Parties
) -> None:
    # The first context alone: the document is then read with it, and the OB terms become undefined.
    start = with_proof(signed, **{"@context": [signed["@context"][0]]})
    assert result_of(start, parties)[1] is VerificationFailure.UNSAFE_DOCUMENT
    as_text = with_proof(signed, **{"@context": signed["@context"][0]})
    assert result_of(as_text, parties)[1] is VerificationFailure.UNSAFE_DOCUMENT


@pytest.mark.parametrize("proof_context", [
    ["https://www.w3.org/ns/did/v1"],
    "https://www.w3.org/ns/did/v1",
    "reversed",
    "longer",
])
def test_a_proof_context_that_does_not_start_the_documents_is_a_mismatch(
    signed: dict, parties: Parties, proof_context: object
) -> None:
    if proof_context == "reversed":
        proof_context = list(reversed(signed["@context"]))
    elif proof_context == "longer":
        proof_context = [*signed["@context"], "https://www.w3.org/ns/did/v1"]
    document = with_proof(signed, **{"@context": proof_context})
    assert result_of(document, parties) == (
        False, VerificationFailure.CONTEXT_MISMATCH, "the proof's @context does not start the document's @context",
        parties.org_method, 1)


def single_context_document(issuer: str | None) -> dict:
    document = {
        "@context": VC_CONTEXT,
        "type": ["VerifiableCredential"],
        "validFrom": "2025-03-01T10:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    if issuer is not None:
        document["issuer"] = issuer
    return document


def test_a_document_with_one_context_as_a_string_and_its_proof_carrying_it(parties: Parties) -> None:
    document = sign(single_context_document(parties.org_did), parties.org_key, parties.org_method,
                    "2025-03-01T10:00:05Z")
    for proof_context in (VC_CONTEXT, [VC_CONTEXT]):
        carried = with_proof(document, **{"@context": proof_context})
        assert result_of(carried, parties) == (True, None, "verified", parties.org_method, 1)
    other = with_proof(document, **{"@context": "https://www.w3.org/ns/did/v1"})
    assert result_of(other, parties)[1] is VerificationFailure.CONTEXT_MISMATCH


# --- the issuer and the key ---------------------------------------------------------------------------
def test_a_method_of_another_did_names_both_in_the_refusal(parties: Parties) -> None:
    document = sign(credential(parties), parties.body_key, parties.body_method, "2025-03-01T10:00:05Z")
    assert result_of(document, parties) == (
        False, VerificationFailure.ISSUER_MISMATCH,
        f"verification method '{parties.body_method}' is not controlled by the issuer '{parties.org_did}'",
        parties.body_method, 1)
    assert result_of(document, parties, check_issuer=False) == (True, None, "verified", parties.body_method, 1)


def test_the_controller_is_the_method_up_to_its_first_hash(parties: Parties) -> None:
    # "did#key-1#x" is controlled by "did" (the DID URL's fragment may hold another "#"): the issuer
    # check passes, and the key is then simply unknown.
    method = parties.org_method + "#x"
    document = sign(credential(parties), parties.org_key, method, "2025-03-01T10:00:05Z")
    verified, reason, message, reported, checked = result_of(document, parties)
    assert (verified, reason, reported, checked) == (False, VerificationFailure.KEY_NOT_FOUND, method, 1)
    assert message.startswith("key not found: ")


def test_a_document_without_issuer_is_not_held_to_an_issuer(parties: Parties) -> None:
    document = sign(single_context_document(None), parties.body_key, parties.body_method, "2025-03-01T10:00:05Z")
    assert result_of(document, parties) == (True, None, "verified", parties.body_method, 1)


def test_a_key_the_resolver_does_not_know_is_not_found_with_its_words(signed: dict) -> None:
    def unknown(method: str):
        raise KeyNotFoundError(f"no key {method}")

    result = verify(signed, unknown)
    assert (result.reason, result.message, result.verification_method) == (
        VerificationFailure.KEY_NOT_FOUND, f"key not found: no key {signed['proof'][0]['verificationMethod']}",
        signed["proof"][0]["verificationMethod"])

    def other_credential_error(method: str):
        raise CredentialError("the DID document is not JSON")

    assert verify(signed, other_credential_error).message == "key not found: the DID document is not JSON"


def test_a_resolver_that_fails_otherwise_is_reported_as_a_failed_resolution(signed: dict) -> None:
    def broken(method: str):
        raise ValueError("the resolver broke")

    result = verify(signed, broken)
    assert (result.reason, result.message, result.verification_method) == (
        VerificationFailure.KEY_NOT_FOUND, "key resolution failed: the resolver broke",
        signed["proof"][0]["verificationMethod"])


@pytest.mark.parametrize("answer", [None, "z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", b"\x00" * 32])
def test_a_resolver_that_gives_no_ed25519_key_is_not_found(signed: dict, answer: object) -> None:
    method = signed["proof"][0]["verificationMethod"]
    result = verify(signed, lambda _m: answer)
    assert (result.reason, result.message, result.verification_method) == (
        VerificationFailure.KEY_NOT_FOUND, f"no Ed25519 key for '{method}'", method)


def test_a_public_key_of_the_right_kind_but_another_party_is_a_signature_mismatch(signed: dict) -> None:
    other = generate_private_key().public_key()
    result = verify(signed, lambda _m: other)
    assert (result.reason, result.message) == (
        VerificationFailure.SIGNATURE_MISMATCH,
        "the signature does not match the document: it was altered or signed by another key")


# --- canonicalization failures, each with its reason -----------------------------------------------
def canonicalizer_raising(error: Exception):
    def canonicalize(document, loader):
        raise error
    return canonicalize


@pytest.mark.parametrize(("error", "reason"), [
    (UnknownContextError("the context https://x.example/ is not bundled"), VerificationFailure.UNKNOWN_CONTEXT),
    (UnsafeDocumentError("the term hours is not defined"), VerificationFailure.UNSAFE_DOCUMENT),
    (CanonicalizationError("too many blank nodes"), VerificationFailure.MALFORMED_DOCUMENT),
    (CredentialError("not JSON-LD"), VerificationFailure.MALFORMED_DOCUMENT),
])
def test_each_canonicalization_error_gives_its_reason_and_its_words(
    signed: dict, parties: Parties, error: Exception, reason: VerificationFailure
) -> None:
    result = verify(signed, parties.resolver(), canonicalizer=canonicalizer_raising(error))
    assert (result.verified, result.reason, result.message, result.verification_method, result.proofs_checked) == (
        False, reason, str(error), parties.org_method, 1)


def test_canonicalization_that_fails_unexpectedly_is_reported_not_raised(signed: dict, parties: Parties) -> None:
    result = verify(signed, parties.resolver(), canonicalizer=canonicalizer_raising(RuntimeError("boom")))
    assert (result.reason, result.message) == (VerificationFailure.MALFORMED_DOCUMENT,
                                               "could not verify: RuntimeError('boom')")


# --- _verify_one itself (what verify() builds its answer from) ------------------------------------
def test_verify_one_answers_verified_with_the_method_for_one_good_proof(signed: dict, parties: Parties) -> None:
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    result = _verify_one(signed, unsecured, signed["proof"][0], parties.resolver(), default_loader(),
                         get_default_canonicalizer(), "assertionMethod", True)
    assert result == VerificationResult(True, None, "verified", parties.org_method, 1)


def test_verify_one_checks_the_issuer_only_when_asked(parties: Parties) -> None:
    document = sign(credential(parties), seeded_key("body-key-1"), parties.body_method, "2025-03-01T10:00:05Z")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    arguments = (document, unsecured, document["proof"][0], parties.resolver(), default_loader(),
                 get_default_canonicalizer(), "assertionMethod")
    assert _verify_one(*arguments, False) == VerificationResult(True, None, "verified", parties.body_method, 1)
    refused = _verify_one(*arguments, True)
    assert (refused.verified, refused.reason, refused.proofs_checked) == (
        False, VerificationFailure.ISSUER_MISMATCH, 0)


# --- _check_proof_shape's whole answer: nothing is handed on with a refusal --------------------------
@pytest.mark.parametrize("change", [
    {"type": "Ed25519Signature2020"}, {"cryptosuite": "bbs-2023"}, {"verificationMethod": ""},
    {"proofPurpose": "authentication"}, {"created": 5}, {"proofValue": "z1"}, "not an object",
])
def test_a_refused_proof_shape_hands_on_no_signature_and_only_a_method_it_read(signed: dict, change) -> None:
    proof = change if isinstance(change, str) else {**signed["proof"][0], **change}
    failure, signature, method = _check_proof_shape(proof, "assertionMethod")
    assert failure is not None and failure.verified is False
    assert signature == b""
    read = isinstance(change, dict) and ("proofPurpose" in change or "created" in change or "proofValue" in change)
    assert method == (signed["proof"][0]["verificationMethod"] if read else "")
    assert failure.verification_method == (method or None)


def test_an_accepted_proof_shape_hands_on_the_decoded_signature_and_the_method(signed: dict) -> None:
    proof = signed["proof"][0]
    assert _check_proof_shape(proof, "assertionMethod") == (None, signature_bytes(signed),
                                                            proof["verificationMethod"])


# --- the loader given to verify is the one canonicalization uses ------------------------------------
def test_verify_reads_contexts_with_the_loader_it_is_given(parties: Parties, examples_loader) -> None:
    document = single_context_document(parties.org_did)
    document["@context"] = [VC_CONTEXT, EXAMPLES_CONTEXT]
    document["credentialSubject"]["favouriteColour"] = "blue"  # defined by the examples' @vocab
    signed = sign(document, parties.org_key, parties.org_method, "2025-03-01T10:00:05Z", loader=examples_loader)
    assert result_of(signed, parties, loader=examples_loader) == (True, None, "verified", parties.org_method, 1)
    verified, reason, message, method, _ = result_of(signed, parties)
    assert (verified, reason, method) == (False, VerificationFailure.UNKNOWN_CONTEXT, parties.org_method)
    assert EXAMPLES_CONTEXT in message
    # The proof configuration is canonicalized with it too: a proof carrying the examples context.
    carried = with_proof(signed, **{"@context": [VC_CONTEXT, EXAMPLES_CONTEXT]})
    assert result_of(carried, parties, loader=examples_loader)[:2] == (True, None)
