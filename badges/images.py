"""Programme images, checked by content and never by file name.

PNG: the signature, a well-formed IHDR and a size limit. SVG: parsed as XML with no DOCTYPE or
entity (no billion laughs, no external entities); refused if it holds scripts, event handlers,
foreignObject, animation of links, or any reference outside the document; written back out from the
parsed tree so comments and processing instructions are gone.

CSS (style sheets, style attributes, and presentation attributes such as `fill="url(…)"`) is read
with a real CSS parser, tinycss2, which decodes escapes exactly as a browser does: `u\72l(` is
`url(` to it too. Only `url(#fragment)` references are accepted; at-rules (`@import`, `@font-face`,
…), functions that load images (`image()`, `image-set()`, `cross-fade()`, `element()`), IE's
`expression()` and CSS the parser cannot read are refused.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import tinycss2
from django.conf import settings
from django.utils.translation import gettext as _

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"}
LINKING_ATTRS = {"href", f"{{{XLINK_NS}}}href", "src"}
# <set attributeName="href" to="javascript:…"> turns a harmless <a> into a script link.
ANIMATION_ELEMENTS = {"set", "animate", "animateMotion", "animateTransform", "animateColor"}
# CSS functions whose arguments name a resource to load (besides url(), checked for a fragment).
_LOADING_FUNCTIONS = {"image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade", "element",
                      "-moz-element", "expression", "src", "paint"}


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


def _css_nodes(nodes: Iterable[Any]) -> Iterator[Any]:
    """Every node of a parsed piece of CSS, depth first: rules, declarations, blocks, tokens."""
    for node in nodes:
        yield node
        for attribute in ("prelude", "content", "value", "arguments"):
            children = getattr(node, attribute, None)
            if isinstance(children, list):
                yield from _css_nodes(children)


def _is_fragment_url(node: Any) -> bool:
    if node.type == "url":
        return node.value.strip().startswith("#")
    arguments = [a for a in node.arguments if a.type not in ("whitespace", "comment")]
    return len(arguments) == 1 and arguments[0].type == "string" and arguments[0].value.strip().startswith("#")


def _check_css(nodes: Iterable[Any], external: str) -> None:
    """Refuse CSS that loads anything from outside the document (`external` is the message)."""
    for node in _css_nodes(nodes):
        kind = node.type
        if kind == "error":
            raise ImageError(_("The SVG holds CSS that cannot be read (%(error)s).") % {"error": node.message})
        if kind == "at-rule":
            raise ImageError(_("The SVG style sheet holds an @%(rule)s rule; at-rules are not allowed.")
                             % {"rule": node.lower_at_keyword})
        if kind == "url" and not _is_fragment_url(node):
            raise ImageError(external)
        if kind == "function" and (
            node.lower_name in _LOADING_FUNCTIONS or (node.lower_name == "url" and not _is_fragment_url(node))
        ):
            raise ImageError(external)


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
            if attr_name == "style":
                _check_css(tinycss2.parse_blocks_contents(value), _("The SVG style refers to an external resource."))
            elif "(" in value or "\\" in value:  # a presentation attribute: fill="url(…)", filter, mask…
                _check_css(tinycss2.parse_component_value_list(value),
                           _("The SVG attribute %(attribute)s refers to an external resource.")
                           % {"attribute": attr_name})
        if name == "style" and element.text:
            _check_css(tinycss2.parse_stylesheet(element.text),
                       _("The SVG style sheet refers to an external resource."))
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
