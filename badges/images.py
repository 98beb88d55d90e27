"""Programme images, checked by content and never by file name.

PNG: the signature, a well-formed IHDR and a size limit. SVG: parsed as XML with no DOCTYPE or
entity (no billion laughs, no external entities); refused if it holds scripts, event handlers,
foreignObject, animation of links, or any reference outside the document; written back out from the
parsed tree so comments and processing instructions are gone.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils.translation import gettext as _

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"}
LINKING_ATTRS = {"href", f"{{{XLINK_NS}}}href", "src"}
# <set attributeName="href" to="javascript:…"> turns a harmless <a> into a script link.
ANIMATION_ELEMENTS = {"set", "animate", "animateMotion", "animateTransform", "animateColor"}
_URL_IN_STYLE = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_IMPORT_IN_STYLE = re.compile(r"@import", re.IGNORECASE)


class ImageError(ValueError):
    """The upload is not an image we accept; the message says why."""


@dataclass(frozen=True)
class CheckedImage:
    content: bytes
    extension: str  # "png" or "svg"
    content_type: str


def check_image(data: bytes) -> CheckedImage:
    """Accept a PNG or a safe SVG by its bytes; raise ImageError otherwise."""
    limit = settings.MAX_IMAGE_BYTES
    if len(data) > limit:
        raise ImageError(_("The image is %(size)s bytes; the limit is %(limit)s bytes.")
                         % {"size": f"{len(data):,}", "limit": f"{limit:,}"})
    if not data:
        raise ImageError(_("The image is empty."))
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return CheckedImage(data, "png", "image/png")
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head:
        return CheckedImage(_sanitise_svg(data), "svg", "image/svg+xml")
    raise ImageError(_("The image must be a PNG or an SVG file (checked by content, not by name)."))


def _check_png(data: bytes) -> None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageError(_("The PNG file is damaged: it has no image header."))
    length = struct.unpack(">I", data[8:12])[0]
    chunk = data[12 : 16 + length]
    crc = struct.unpack(">I", data[16 + length : 20 + length])[0]
    if length != 13 or zlib.crc32(chunk) & 0xFFFFFFFF != crc:
        raise ImageError(_("The PNG file is damaged: its image header does not check out."))
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= 4096 and 0 < height <= 4096):
        raise ImageError(_("The PNG image must be between 1 and 4096 pixels on each side."))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sanitise_svg(data: bytes) -> bytes:
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise ImageError(_("The SVG must not contain a DOCTYPE or entity declarations."))
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE/ENTITY refused above, so no expansion happens
    except ET.ParseError as exc:
        raise ImageError(_("The SVG is not well-formed XML: %(error)s.") % {"error": exc}) from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ImageError(_("The file is not an SVG image (its root element is not <svg>)."))
    for element in root.iter():
        name = _local(element.tag) if isinstance(element.tag, str) else ""
        if name in FORBIDDEN_ELEMENTS:
            raise ImageError(
                _("The SVG contains a <%(element)s> element; scripts and embedded content are not allowed.")
                % {"element": name}
            )
        animated = element.get("attributeName", "").rsplit(":", 1)[-1].strip().lower()
        if name in ANIMATION_ELEMENTS and animated in {"href", "src"}:
            raise ImageError(_("The SVG animates a link; that could turn it into a script."))
        for attr, value in element.attrib.items():
            attr_name = _local(attr).lower()
            if attr_name.startswith("on"):
                raise ImageError(_("The SVG contains an event handler (%(attribute)s); scripts are not allowed.")
                                 % {"attribute": attr_name})
            if (attr in LINKING_ATTRS or attr_name in {"href", "src"}) and not value.strip().startswith("#"):
                raise ImageError(_("The SVG refers to something outside itself; only #fragment links are allowed."))
            if attr_name == "style" and (_URL_IN_STYLE.search(value) or _IMPORT_IN_STYLE.search(value)):
                raise ImageError(_("The SVG style refers to an external resource."))
        if name == "style" and element.text and (
            _URL_IN_STYLE.search(element.text) or _IMPORT_IN_STYLE.search(element.text)
        ):
            raise ImageError(_("The SVG style sheet refers to an external resource."))
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
