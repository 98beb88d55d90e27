"""base58btc, multibase, Ed25519 Multikeys and private-key encryption at rest."""

from __future__ import annotations

import pytest

from badges.credentials import (
    KeyDecryptionError,
    KeyFormatError,
    MultibaseError,
    base58btc_decode,
    base58btc_encode,
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    multibase_decode,
    multibase_encode,
    private_key_from_multibase,
    private_key_to_multibase,
    public_key_from_multibase,
    public_key_to_multibase,
)
from badges.credentials.keys import raw_private_key, raw_public_key


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    ],
)
def test_base58btc_encodes_and_decodes_known_values(data: bytes, text: str) -> None:
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


def test_base58btc_refuses_characters_outside_its_alphabet() -> None:
    for bad in ("0", "O", "I", "l", "+"):
        with pytest.raises(MultibaseError):
            base58btc_decode("abc" + bad)


def test_multibase_round_trips_with_z_and_u_prefixes() -> None:
    data = bytes(range(256))
    assert multibase_encode(data, "z").startswith("z")
    assert multibase_decode(multibase_encode(data, "z")) == data
    text = multibase_encode(data, "u")
    assert text.startswith("u") and "=" not in text and "+" not in text and "/" not in text
    assert multibase_decode(text) == data


def test_multibase_refuses_an_unknown_prefix() -> None:
    with pytest.raises(MultibaseError):
        multibase_decode("m" + "AAAA")


def test_a_public_key_is_a_z6mk_multikey_and_round_trips() -> None:
    key = generate_private_key().public_key()
    text = public_key_to_multibase(key)
    assert text.startswith("z6Mk")
    assert multibase_decode(text)[:2] == b"\xed\x01"
    assert raw_public_key(public_key_from_multibase(text)) == raw_public_key(key)


def test_a_private_key_is_a_z3u2_multikey_and_round_trips() -> None:
    key = generate_private_key()
    text = private_key_to_multibase(key)
    assert text.startswith("z3u2")
    assert multibase_decode(text)[:2] == b"\x80\x26"
    assert raw_private_key(private_key_from_multibase(text)) == raw_private_key(key)


def test_a_private_multikey_is_not_accepted_as_a_public_key_and_vice_versa() -> None:
    key = generate_private_key()
    with pytest.raises(KeyFormatError):
        public_key_from_multibase(private_key_to_multibase(key))
    with pytest.raises(KeyFormatError):
        private_key_from_multibase(public_key_to_multibase(key.public_key()))
    with pytest.raises(KeyFormatError):
        public_key_from_multibase("z6MkNotBase58!")


def test_an_encrypted_private_key_decrypts_with_the_same_secret() -> None:
    key = generate_private_key()
    token = encrypt_private_key(key, "correct horse battery staple")
    assert token.startswith("ed25519-aesgcm-v1.")
    assert private_key_to_multibase(key) not in token
    restored = decrypt_private_key(token, "correct horse battery staple")
    assert raw_private_key(restored) == raw_private_key(key)


def test_encrypting_the_same_key_twice_gives_different_tokens() -> None:
    key = generate_private_key()
    assert encrypt_private_key(key, "s") != encrypt_private_key(key, "s")


def test_a_wrong_secret_raises_a_clear_key_decryption_error() -> None:
    token = encrypt_private_key(generate_private_key(), "the right secret")
    with pytest.raises(KeyDecryptionError, match="wrong secret"):
        decrypt_private_key(token, "the wrong secret")


def test_a_token_bound_to_one_context_does_not_decrypt_under_another() -> None:
    key = generate_private_key()
    token = encrypt_private_key(key, "secret", context="did:web:example.org#key-1")
    assert raw_private_key(decrypt_private_key(token, "secret", context="did:web:example.org#key-1")) == (
        raw_private_key(key)
    )
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(token, "secret", context="did:web:example.org#key-2")


def test_a_tampered_or_malformed_token_raises_key_decryption_error() -> None:
    token = encrypt_private_key(generate_private_key(), "secret")
    version, salt, nonce, ciphertext = token.split(".")
    flipped = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    for bad in (
        f"{version}.{salt}.{nonce}.{flipped}",
        f"ed25519-aesgcm-v9.{salt}.{nonce}.{ciphertext}",
        "not a token",
        f"{version}.{salt}.{nonce}",
        f"{version}.{salt}.!!!.{ciphertext}",
    ):
        with pytest.raises(KeyDecryptionError):
            decrypt_private_key(bad, "secret")


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        encrypt_private_key(generate_private_key(), "")
