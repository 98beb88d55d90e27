"""Ed25519 keys: generation, Multikey encoding, and encryption of private keys at rest.

* Public key as Multikey: `z` + base58btc(0xed 0x01 || 32-byte key), which starts `z6Mk`.
* Private key as Multikey: `z` + base58btc(0x80 0x26 || 32-byte seed), which starts `z3u2`.
* Encrypted private key: a text token `ed25519-aesgcm-v1.<salt>.<nonce>.<ciphertext>` (base64url
  parts), AES-256-GCM under a key derived by HKDF-SHA256 from a caller's secret string and a
  random salt; the token's version label and the optional `context` string are authenticated.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import KeyDecryptionError, KeyFormatError, MultibaseError
from .multibase import base64url_decode, base64url_encode, multibase_decode, multibase_encode

__all__ = [
    "ED25519_PRIV_MULTICODEC",
    "ED25519_PUB_MULTICODEC",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "decrypt_private_key",
    "decrypt_secret",
    "encrypt_private_key",
    "encrypt_secret",
    "generate_private_key",
    "private_key_from_multibase",
    "private_key_to_multibase",
    "public_key_from_multibase",
    "public_key_to_multibase",
    "raw_private_key",
    "raw_public_key",
]

#: varint of multicodec `ed25519-pub` (0xed)
ED25519_PUB_MULTICODEC = b"\xed\x01"
#: varint of multicodec `ed25519-priv` (0x1300)
ED25519_PRIV_MULTICODEC = b"\x80\x26"

TOKEN_VERSION = "ed25519-aesgcm-v1"  # noqa: S105 - a format label, not a secret
_HKDF_INFO = b"microcred-endorse signing key encryption v1"


def generate_private_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private_key(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed of a private key."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def public_key_to_multibase(key: Ed25519PublicKey) -> str:
    """Multikey `publicKeyMultibase` of an Ed25519 public key (`z6Mk…`)."""
    return multibase_encode(ED25519_PUB_MULTICODEC + raw_public_key(key), "z")


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Ed25519 public key from a Multikey `publicKeyMultibase`; `KeyFormatError` if it is not one."""
    raw = _decode_multikey(value, ED25519_PUB_MULTICODEC, "public")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_to_multibase(key: Ed25519PrivateKey) -> str:
    """Multikey `secretKeyMultibase` of an Ed25519 private key (`z3u2…`). Handle with care."""
    return multibase_encode(ED25519_PRIV_MULTICODEC + raw_private_key(key), "z")


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    """Ed25519 private key from a Multikey secret key (`z3u2…`); `KeyFormatError` otherwise."""
    raw = _decode_multikey(value, ED25519_PRIV_MULTICODEC, "private")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _decode_multikey(value: str, codec: bytes, kind: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyFormatError(f"Ed25519 {kind} Multikey must be a base58btc multibase string ('z…')")
    try:
        data = multibase_decode(value)
    except MultibaseError as error:
        raise KeyFormatError(f"malformed Ed25519 {kind} Multikey: {error}") from None
    if not data.startswith(codec) or len(data) != len(codec) + 32:
        raise KeyFormatError(
            f"not an Ed25519 {kind} Multikey (expected multicodec 0x{codec.hex()} and 32 key bytes)"
        )
    return data[len(codec) :]


def _derive_key(secret: str, salt: bytes) -> bytes:
    if not isinstance(secret, str) or not secret:
        raise ValueError("the key-encryption secret must be a non-empty string")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO)
    return hkdf.derive(secret.encode("utf-8"))


def _aad(context: str) -> bytes:
    return f"{TOKEN_VERSION}|{context}".encode()


def encrypt_private_key(key: Ed25519PrivateKey, secret: str, *, context: str = "") -> str:
    """Encrypt a private key for storage: a versioned text token (AES-256-GCM, HKDF-SHA256 key).

    `secret` comes from the caller (the settings later); `context` (e.g. the key's id) is bound
    to the token, so a token copied to another key record fails to decrypt.
    """
    salt = os.urandom(16)
    nonce = os.urandom(12)
    ciphertext = AESGCM(_derive_key(secret, salt)).encrypt(nonce, raw_private_key(key), _aad(context))
    parts = [TOKEN_VERSION, base64url_encode(salt), base64url_encode(nonce), base64url_encode(ciphertext)]
    return ".".join(parts)


def decrypt_private_key(token: str, secret: str, *, context: str = "") -> Ed25519PrivateKey:
    """Decrypt a token made by `encrypt_private_key`.

    Raises `KeyDecryptionError` for a wrong secret or context, a damaged or unknown-version token.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4:
        raise KeyDecryptionError("not an encrypted private key token (expected 4 dot-separated parts)")
    version, salt_text, nonce_text, ciphertext_text = parts
    if version != TOKEN_VERSION:
        raise KeyDecryptionError(
            f"unsupported encrypted key version {version!r} (this code reads {TOKEN_VERSION!r})"
        )
    try:
        salt = base64url_decode(salt_text)
        nonce = base64url_decode(nonce_text)
        ciphertext = base64url_decode(ciphertext_text)
    except MultibaseError as error:
        raise KeyDecryptionError(f"damaged encrypted key token: {error}") from None
    if len(nonce) != 12 or len(ciphertext) != 32 + 16:
        raise KeyDecryptionError("damaged encrypted key token (wrong nonce or ciphertext length)")
    try:
        raw = AESGCM(_derive_key(secret, salt)).decrypt(nonce, ciphertext, _aad(context))
    except InvalidTag:
        raise KeyDecryptionError(
            "could not decrypt the private key: wrong secret (or context), or the token was altered"
        ) from None
    return Ed25519PrivateKey.from_private_bytes(raw)


SECRET_TOKEN_VERSION = "secret-aesgcm-v1"  # noqa: S105 - a format label, not a password


def encrypt_secret(data: bytes, secret: str, *, context: str) -> str:
    """Encrypt a short secret (a webhook signing secret) for storage, as `encrypt_private_key` does a
    key: `secret-aesgcm-v1.<salt>.<nonce>.<ciphertext>`, AES-256-GCM, `context` authenticated."""
    salt = os.urandom(16)
    nonce = os.urandom(12)
    aad = f"{SECRET_TOKEN_VERSION}|{context}".encode()
    ciphertext = AESGCM(_derive_key(secret, salt)).encrypt(nonce, data, aad)
    return ".".join([SECRET_TOKEN_VERSION, base64url_encode(salt), base64url_encode(nonce),
                     base64url_encode(ciphertext)])


def decrypt_secret(token: str, secret: str, *, context: str) -> bytes:
    """Decrypt a token made by `encrypt_secret`; `KeyDecryptionError` for a wrong secret or context or
    a damaged token."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != SECRET_TOKEN_VERSION:
        raise KeyDecryptionError(f"not an encrypted secret token ({SECRET_TOKEN_VERSION})")
    try:
        salt, nonce, ciphertext = (base64url_decode(part) for part in parts[1:])
    except MultibaseError as error:
        raise KeyDecryptionError(f"damaged encrypted secret token: {error}") from None
    try:
        aad = f"{SECRET_TOKEN_VERSION}|{context}".encode()
        return AESGCM(_derive_key(secret, salt)).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise KeyDecryptionError(
            "could not decrypt the secret: wrong secret (or context), or the token was altered") from None
