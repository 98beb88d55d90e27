"""Known-answer tests: the W3C Data Integrity EdDSA (eddsa-rdfc-2022) test vectors, byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from badges.credentials import (
    StaticDocumentLoader,
    base58btc_decode,
    base58btc_encode,
    canonicalize,
    create_proof,
    private_key_from_multibase,
    public_key_to_multibase,
    reference_normalize,
    resolve_did_key,
    sign,
    verify,
)
from badges.credentials.keys import raw_public_key
from badges.credentials.proof import hash_data, proof_configuration


def _read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def _json(folder: Path, name: str) -> Any:
    return json.loads(_read(folder, name))


@pytest.fixture(scope="module")
def suite(vectors_dir: Path) -> Path:
    return vectors_dir / "eddsa-rdfc-2022"


def test_the_vector_key_pair_decodes_and_re_encodes_as_the_same_multikeys(vectors_dir: Path) -> None:
    pair = _json(vectors_dir, "keyPair.json")
    key = private_key_from_multibase(pair["privateKeyMultibase"])
    assert public_key_to_multibase(key.public_key()) == pair["publicKeyMultibase"]
    assert len(raw_public_key(key.public_key())) == 32


def test_the_canonical_document_matches_the_vector_byte_for_byte(
    vectors_dir: Path, suite: Path, examples_loader: StaticDocumentLoader
) -> None:
    unsigned = _json(vectors_dir, "unsigned.json")
    expected = _read(suite, "canonDocDataInt.txt")
    assert canonicalize(unsigned, examples_loader) == expected
    assert reference_normalize(unsigned, examples_loader) == expected


def test_the_canonical_proof_options_match_the_vector_byte_for_byte(
    vectors_dir: Path, suite: Path, examples_loader: StaticDocumentLoader
) -> None:
    unsigned = _json(vectors_dir, "unsigned.json")
    config_file = _json(suite, "proofConfigDataInt.json")
    options = {k: v for k, v in config_file.items() if k != "@context"}
    config = proof_configuration(options, unsigned["@context"])
    assert config == config_file  # the configuration carries the document's @context (note 6)
    assert canonicalize(config, examples_loader) == _read(suite, "proofCanonDataInt.txt")


def test_the_hashes_and_combined_hash_match_the_vector(suite: Path) -> None:
    canonical_config = _read(suite, "proofCanonDataInt.txt")
    canonical_document = _read(suite, "canonDocDataInt.txt")
    assert hashlib.sha256(canonical_config.encode()).hexdigest() == _read(suite, "proofHashDataInt.txt").strip()
    assert hashlib.sha256(canonical_document.encode()).hexdigest() == _read(suite, "docHashDataInt.txt").strip()
    combined = hash_data(canonical_config, canonical_document)
    assert len(combined) == 64
    assert combined.hex() == _read(suite, "combinedHashDataInt.txt").strip()


def test_the_signature_matches_the_vector_in_hex_and_base58(
    vectors_dir: Path, suite: Path, examples_loader: StaticDocumentLoader
) -> None:
    key = private_key_from_multibase(_json(vectors_dir, "keyPair.json")["privateKeyMultibase"])
    config = _json(suite, "proofConfigDataInt.json")
    proof = create_proof(
        _json(vectors_dir, "unsigned.json"),
        key,
        config["verificationMethod"],
        config["created"],
        loader=examples_loader,
    )
    signature_hex = _read(suite, "sigHexDataInt.txt").strip()
    multibase_text = _read(suite, "sigBTC58DataInt.txt").strip()  # the file holds the 'z' prefix
    assert "z" + base58btc_encode(bytes.fromhex(signature_hex)) == multibase_text
    assert proof["proofValue"] == multibase_text
    assert base58btc_decode(proof["proofValue"][1:]).hex() == signature_hex


def test_signing_the_vector_reproduces_the_signed_credential_except_that_proof_is_an_array(
    vectors_dir: Path, suite: Path, examples_loader: StaticDocumentLoader
) -> None:
    key = private_key_from_multibase(_json(vectors_dir, "keyPair.json")["privateKeyMultibase"])
    config = _json(suite, "proofConfigDataInt.json")
    signed = sign(
        _json(vectors_dir, "unsigned.json"),
        key,
        config["verificationMethod"],
        config["created"],
        loader=examples_loader,
    )
    expected = _json(suite, "signedDataInt.json")
    assert isinstance(signed["proof"], list)
    assert signed["proof"] == [expected["proof"]]
    assert {k: v for k, v in signed.items() if k != "proof"} == {
        k: v for k, v in expected.items() if k != "proof"
    }
    assert "@context" not in signed["proof"][0]


def test_the_signed_vector_verifies_with_its_proof_as_an_object_or_as_an_array_of_one(
    suite: Path, examples_loader: StaticDocumentLoader
) -> None:
    signed = _json(suite, "signedDataInt.json")
    # The vector's issuer is an https URL, not the did:key that signs: skip the issuer check.
    result = verify(signed, resolve_did_key, loader=examples_loader, check_issuer=False)
    assert result.verified, result.message
    as_array = {**signed, "proof": [signed["proof"]]}
    assert verify(as_array, resolve_did_key, loader=examples_loader, check_issuer=False).verified
