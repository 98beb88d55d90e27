"""eddsa-rdfc-2022 sign and verify on the real credential: round trips and every failure reason."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from badges.credentials import (
    KeyNotFoundError,
    ProofError,
    UnknownContextError,
    UnsafeDocumentError,
    VerificationFailure,
    generate_private_key,
    make_key_resolver,
    sign,
    verify,
)
from badges.credentials.multibase import base58btc_encode

from .factories import Parties, credential


@pytest.fixture
def signed(parties: Parties) -> dict:
    return sign(credential(parties), parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")


def test_a_signed_credential_has_one_data_integrity_proof_in_an_array(signed: dict, parties: Parties) -> None:
    assert isinstance(signed["proof"], list) and len(signed["proof"]) == 1
    proof = signed["proof"][0]
    assert list(proof) == [
        "type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue",
    ]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2025-03-01T10:00:05Z"
    assert proof["verificationMethod"] == parties.org_method
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["proofValue"].startswith("z")
    assert "@context" not in proof


def test_signing_does_not_modify_the_input(parties: Parties) -> None:
    document = credential(parties)
    before = copy.deepcopy(document)
    sign(document, parties.org_key, parties.org_method)
    assert document == before


def test_signing_is_deterministic_for_the_same_created_time(parties: Parties) -> None:
    document = credential(parties)
    first = sign(document, parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")
    second = sign(document, parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")
    assert first == second


def test_created_defaults_to_now_in_utc_seconds_and_accepts_aware_datetimes(parties: Parties) -> None:
    document = credential(parties)
    created = sign(document, parties.org_key, parties.org_method)["proof"][0]["created"]
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 5
    tokyo = datetime(2025, 3, 1, 19, 0, 5, 123456, tzinfo=timezone(timedelta(hours=9)))
    assert sign(document, parties.org_key, parties.org_method, tokyo)["proof"][0]["created"] == (
        "2025-03-01T10:00:05Z"
    )


def test_a_created_string_in_another_format_is_refused(parties: Parties) -> None:
    with pytest.raises(ProofError):
        sign(credential(parties), parties.org_key, parties.org_method, "2025-03-01T10:00:05+09:00")


def test_the_signed_credential_and_its_embedded_endorsement_verify(signed: dict, parties: Parties) -> None:
    resolver = parties.resolver()
    result = verify(signed, resolver)
    assert result.verified and result.reason is None
    assert result.verification_method == parties.org_method
    endorsement = signed["credentialSubject"]["achievement"]["endorsement"][0]
    assert verify(endorsement, resolver).verified


def test_a_proof_given_as_a_single_object_also_verifies(signed: dict, parties: Parties) -> None:
    single = {**signed, "proof": signed["proof"][0]}
    assert verify(single, parties.resolver()).verified


def test_verification_survives_a_json_round_trip_and_key_reordering(signed: dict, parties: Parties) -> None:
    reordered = json.loads(json.dumps(signed, sort_keys=True, indent=3))
    assert verify(reordered, parties.resolver()).verified


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.__setitem__("name", "Forged name"),
        lambda d: d.__setitem__("validFrom", "2020-01-01T00:00:00Z"),
        lambda d: d["credentialSubject"]["achievement"].__setitem__("name", "Something else"),
        lambda d: d["credentialSubject"]["identifier"][0].__setitem__("salt", "00"),
        lambda d: d["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"].__setitem__(
            "endorsementComment", "forged"
        ),
        lambda d: d["proof"][0].__setitem__("created", "2025-03-01T10:00:06Z"),
        lambda d: d["credentialStatus"].__setitem__("statusListIndex", "2"),
    ],
)
def test_tampering_with_any_signed_field_fails_with_signature_mismatch(
    signed: dict, parties: Parties, tamper
) -> None:
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    result = verify(tampered, parties.resolver())
    assert not result.verified
    assert result.reason is VerificationFailure.SIGNATURE_MISMATCH


def test_a_credential_signed_with_another_key_fails(parties: Parties) -> None:
    forged = sign(credential(parties), generate_private_key(), parties.org_method)
    result = verify(forged, parties.resolver())
    assert result.reason is VerificationFailure.SIGNATURE_MISMATCH


def test_an_unknown_verification_method_fails_with_key_not_found(parties: Parties) -> None:
    signed = sign(credential(parties), parties.org_key, parties.org_did + "#key-9")
    result = verify(signed, parties.resolver())
    assert result.reason is VerificationFailure.KEY_NOT_FOUND
    assert "key-9" in result.message


def test_a_resolver_that_returns_none_or_raises_gives_key_not_found(signed: dict) -> None:
    assert verify(signed, lambda _m: None).reason is VerificationFailure.KEY_NOT_FOUND

    def boom(method: str):
        raise KeyNotFoundError(method)

    assert verify(signed, boom).reason is VerificationFailure.KEY_NOT_FOUND
    assert verify(signed, lambda _m: 1 / 0).reason is VerificationFailure.KEY_NOT_FOUND


def test_a_method_of_another_did_than_the_issuer_fails_with_issuer_mismatch(parties: Parties) -> None:
    signed = sign(credential(parties), parties.body_key, parties.body_method)
    result = verify(signed, parties.resolver())
    assert result.reason is VerificationFailure.ISSUER_MISMATCH
    assert verify(signed, parties.resolver(), check_issuer=False).verified


def test_a_document_without_proof_fails_with_no_proof(parties: Parties) -> None:
    assert verify(credential(parties), parties.resolver()).reason is VerificationFailure.NO_PROOF
    assert verify({**credential(parties), "proof": []}, parties.resolver()).reason is VerificationFailure.NO_PROOF


def test_an_unknown_cryptosuite_or_proof_type_fails_clearly(signed: dict, parties: Parties) -> None:
    other_suite = copy.deepcopy(signed)
    other_suite["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    assert verify(other_suite, parties.resolver()).reason is VerificationFailure.UNKNOWN_CRYPTOSUITE
    other_type = copy.deepcopy(signed)
    other_type["proof"][0]["type"] = "Ed25519Signature2020"
    assert verify(other_type, parties.resolver()).reason is VerificationFailure.UNSUPPORTED_PROOF_TYPE


@pytest.mark.parametrize(
    "value",
    [
        "not-multibase",
        "z0OIl",  # characters outside base58btc
        "u" + "A" * 86,  # base64url, not base58btc
        "z" + base58btc_encode(b"\x01" * 63),  # wrong length
        "",
        None,
        42,
    ],
)
def test_a_malformed_proof_value_fails_cleanly(signed: dict, parties: Parties, value: object) -> None:
    broken = copy.deepcopy(signed)
    broken["proof"][0]["proofValue"] = value
    result = verify(broken, parties.resolver())
    assert result.reason is VerificationFailure.MALFORMED_PROOF_VALUE


def test_a_wrong_proof_purpose_fails(parties: Parties) -> None:
    signed = sign(credential(parties), parties.org_key, parties.org_method, proof_purpose="authentication")
    assert verify(signed, parties.resolver()).reason is VerificationFailure.WRONG_PROOF_PURPOSE


def test_an_unknown_context_fails_verification_with_a_clear_reason_and_no_exception(
    signed: dict, parties: Parties, no_network: None
) -> None:
    altered = copy.deepcopy(signed)
    altered["@context"] = [*altered["@context"], "https://evil.example/context.jsonld"]
    result = verify(altered, parties.resolver())
    assert result.reason is VerificationFailure.UNKNOWN_CONTEXT
    assert "evil.example" in result.message


def test_signing_a_document_with_an_unknown_context_raises_unknown_context_error(parties: Parties) -> None:
    document = credential(parties)
    document["@context"].append("https://evil.example/context.jsonld")
    with pytest.raises(UnknownContextError):
        sign(document, parties.org_key, parties.org_method)


def test_a_document_with_an_undefined_term_is_refused_when_signing(parties: Parties) -> None:
    document = credential(parties)
    document["credentialSubject"]["achievement"]["hours"] = 40
    with pytest.raises(UnsafeDocumentError, match="hours"):
        sign(document, parties.org_key, parties.org_method)


def test_an_undefined_term_added_after_signing_fails_verification_as_unsafe(
    signed: dict, parties: Parties
) -> None:
    # pyld would drop the term, so the signature alone would still match: safe mode must catch it.
    altered = copy.deepcopy(signed)
    altered["credentialSubject"]["achievement"]["hours"] = 40
    result = verify(altered, parties.resolver())
    assert result.reason is VerificationFailure.UNSAFE_DOCUMENT
    assert "hours" in result.message


def test_a_control_character_is_refused_when_signing(parties: Parties) -> None:
    document = credential(parties)
    document["name"] = "Data\x07Skills"
    with pytest.raises(UnsafeDocumentError, match="U\\+0007"):
        sign(document, parties.org_key, parties.org_method)


@pytest.mark.parametrize("garbage", [None, [], "a string", 42, {"proof": [{}]}, {"@context": 5, "proof": [1]}])
def test_verify_never_raises_on_garbage(garbage: object, parties: Parties) -> None:
    result = verify(garbage, parties.resolver())
    assert not result.verified and result.reason is not None and result.message


def test_a_malformed_json_ld_document_fails_as_malformed_not_with_an_exception(
    signed: dict, parties: Parties
) -> None:
    broken = copy.deepcopy(signed)
    broken["@context"] = [*broken["@context"], {"@version": 9}]
    result = verify(broken, parties.resolver())
    assert result.reason is VerificationFailure.MALFORMED_DOCUMENT


def test_a_second_proof_can_be_added_and_both_verify(signed: dict, parties: Parties) -> None:
    twice = sign(signed, parties.org_key, parties.org_method, "2025-03-02T00:00:00Z")
    assert len(twice["proof"]) == 2
    result = verify(twice, parties.resolver())
    assert result.verified and result.proofs_checked == 2


def test_did_key_credentials_verify_offline(parties: Parties) -> None:
    from badges.credentials import did_key_from_public_key, did_key_verification_method

    key = generate_private_key()
    document = credential(parties)
    document["issuer"]["id"] = did_key_from_public_key(key.public_key())
    signed = sign(document, key, did_key_verification_method(key.public_key()))
    assert verify(signed, make_key_resolver()).verified
    assert verify(signed, make_key_resolver(allow_did_key=False)).reason is VerificationFailure.KEY_NOT_FOUND


def test_a_proof_carrying_the_documents_context_verifies_and_a_foreign_one_fails(
    signed: dict, parties: Parties
) -> None:
    with_context = copy.deepcopy(signed)
    with_context["proof"][0]["@context"] = list(signed["@context"])
    assert verify(with_context, parties.resolver()).verified
    foreign = copy.deepcopy(signed)
    foreign["proof"][0]["@context"] = ["https://www.w3.org/ns/did/v1"]
    assert verify(foreign, parties.resolver()).reason is VerificationFailure.CONTEXT_MISMATCH
