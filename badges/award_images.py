"""Badge images to bake credentials into: the programme's own image, or, when it has none (or only
an SVG, for the PNG download), a plain round badge drawn here in pure Python (zlib + struct). The SVG
download of a programme with a PNG image (or none) shows that PNG inside an SVG.

The image of a badge that is not in force carries a visible mark, so that nobody shown it takes it for
a valid badge: revoked, expired, or suspended (its endorsement is suspended). The PNG is greyed and
crossed by a band in the mark's colour with the word in capitals (Pillow composites it); the SVG gets
the same as an overlay group at the end of the document. The word is in English and Japanese is not
drawn: the baked image is one file shared everywhere, and the band and cross read in any language.
The credential baked in is unchanged; verifiers read its standing from the status list as before.
"""

from __future__ import annotations

import base64
import colorsys
import functools
import hashlib
import io
import math
import re
import struct
import zlib
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw, ImageFont

from badges import credentials as vc
from badges.awards import Standing, award_standing
from badges.models import Award, Programme
from endorsement.models import EndorsementState

SIZE = 256
SVG_NS = "http://www.w3.org/2000/svg"
# An uploaded PNG larger than this (pixels) is not decoded to be marked; the generated badge is used.
MAX_MARK_PIXELS = 4096 * 4096
MARKS = {  # standing → (word, band colour); the colours meet WCAG AA with white text
    "revoked": ("REVOKED", (138, 17, 17)),
    "expired": ("EXPIRED", (138, 17, 17)),
    "suspended": ("SUSPENDED", (107, 68, 0)),
}


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


def image_mark(award: Award) -> str | None:
    """The mark the award's image carries: "revoked", "expired", "suspended" (the endorsement it was
    issued under is suspended), or None when it is in force."""
    standing = award_standing(award)
    if standing in (Standing.REVOKED, Standing.EXPIRED):
        return standing
    if award.endorsement_id and award.endorsement.state == EndorsementState.SUSPENDED:
        return "suspended"
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError):  # Pillow built without FreeType: the bitmap font, still legible
        return ImageFont.load_default()


def mark_png(png: bytes, mark: str) -> bytes:
    """The PNG greyed, crossed out and banded with the mark's word; the input if it cannot be decoded
    (the caller falls back to the generated badge)."""
    word, colour = MARKS[mark]
    with Image.open(io.BytesIO(png)) as source:
        if source.width * source.height > MAX_MARK_PIXELS:
            raise ValueError("too large to mark")
        image = source.convert("RGBA")
    width, height = image.size
    grey = Image.merge("RGBA", (*[image.convert("L")] * 3, image.getchannel("A")))
    image = Image.blend(image, grey, 0.8)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    line = max(2, round(min(width, height) * 0.04))
    draw.line([(0, 0), (width, height)], fill=(*colour, 200), width=line)
    draw.line([(0, height), (width, 0)], fill=(*colour, 200), width=line)
    band = max(12, round(height * 0.2))
    top = (height - band) // 2
    draw.rectangle([(0, top), (width, top + band)], fill=(*colour, 235))
    font = _font(max(8, round(band * 0.6)))
    left, upper, right, lower = draw.textbbox((0, 0), word, font=font)
    if right - left > width * 0.94:  # a narrow image: a smaller word
        font = _font(max(8, round(band * 0.6 * width * 0.94 / (right - left))))
        left, upper, right, lower = draw.textbbox((0, 0), word, font=font)
    draw.text(((width - (right - left)) / 2 - left, top + (band - (lower - upper)) / 2 - upper), word,
              font=font, fill=(255, 255, 255, 255))
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).save(out, format="PNG", optimize=True)
    return out.getvalue()


_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+)")


def _svg_size(root: ET.Element) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the SVG's user space: its viewBox, else width/height, else 256²."""
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            x, y, w, h = (float(v) for v in box)
            if w > 0 and h > 0:
                return x, y, w, h
        except ValueError:
            pass
    sizes = [_NUMBER.match(root.get(name) or "") for name in ("width", "height")]
    if all(sizes):
        w, h = (float(m.group(1)) for m in sizes)
        if w > 0 and h > 0:
            return 0.0, 0.0, w, h
    return 0.0, 0.0, float(SIZE), float(SIZE)


