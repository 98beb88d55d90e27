"""base58btc and the two multibase encodings the library uses: `z` (base58btc), `u` (base64url)."""

from __future__ import annotations

import base64
import binascii

from .errors import MultibaseError

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: i for i, char in enumerate(BASE58_ALPHABET)}


def base58btc_encode(data: bytes) -> str:
    """Bitcoin base58 of `data`; each leading zero byte becomes a leading `1`."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(BASE58_ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Bytes of a bitcoin base58 string; `MultibaseError` on a character outside the alphabet."""
    number = 0
    for char in text:
        try:
            number = number * 58 + _BASE58_INDEX[char]
        except KeyError:
            raise MultibaseError(f"{char!r} is not a base58btc character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def base64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    """Bytes of base64url text, padded or not; `MultibaseError` if malformed."""
    if not isinstance(text, str) or not text.isascii():
        raise MultibaseError("base64url text must be ASCII")
    if "=" in text.rstrip("="):
        raise MultibaseError("padding inside base64url text")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise MultibaseError("base64url text has an impossible length")
    try:
        return base64.b64decode(
            stripped + "=" * (-len(stripped) % 4), altchars=b"-_", validate=True
        )
    except (binascii.Error, ValueError) as error:
        raise MultibaseError(f"malformed base64url text: {error}") from None


def multibase_encode(data: bytes, base: str = "z") -> str:
    """Multibase text of `data`: `z` + base58btc (default) or `u` + base64url without padding."""
    if base == "z":
        return "z" + base58btc_encode(data)
    if base == "u":
        return "u" + base64url_encode(data)
    raise MultibaseError(f"unsupported multibase prefix {base!r} (supported: 'z', 'u')")


def multibase_decode(text: str) -> bytes:
    """Bytes of a `z` (base58btc) or `u` (base64url) multibase string; `MultibaseError` otherwise."""
    if not isinstance(text, str) or not text:
        raise MultibaseError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "u":
        return base64url_decode(body)
    raise MultibaseError(f"unsupported multibase prefix {prefix!r} (supported: 'z', 'u')")
