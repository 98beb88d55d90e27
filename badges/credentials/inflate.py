"""Bounded decompression: the one guard against decompression bombs (status lists, baked PNGs).

`inflate_limited` never produces more than `limit + 1` bytes, whatever the input claims, and
refuses a stream that is corrupt, larger than `limit` once decompressed, or cut short. Callers turn
the `InflateError` into their own error with its `reason`.
"""

from __future__ import annotations

import zlib
from typing import Literal

Container = Literal["gzip", "zlib"]

_WBITS: dict[str, int] = {"gzip": 16 + zlib.MAX_WBITS, "zlib": zlib.MAX_WBITS}


class InflateError(ValueError):
    """Decompression refused. `reason` is "corrupt", "too_large" or "truncated"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def inflate_limited(data: bytes, *, limit: int, container: Container) -> bytes:
    """`data` decompressed (a GZIP member or a zlib stream), refused beyond `limit` bytes."""
    decompressor = zlib.decompressobj(wbits=_WBITS[container])
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as error:
        raise InflateError("corrupt", str(error)) from None
    if len(out) > limit:
        raise InflateError("too_large")
    if not decompressor.eof:
        raise InflateError("truncated")
    return out
