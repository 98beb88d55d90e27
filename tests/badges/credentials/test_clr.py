"""CLR 2.0: a ClrCredential bundling signed badges passes the CLR JSON Schema, verifies as a whole,
and each credential inside it still verifies on its own."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from badges.credentials import (
    ASSOCIATION_TYPES,
    CLR_V2P0_CONTEXT,
    build_achievement,
    build_association,
    build_clr_credential,
    build_email_identity,
    clr_nested_credentials,
    sign,
    verify,
)

from .factories import Parties, credential

PATHWAY_ID = "https://acme.example/pathways/data-pathway"


def _errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def _badges(parties: Parties) -> list[dict[str, Any]]:
    return [sign(credential(parties, number=n), parties.org_key, parties.org_method, "2025-03-01T10:00:05Z")
            for n in (1, 2)]


def _pathway() -> dict[str, Any]:
    return build_achievement(id=PATHWAY_ID, name="Data pathway", description="Two programmes, in order.",
                             criteria_narrative="Complete Data Skills 1, then Data Skills 2.")


def _clr(parties: Parties, badges: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    first, second = (b["credentialSubject"]["achievement"]["id"] for b in badges)
    arguments: dict[str, Any] = {
        "id": "urn:uuid:9b1c1d6e-1f2a-4b7e-9a51-0e7f3c2b9d11",
        "issuer": parties.org_profile(),
        "name": "Comprehensive Learner Record: Data pathway",
        "valid_from": "2025-04-01T09:00:00Z",
        "credentials": badges,
        "learner_identity": [build_email_identity("learner1@example.org", salt="0f1e")],
        "achievements": [_pathway()],
        "associations": [
            build_association(association_type="isChildOf", source_id=first, target_id=PATHWAY_ID),
            build_association(association_type="precedes", source_id=first, target_id=second),
        ],
    }
    arguments.update(overrides)
    return build_clr_credential(**arguments)


def test_a_signed_clr_credential_passes_the_clr_schema_and_verifies(parties: Parties,
                                                                      clr_schema: dict[str, Any]) -> None:
    badges = _badges(parties)
    signed = sign(_clr(parties, badges), parties.org_key, parties.org_method, "2025-04-01T09:00:05Z")
    assert _errors(clr_schema, signed) == []
    assert signed["@context"][:3] == ["https://www.w3.org/ns/credentials/v2", CLR_V2P0_CONTEXT,
                                      "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert signed["type"] == ["VerifiableCredential", "ClrCredential"]
    assert verify(signed, parties.resolver()).verified
    # the nested credentials are the presented ones, byte for byte, and each verifies on its own
    nested = clr_nested_credentials(signed)
    assert nested == badges
    assert all(verify(c, parties.resolver()).verified for c in nested)
    assert [a["associationType"] for a in signed["credentialSubject"]["association"]] == ["isChildOf", "precedes"]


def test_without_credential_schema_it_still_passes_the_schema(parties: Parties, clr_schema: dict[str, Any]) -> None:
    signed = sign(_clr(parties, _badges(parties), with_schema=False, partial=False), parties.org_key,
                  parties.org_method)
    assert "credentialSchema" not in signed and signed["partial"] is False
    assert _errors(clr_schema, signed) == []
    assert verify(signed, parties.resolver()).verified


def test_altering_a_nested_credential_breaks_both_its_own_and_the_outer_proof(parties: Parties) -> None:
    signed = sign(_clr(parties, _badges(parties)), parties.org_key, parties.org_method)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["verifiableCredential"][1]["credentialSubject"]["achievement"]["name"] = "Other"
    assert not verify(tampered, parties.resolver()).verified
    assert not verify(clr_nested_credentials(tampered)[1], parties.resolver()).verified
    assert verify(clr_nested_credentials(tampered)[0], parties.resolver()).verified


def test_altering_an_association_breaks_the_outer_proof(parties: Parties) -> None:
    signed = sign(_clr(parties, _badges(parties)), parties.org_key, parties.org_method)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["association"][1]["associationType"] = "isPeerOf"
    result = verify(tampered, parties.resolver())
    assert not result.verified and result.reason.value == "signature_mismatch"


def test_the_input_credentials_are_not_modified(parties: Parties) -> None:
    badges = _badges(parties)
    before = copy.deepcopy(badges)
    document = _clr(parties, badges)
    document["credentialSubject"]["verifiableCredential"][0]["name"] = "changed"
    assert badges == before


@pytest.mark.parametrize("association_type", ASSOCIATION_TYPES)
def test_every_association_type_of_the_schema_is_accepted(association_type: str, clr_schema: dict[str, Any]) -> None:
    association = build_association(association_type=association_type, source_id="urn:a", target_id="urn:b")
    association_schema = {**clr_schema["$defs"]["Association"], "$defs": clr_schema["$defs"]}
    assert _errors(association_schema, association) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"association_type": "isBefore", "source_id": "urn:a", "target_id": "urn:b"}, "associationType must be"),
    ({"association_type": "precedes", "source_id": "", "target_id": "urn:b"}, "source_id must be"),
    ({"association_type": "precedes", "source_id": "urn:a", "target_id": None}, "target_id must be"),
])
def test_a_bad_association_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_association(**kwargs)


def test_a_clr_needs_signed_credentials_a_learner_and_an_issuer(parties: Parties) -> None:
    badges = _badges(parties)
    unsigned = {k: v for k, v in badges[0].items() if k != "proof"}
    with pytest.raises(ValueError, match="at least one"):
        _clr(parties, badges, credentials=[], associations=[])
    with pytest.raises(ValueError, match="credential 2 is not a signed credential"):
        _clr(parties, badges, credentials=[badges[0], unsigned])
    with pytest.raises(ValueError, match="needs its learner"):
        _clr(parties, badges, learner_identity=[])
    with pytest.raises(ValueError, match="issuer must be a Profile"):
        _clr(parties, badges, issuer={"name": "no id"})
