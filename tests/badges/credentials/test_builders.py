"""Builders: OB 3.0 documents that, once signed, pass the 1EdTech JSON schemas and verify."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from badges.credentials import (
    StatusList,
    build_achievement,
    build_email_identity,
    build_status_entry,
    build_status_list_credential,
    email_identity_matches,
    embedded_endorsements,
    sign,
    verify,
)

from .factories import Parties, credential, endorsement, signed_endorsement


def _errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_signed_open_badge_credential_with_embedded_endorsement_passes_the_1edtech_schema(
    parties: Parties, ob3_schemas: dict[str, Any]
) -> None:
    signed = sign(credential(parties), parties.org_key, parties.org_method)
    assert _errors(ob3_schemas["achievementcredential"], signed) == []
    assert verify(signed, parties.resolver()).verified


def test_the_signed_endorsement_credential_passes_the_1edtech_schema(
    parties: Parties, ob3_schemas: dict[str, Any]
) -> None:
    signed = signed_endorsement(parties)
    assert _errors(ob3_schemas["endorsementcredential"], signed) == []
    assert verify(signed, parties.resolver()).verified


def test_an_unsigned_credential_is_not_what_the_schema_accepts_as_an_endorsement_without_proof_array(
    parties: Parties, ob3_schemas: dict[str, Any]
) -> None:
    # The 1EdTech "JSON" schema wants proof as an array (interop note 10): a single object fails.
    signed = signed_endorsement(parties)
    single = {**signed, "proof": signed["proof"][0]}
    assert _errors(ob3_schemas["endorsementcredential"], single) != []


def test_credential_contexts_come_in_the_order_interop_requires(parties: Parties) -> None:
    document = credential(parties)
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]
    assert endorsement(parties)["credentialSchema"][0]["id"].endswith(
        "ob_v3p0_endorsementcredential_schema.json"
    )


def test_the_credential_issuer_is_a_profile_whose_id_is_the_signing_did(parties: Parties) -> None:
    document = credential(parties)
    assert document["issuer"]["id"] == parties.org_did
    assert document["issuer"]["type"] == ["Profile"]
    assert embedded_endorsements(document)[0]["issuer"]["id"] == parties.body_did


def test_the_endorsement_subject_is_the_achievement(parties: Parties) -> None:
    subject = endorsement(parties)["credentialSubject"]
    assert subject == {
        "id": "https://acme.example/programmes/data-skills",
        "type": ["EndorsementSubject"],
        "endorsementComment": "Meets every required criterion of criteria table v3.",
    }


def test_an_email_identity_is_a_salted_sha256_and_can_be_checked() -> None:
    identity = build_email_identity("  Learner@Example.ORG ", salt="pepper")
    expected = hashlib.sha256(b"learner@example.orgpepper").hexdigest()
    assert identity == {
        "type": "IdentityObject",
        "identityHash": f"sha256${expected}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "pepper",
    }
    assert email_identity_matches(identity, "learner@example.org")
    assert email_identity_matches(identity, "LEARNER@example.org")
    assert not email_identity_matches(identity, "other@example.org")
    upper = {**identity, "identityHash": "sha256$" + expected.upper()}
    assert email_identity_matches(upper, "learner@example.org")


def test_email_identities_get_a_fresh_random_salt_by_default() -> None:
    first, second = build_email_identity("a@example.org"), build_email_identity("a@example.org")
    assert first["salt"] != second["salt"] and len(first["salt"]) == 32
    assert first["identityHash"] != second["identityHash"]


def test_a_status_entry_points_at_one_index_of_a_status_list_credential() -> None:
    entry = build_status_entry(
        status_list_credential="https://example.org/status/3", index=94567, purpose="revocation"
    )
    assert entry == {
        "id": "https://example.org/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.org/status/3",
    }
    with pytest.raises(ValueError, match="statusPurpose"):
        build_status_entry(status_list_credential="https://example.org/s", index=1, purpose="refresh")  # type: ignore[arg-type]
    # A model's enum member is written as its plain text: the credential is JSON data alone.
    from badges.models import StatusPurpose

    purpose = build_status_entry(status_list_credential="https://example.org/s", index=1,
                                 purpose=StatusPurpose.REVOCATION)["statusPurpose"]
    assert type(purpose) is str and purpose == "revocation"


def test_one_status_entry_is_written_as_an_object_several_as_an_array(
    parties: Parties, ob3_schemas: dict[str, Any]
) -> None:
    revocation = build_status_entry(status_list_credential="https://e.org/r", index=1, purpose="revocation")
    suspension = build_status_entry(status_list_credential="https://e.org/s", index=1, purpose="suspension")
    document = credential(parties)
    assert isinstance(document["credentialStatus"], dict)
    from badges.credentials import build_endorsement_credential

    both = build_endorsement_credential(
        id="urn:uuid:0a0b0c0d-0000-4000-8000-000000000009",
        issuer=parties.body_profile(),
        endorsed_id="https://acme.example/programmes/data-skills",
        name="E",
        valid_from="2025-01-01T00:00:00Z",
        credential_status=[revocation, suspension],
    )
    assert both["credentialStatus"] == [revocation, suspension]
    signed = sign(both, parties.body_key, parties.body_method)
    assert verify(signed, parties.resolver()).verified
    # Valid VC 2.0, but the 1EdTech JSON schema allows one status object only (OB 3.0: [0..1]).
    assert _errors(ob3_schemas["endorsementcredential"], signed) != []


def test_the_status_list_credential_signs_and_verifies_with_only_the_vc_v2_context(parties: Parties) -> None:
    status_list = StatusList()
    status_list.set(17)
    document = build_status_list_credential(
        id="http://127.0.0.1:8000/status/endorsements/revocation/1",
        issuer=parties.body_did,
        purpose="revocation",
        encoded_list=status_list.encode(),
        valid_from="2025-01-01T00:00:00Z",
    )
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["credentialSubject"]["type"] == "BitstringStatusList"
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    signed = sign(document, parties.body_key, parties.body_method)
    assert verify(signed, parties.resolver()).verified
    assert StatusList.decode(signed["credentialSubject"]["encodedList"]).get(17)


def test_an_achievement_needs_criteria() -> None:
    with pytest.raises(ValueError, match="criteria"):
        build_achievement(id="https://e.org/a", name="A", description="B")


def test_builders_do_not_share_nested_objects_with_their_inputs(parties: Parties) -> None:
    endorsed = signed_endorsement(parties)
    document = credential(parties, endorsements=[endorsed])
    document["credentialSubject"]["achievement"]["endorsement"][0]["name"] = "changed"
    assert endorsed["name"] != "changed"


def test_timestamps_must_be_utc_seconds_or_datetimes(parties: Parties) -> None:
    from badges.credentials import build_endorsement_credential

    with pytest.raises(ValueError, match="YYYY"):
        build_endorsement_credential(
            id="urn:uuid:0a0b0c0d-0000-4000-8000-000000000009",
            issuer=parties.body_profile(),
            endorsed_id="https://e.org/a",
            name="E",
            valid_from="2025-01-01",
        )


def test_a_plain_text_address_with_non_ascii_letters_is_compared_not_refused_with_a_type_error():
    """hmac.compare_digest takes str only when it is ASCII: the comparison is of the UTF-8 bytes."""
    plain = {"type": "IdentityObject", "identityType": "emailAddress", "identityHash": "ゆうこ@例え.jp",
             "hashed": False}
    assert email_identity_matches(plain, "ゆうこ@例え.jp")
    assert not email_identity_matches(plain, "ゆうじ@例え.jp")


def test_the_built_credential_shares_no_object_with_what_it_was_built_from() -> None:
    from badges.credentials.builders import build_open_badge_credential, json_copy

    achievement = {"id": "urn:uuid:1", "type": ["Achievement"], "name": "A",
                   "criteria": {"narrative": "Passed."}, "endorsement": [{"proof": [{"x": 1}]}]}
    issuer = {"id": "did:web:issuer.example", "type": ["Profile"], "name": {"en": "Issuer"}}
    status = {"id": "https://x.example/s#1", "type": "BitstringStatusListEntry", "extra": (1, 2)}
    built = build_open_badge_credential(id="urn:uuid:2", issuer=issuer, achievement=achievement,
                                        valid_from="2026-01-01T00:00:00Z", recipient_did="did:example:1",
                                        credential_status=status)
    assert built["credentialSubject"]["achievement"] == achievement and built["issuer"] == issuer
    built["credentialSubject"]["achievement"]["endorsement"][0]["proof"][0]["x"] = 2
    built["issuer"]["name"]["en"] = "changed"
    assert achievement["endorsement"][0]["proof"][0]["x"] == 1 and issuer["name"]["en"] == "Issuer"
    # JSON data copied as such; anything else (a tuple here) deep-copied, not shared.
    copied = json_copy({"a": [{"b": 1}], "t": ([1],)})
    assert copied == {"a": [{"b": 1}], "t": ([1],)}
    original = {"a": [{"b": 1}], "t": ([1],)}
    again = json_copy(original)
    assert again["a"][0] is not original["a"][0] and again["t"][0] is not original["t"][0]
    # Types kept exactly (True is not 1, 1.0 is not 1), key order too; an object held twice is one
    # object in the copy, as copy.deepcopy makes it, never the original's.
    shared = [{"x": 1}]
    typed = {"z": True, "a": 1, "f": 1.0, "n": None, "s": "日本", "l": shared, "m": shared}
    copied = json_copy(typed)
    assert [(k, type(v)) for k, v in copied.items()] == [(k, type(v)) for k, v in typed.items()]
    assert copied["l"] is copied["m"] and copied["l"] is not shared and copied["l"][0] is not shared[0]
    # What marshal refuses (a str subclass, a lazy translation, a datetime) is walked instead.
    from datetime import UTC, datetime

    from django.utils.translation import gettext_lazy

    class Leaf(str):
        pass

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    odd = {"leaf": [Leaf("v")], "lazy": gettext_lazy("Level"), "when": moment}
    copied = json_copy(odd)
    assert copied == odd and type(copied["leaf"][0]) is Leaf and copied["leaf"] is not odd["leaf"]
    assert str(copied["lazy"]) == "Level" and copied["when"] == moment
