"""Badge images to bake credentials into: the programme's own image, or, when it has none (or only
an SVG, for the PNG download), a plain round badge drawn here in pure Python (zlib + struct)."""

from __future__ import annotations

import colorsys
import functools
import hashlib
import math
import struct
import zlib

from badges import credentials as vc
from badges.models import Award, Programme

SIZE = 256


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_encode(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from rows of width*4 bytes."""
    raw = b"".join(b"\x00" + row for row in rgba_rows)
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


@functools.lru_cache(maxsize=64)
def generated_png(seed: str, size: int = SIZE) -> bytes:
    """A round badge in a colour chosen from `seed`: a disc, a lighter ring and a white tick.
    Edges are anti-aliased by coverage so it looks clean at any size; cached per seed."""
    hue = int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) / 0xFFFF
    dark = [round(c * 255) for c in colorsys.hls_to_rgb(hue, 0.35, 0.55)]
    light = [round(c * 255) for c in colorsys.hls_to_rgb(hue, 0.75, 0.55)]
    centre, outer, ring_in, ring_out = (size - 1) / 2, size * 0.48, size * 0.38, size * 0.42
    tick = [(0.30, 0.52), (0.44, 0.66), (0.71, 0.37)]
    tick = [(x * size, y * size) for x, y in tick]
    stroke = size * 0.055
    # Only the pixels near the tick need its distance: its bounding box, widened by the stroke.
    tick_x0, tick_x1 = min(p[0] for p in tick) - stroke - 1, max(p[0] for p in tick) + stroke + 1
    tick_y0, tick_y1 = min(p[1] for p in tick) - stroke - 1, max(p[1] for p in tick) + stroke + 1
    plain = bytes([*dark, 255])
    rows = []
    for y in range(size):
        row = bytearray(size * 4)
        half = math.sqrt(max(0.0, (outer + 1) ** 2 - (y - centre) ** 2))
        for x in range(max(0, int(centre - half)), min(size, int(centre + half) + 2)):
            r = math.hypot(x - centre, y - centre)
            alpha = max(0.0, min(1.0, outer - r + 0.5))
            if alpha <= 0:
                continue
            near_tick = tick_x0 <= x <= tick_x1 and tick_y0 <= y <= tick_y1
            if alpha >= 1 and not near_tick and not ring_in - 1 < r < ring_out + 1:
                row[x * 4 : x * 4 + 4] = plain
                continue
            ring = max(0.0, min(1.0, r - ring_in + 0.5)) * max(0.0, min(1.0, ring_out - r + 0.5))
            colour = [d + (lt - d) * ring for d, lt in zip(dark, light, strict=True)]
            if near_tick:
                d = min(_segment_distance(x, y, *tick[0], *tick[1]), _segment_distance(x, y, *tick[1], *tick[2]))
                white = max(0.0, min(1.0, stroke - d + 0.5))
                colour = [c + (255 - c) * white for c in colour]
            row[x * 4 : x * 4 + 4] = bytes([round(colour[0]), round(colour[1]), round(colour[2]), round(alpha * 255)])
        rows.append(bytes(row))
    return png_encode(size, size, rows)


def programme_image(programme: Programme) -> tuple[bytes, str] | None:
    """The programme's image bytes and kind ('png' or 'svg'), or None."""
    if not programme.image:
        return None
    with programme.image.open("rb") as handle:
        data = handle.read()
    try:
        return data, vc.image_kind(data)
    except vc.BakingError:
        return None


def award_png(award: Award) -> bytes:
    """The baked PNG: the programme's PNG, or a generated one (also when its image is an SVG)."""
    image = programme_image(award.programme)
    base = image[0] if image and image[1] == "png" else generated_png(str(award.programme.public_id))
    return vc.bake_png(base, award.credential)


def award_svg(award: Award) -> bytes | None:
    """The baked SVG when the programme's image is an SVG; None otherwise."""
    image = programme_image(award.programme)
    if not image or image[1] != "svg":
        return None
    return vc.bake_svg(image[0], award.credential)
