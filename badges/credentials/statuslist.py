"""Bitstring Status List (W3C Bitstring Status List v1.0): the bitstring and its `encodedList`.

* At least 131,072 entries (16 KiB), the spec's minimum for herd privacy.
* Entry `i` is bit `i` counted from the left: bit 0 is the most significant bit of byte 0.
* `encodedList` = `u` + base64url (no padding) of the GZIP-compressed bitstring. Compression uses
  a zero timestamp so that the same bits always encode to the same text.
"""

from __future__ import annotations

import gzip

from .errors import MultibaseError, StatusListError
from .inflate import InflateError, inflate_limited
from .multibase import base64url_decode, base64url_encode

MIN_ENTRIES = 131_072
#: Refuse to decompress a status list larger than this (a gzip bomb guard): 16 MiB = 134M entries.
MAX_DECODED_BYTES = 16 * 1024 * 1024


class StatusList:
    """A mutable bitstring of status entries (a status of 1 means revoked / suspended)."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        if size < MIN_ENTRIES or size % 8:
            raise StatusListError(
                f"a status list needs at least {MIN_ENTRIES} entries and a multiple of 8, not {size}"
            )
        self._bits = bytearray(size // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusList:
        """A status list over raw (uncompressed) bitstring bytes."""
        if len(data) * 8 < MIN_ENTRIES:
            raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries")
        status_list = cls.__new__(cls)
        status_list._bits = bytearray(data)
        return status_list

    def __len__(self) -> int:
        return len(self._bits) * 8

    def _check(self, index: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool):
            raise StatusListError(f"status list index must be an int, not {index!r}")
        if not 0 <= index < len(self):
            raise StatusListError(f"status list index {index} out of range 0..{len(self) - 1}")

    def get(self, index: int) -> bool:
        """The status bit at `index` (True = set)."""
        self._check(index)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        """Set (or with `value=False` clear) the status bit at `index`."""
        self._check(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def set_indices(self) -> list[int]:
        """Every index whose bit is set, in increasing order."""
        result = []
        for byte_index, byte in enumerate(self._bits):
            if byte:
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        result.append(byte_index * 8 + bit)
        return result

    def to_bytes(self) -> bytes:
        """The raw (uncompressed) bitstring."""
        return bytes(self._bits)

    def encode(self) -> str:
        """The `encodedList`: `u` + base64url(gzip(bitstring)), no padding."""
        return "u" + base64url_encode(gzip.compress(bytes(self._bits), compresslevel=9, mtime=0))

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Parse an `encodedList` (multibase `u` base64url of GZIP); `StatusListError` if malformed."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be a multibase base64url string starting with 'u'")
        try:
            compressed = base64url_decode(encoded[1:])
        except MultibaseError as error:
            raise StatusListError(f"encodedList is not base64url: {error}") from None
        return cls.from_bytes(_gunzip_limited(compressed))


def _gunzip_limited(data: bytes) -> bytes:
    try:
        return inflate_limited(data, limit=MAX_DECODED_BYTES, container="gzip")
    except InflateError as error:
        messages = {
            "corrupt": f"encodedList is not GZIP data: {error.detail}",
            "too_large": "encodedList decompresses to more than the allowed size",
            "truncated": "encodedList GZIP data is truncated",
        }
        raise StatusListError(messages[error.reason]) from None


def encode_status_list(status_list: StatusList) -> str:
    """The `encodedList` of a status list (same as `status_list.encode()`)."""
    return status_list.encode()


def decode_status_list(encoded: str) -> StatusList:
    """A status list from its `encodedList` (same as `StatusList.decode(encoded)`)."""
    return StatusList.decode(encoded)
