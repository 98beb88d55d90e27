"""Key encryption at rest and Multikey decoding against a second implementation written here from the
format's description (keys.py's docstring): token `ed25519-aesgcm-v1.<salt>.<nonce>.<ciphertext>`, 16-byte
salt, 12-byte nonce, AES-256-GCM under HKDF-SHA256(secret, salt, info) with the version and context as
associated data. Every refusal is checked for its exact words."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from badges.credentials import KeyDecryptionError, KeyFormatError
from badges.credentials.keys import (
    decrypt_private_key,
    encrypt_private_key,
    private_key_from_multibase,
    public_key_from_multibase,
    raw_private_key,
    raw_public_key,
)
from badges.credentials.multibase import base58btc_encode

INFO = b"microcred-endorse signing key encryption v1"
SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def spec_key(secret: str, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(secret.encode("utf-8"))


def spec_encrypt(seed: bytes, secret: str, context: str, *, version: str = "ed25519-aesgcm-v1",
                 salt: bytes = b"s" * 16, nonce: bytes = b"n" * 12) -> str:
    sealed = AESGCM(spec_key(secret, salt)).encrypt(nonce, seed, f"{version}|{context}".encode())
    return ".".join([version, b64(salt), b64(nonce), b64(sealed)])


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(KeyDecryptionError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# --- encryption ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("secret", "context"), [("secret", ""), ("pässwörd 秘密", "did:web:example.org#key-1")])
def test_a_token_is_the_documented_format_and_opens_with_a_second_implementation(secret: str, context: str) -> None:
    token = encrypt_private_key(KEY, secret, context=context)
    version, salt_text, nonce_text, sealed_text = token.split(".")
    salt, nonce, sealed = unb64(salt_text), unb64(nonce_text), unb64(sealed_text)
    assert version == "ed25519-aesgcm-v1"
    assert (len(salt), len(nonce), len(sealed)) == (16, 12, 48)
    assert "=" not in token
    opened = AESGCM(spec_key(secret, salt)).decrypt(nonce, sealed, f"ed25519-aesgcm-v1|{context}".encode())
    assert opened == SEED


def test_each_token_has_its_own_salt_and_nonce() -> None:
    first, second = (encrypt_private_key(KEY, "secret").split(".") for _ in range(2))
    assert first[1] != second[1] and first[2] != second[2]


@pytest.mark.parametrize("secret", ["", None, b"bytes secret"])
def test_an_empty_or_non_text_secret_is_refused(secret: object) -> None:
    with pytest.raises(ValueError) as caught:
        encrypt_private_key(KEY, secret)  # type: ignore[arg-type]
    assert str(caught.value) == "the key-encryption secret must be a non-empty string"
    with pytest.raises(ValueError) as decrypting:
        decrypt_private_key(spec_encrypt(SEED, "secret", ""), secret)  # type: ignore[arg-type]
    assert str(decrypting.value) == "the key-encryption secret must be a non-empty string"


# --- decryption ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("secret", "context"), [("secret", ""), ("pässwörd 秘密", "did:web:example.org#key-1")])
def test_a_token_made_by_a_second_implementation_decrypts(secret: str, context: str) -> None:
    salt, nonce = os.urandom(16), os.urandom(12)
    token = spec_encrypt(SEED, secret, context, salt=salt, nonce=nonce)
    assert raw_private_key(decrypt_private_key(token, secret, context=context)) == SEED


def test_a_salt_of_another_length_is_still_used_as_given() -> None:
    token = spec_encrypt(SEED, "secret", "", salt=b"x" * 32)
    assert raw_private_key(decrypt_private_key(token, "secret")) == SEED


WRONG = "could not decrypt the private key: wrong secret (or context), or the token was altered"


def test_a_wrong_secret_context_or_version_in_the_associated_data_does_not_decrypt() -> None:
    token = spec_encrypt(SEED, "secret", "did:web:example.org#key-1")
    assert refusal(decrypt_private_key, token, "Secret", context="did:web:example.org#key-1") == WRONG
    assert refusal(decrypt_private_key, token, "secret", context="did:web:example.org#key-2") == WRONG
    assert refusal(decrypt_private_key, token, "secret") == WRONG
    # The context must be bound with the version label before it, separated by "|".
    unversioned = spec_encrypt(SEED, "secret", "", version="ed25519-aesgcm-v1")
    parts = unversioned.split(".")
    salt, nonce = unb64(parts[1]), unb64(parts[2])
    for aad in (b"", b"|", b"ed25519-aesgcm-v1", b"ed25519-aesgcm-v1|x"):
        sealed = AESGCM(spec_key("secret", salt)).encrypt(nonce, SEED, aad)
        assert refusal(decrypt_private_key, ".".join([*parts[:3], b64(sealed)]), "secret") == WRONG


def test_a_key_derived_otherwise_does_not_decrypt() -> None:
    salt, nonce = b"s" * 16, b"n" * 12
    for key in (HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"other").derive(b"secret"),
                HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(b"secret"),
                HKDF(algorithm=hashes.SHA512(), length=32, salt=salt, info=INFO).derive(b"secret")):
        sealed = AESGCM(key).encrypt(nonce, SEED, b"ed25519-aesgcm-v1|")
        token = ".".join(["ed25519-aesgcm-v1", b64(salt), b64(nonce), b64(sealed)])
        assert refusal(decrypt_private_key, token, "secret") == WRONG


@pytest.mark.parametrize("token", ["", "a.b.c", "a.b.c.d.e", None, 42, "ed25519-aesgcm-v1"])
def test_a_token_without_four_parts_is_refused(token: object) -> None:
    assert refusal(decrypt_private_key, token, "secret") == (
        "not an encrypted private key token (expected 4 dot-separated parts)")


def test_a_token_of_another_version_is_refused_and_named() -> None:
    token = spec_encrypt(SEED, "secret", "", version="ed25519-aesgcm-v2")
    assert refusal(decrypt_private_key, token, "secret") == (
        "unsupported encrypted key version 'ed25519-aesgcm-v2' (this code reads 'ed25519-aesgcm-v1')")


@pytest.mark.parametrize("index", [1, 2, 3])
def test_a_part_that_is_not_base64url_is_damaged(index: int) -> None:
    parts = spec_encrypt(SEED, "secret", "").split(".")
    parts[index] = "!!!!"
    assert refusal(decrypt_private_key, ".".join(parts), "secret") == (
        "damaged encrypted key token: malformed base64url text: Only base64 data is allowed")


@pytest.mark.parametrize(("nonce", "sealed_length"), [(b"n" * 11, 48), (b"n" * 13, 48), (b"n" * 12, 47),
                                                       (b"n" * 12, 49)])
def test_a_nonce_or_ciphertext_of_the_wrong_length_is_damaged(nonce: bytes, sealed_length: int) -> None:
    parts = spec_encrypt(SEED, "secret", "").split(".")
    parts[2] = b64(nonce)
    parts[3] = b64(unb64(parts[3])[:sealed_length].ljust(sealed_length, b"\0"))
    assert refusal(decrypt_private_key, ".".join(parts), "secret") == (
        "damaged encrypted key token (wrong nonce or ciphertext length)")


# --- Multikeys ----------------------------------------------------------------------------------------
PUBLIC = raw_public_key(KEY.public_key())


@pytest.mark.parametrize(("decode", "codec", "raw", "kind"), [
    (public_key_from_multibase, b"\xed\x01", PUBLIC, "public"),
    (private_key_from_multibase, b"\x80\x26", SEED, "private"),
])
def test_a_multikey_is_z_base58btc_of_its_codec_and_32_bytes(decode, codec: bytes, raw: bytes, kind: str) -> None:
    decoded = decode("z" + base58btc_encode(codec + raw))
    assert (raw_public_key(decoded) if kind == "public" else raw_private_key(decoded)) == raw

    def refused(value: object) -> str:
        with pytest.raises(KeyFormatError) as caught:
            decode(value)
        return str(caught.value)

    assert refused("u" + b64(codec + raw)) == f"Ed25519 {kind} Multikey must be a base58btc multibase string ('z…')"
    assert refused(None) == f"Ed25519 {kind} Multikey must be a base58btc multibase string ('z…')"
    assert refused("z0OIl") == f"malformed Ed25519 {kind} Multikey: '0' is not a base58btc character"
    wrong = f"not an Ed25519 {kind} Multikey (expected multicodec 0x{codec.hex()} and 32 key bytes)"
    assert refused("z" + base58btc_encode(codec + raw[:31])) == wrong
    assert refused("z" + base58btc_encode(codec + raw + b"\0")) == wrong
    other = b"\x80\x26" if codec == b"\xed\x01" else b"\xed\x01"
    assert refused("z" + base58btc_encode(other + raw)) == wrong
    assert refused("z" + base58btc_encode(codec[:1] + raw + b"\0")) == wrong