def mark_svg(svg: bytes, mark: str) -> bytes:
    """The (sanitised) SVG with an overlay group: a grey veil, a cross and a band with the word."""
    word, colour = MARKS[mark]
    rgb = "#{:02x}{:02x}{:02x}".format(*colour)
    root = ET.fromstring(svg)  # noqa: S314 - the programme's SVG was sanitised on upload (badges.images)
    x, y, w, h = _svg_size(root)
    q = f"{{{SVG_NS}}}"
    group = ET.SubElement(root, q + "g", {"id": "badge-standing-mark", "aria-label": word, "role": "img"})
    ET.SubElement(group, q + "rect", {"x": f"{x:g}", "y": f"{y:g}", "width": f"{w:g}", "height": f"{h:g}",
                                      "fill": "#ffffff", "fill-opacity": "0.6"})
    stroke = f"{max(w, h) * 0.04:g}"
    for x1, y1, x2, y2 in ((x, y, x + w, y + h), (x, y + h, x + w, y)):
        ET.SubElement(group, q + "line", {"x1": f"{x1:g}", "y1": f"{y1:g}", "x2": f"{x2:g}", "y2": f"{y2:g}",
                                          "stroke": rgb, "stroke-width": stroke, "stroke-opacity": "0.8"})
    band = h * 0.2
    ET.SubElement(group, q + "rect", {"x": f"{x:g}", "y": f"{y + (h - band) / 2:g}", "width": f"{w:g}",
                                      "height": f"{band:g}", "fill": rgb, "fill-opacity": "0.92"})
    size = min(band * 0.6, w * 0.94 / (0.62 * len(word)))
    text = ET.SubElement(group, q + "text", {
        "x": f"{x + w / 2:g}", "y": f"{y + h / 2:g}", "text-anchor": "middle", "dominant-baseline": "central",
        "font-family": "DejaVu Sans, Arial, sans-serif", "font-weight": "bold", "font-size": f"{size:g}",
        "fill": "#ffffff"})
    text.text = word
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _award_base_png(award: Award) -> bytes:
    """The PNG a badge is baked into: the programme's PNG, or a generated one (also when its image is
    an SVG); marked when the badge is not in force (`image_mark`)."""
    image = programme_image(award.programme)
    generated = generated_png(str(award.programme.public_id))
    base = image[0] if image and image[1] == "png" else generated
    mark = image_mark(award)
    if mark:
        try:
            base = mark_png(base, mark)
        except (OSError, ValueError, Image.DecompressionBombError):  # an upload Pillow cannot read
            base = mark_png(generated, mark)
    return base


def award_png(award: Award) -> bytes:
    """The baked PNG: the programme's PNG, or a generated one (also when its image is an SVG);
    marked when the badge is not in force (`image_mark`)."""
    return vc.bake_png(_award_base_png(award), award.credential)


def png_as_svg(png: bytes) -> bytes:
    """An SVG showing the PNG at its own size (an `<image>` with a data: URL), to bake a credential
    into when the programme's image is a PNG or it has none."""
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk, first after the signature
    data = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" href="{data}" '
        f'xlink:href="{data}"/></svg>'
    ).encode()


def award_svg(award: Award) -> bytes:
    """The baked SVG: the programme's SVG (marked as `award_png`), or the PNG `award_png` bakes
    into, shown inside an SVG; every badge has both downloads, whatever image was uploaded."""
    image = programme_image(award.programme)
    if not image or image[1] != "svg":
        return vc.bake_svg(png_as_svg(_award_base_png(award)), award.credential)
    mark = image_mark(award)
    return vc.bake_svg(mark_svg(image[0], mark) if mark else image[0], award.credential)


def programme_png(programme: Programme, mark: str | None) -> bytes:
    """The programme's badge image as the registry shows it (no credential baked in): its PNG, or the
    generated one; marked when its endorsement is not in force."""
    image = programme_image(programme)
    generated = generated_png(str(programme.public_id))
    base = image[0] if image and image[1] == "png" else generated
    if not mark:
        return base
    try:
        return mark_png(base, mark)
    except (OSError, ValueError, Image.DecompressionBombError):
        return mark_png(generated, mark)


def award_png_ob2(award: Award, assertion: dict) -> bytes:
    """The Open Badges 2.0 baked PNG: the same image as `award_png` (marked alike), with the award's
    OB 2.0 Assertion (badges.ob2) in an `openbadges` iTXt chunk instead of the OB 3.0 credential."""
    return vc.bake_png_ob2(_award_base_png(award), assertion)
