"""Baking a credential into a PNG or SVG image, and extracting it again (OB 3.0 §5.3).

* PNG: one uncompressed `iTXt` chunk with keyword `openbadgecredential` (empty language tag and
  translated keyword), holding the credential's JSON, inserted just before `IEND`. An existing
  `openbadgecredential` chunk is replaced. Every chunk's length and CRC are checked on reading.
* PNG, Open Badges 2.0 (`bake_png_ob2`, `extract_png_ob2`): the same kind of chunk with keyword
  `openbadges` (OB 2.0 Baking §PNG), holding a hosted Assertion's JSON (or, as OB 1.x/2.0 also
  allow, its URL, or a signed assertion's JWS, which reading returns as the text it is).
* SVG: `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root `<svg>` tag and,
  directly after that tag, `<openbadges:credential><![CDATA[ …JSON… ]]></openbadges:credential>`.
  An existing credential element is replaced. The rest of the SVG is kept byte for byte.

SVG is parsed with the standard library's expat parser configured to refuse entity declarations
and never to load external entities or DTDs (no billion-laughs, no XXE).
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any
from xml.parsers import expat

from .errors import BakingError
from .inflate import InflateError, inflate_limited

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
PNG_KEYWORD_OB2 = b"openbadges"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
#: Largest credential text accepted when extracting (a decompression-bomb and memory guard).
MAX_CREDENTIAL_BYTES = 8 * 1024 * 1024

JsonDict = dict[str, Any]


def _credential_text(credential: JsonDict | str, *, ascii_only: bool) -> str:
    if isinstance(credential, str):
        json.loads(credential)  # must be JSON
        text = credential
    elif isinstance(credential, dict):
        text = json.dumps(credential, ensure_ascii=ascii_only, separators=(",", ":"))
    else:
        raise BakingError("the credential must be a JSON object (dict) or its JSON text")
    if ascii_only:
        text = json.dumps(json.loads(text), ensure_ascii=True, separators=(",", ":"))
    return text


def _parse_credential(text: str, where: str) -> JsonDict:
    text = text.strip()
    if not text:
        raise BakingError(f"the {where} holding the credential is empty")
    if not text.startswith("{"):
        raise BakingError(
            f"the {where} does not hold a JSON credential (a VC-JWT compact JWS is not supported)"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise BakingError(f"the {where} holds malformed JSON: {error}") from None
    if not isinstance(value, dict):
        raise BakingError(f"the {where} holds JSON that is not an object")
    return value


# --- PNG ----------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes, int, int]]:
    """(type, payload, start offset, end offset) of every chunk, verifying lengths and CRCs."""
    if not data.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image (bad signature)")
    chunks = []
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + 8 > len(data):
            raise BakingError("corrupt PNG: truncated chunk header (no IEND)")
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunk_type = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise BakingError(f"corrupt PNG: chunk {chunk_type!r} runs past the end of the file")
        if not re.fullmatch(rb"[A-Za-z]{4}", chunk_type):
            raise BakingError(f"corrupt PNG: invalid chunk type {chunk_type!r}")
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(chunk_type + payload) != crc:
            raise BakingError(f"corrupt PNG: CRC mismatch in chunk {chunk_type.decode('ascii')}")
        chunks.append((chunk_type, payload, offset, end))
        offset = end
        if chunk_type == b"IEND":
            return chunks


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + chunk_type
        + payload
        + struct.pack(">I", zlib.crc32(chunk_type + payload))
    )


def _is_credential_itxt(chunk_type: bytes, payload: bytes, keyword: bytes = PNG_KEYWORD) -> bool:
    return chunk_type == b"iTXt" and payload.split(b"\0", 1)[0] == keyword


def _itxt_text(payload: bytes) -> str:
    parts = payload.split(b"\0", 1)
    if len(parts) != 2 or len(parts[1]) < 2:
        raise BakingError("corrupt PNG: malformed iTXt chunk")
    rest = parts[1]
    compressed, method, rest = rest[0], rest[1], rest[2:]
    fields = rest.split(b"\0", 2)
    if len(fields) != 3:
        raise BakingError("corrupt PNG: malformed iTXt chunk (language tag / translated keyword)")
    text = fields[2]
    if compressed == 1:
        # The spec forbids compression when baking, but reading a compressed chunk is harmless.
        if method != 0:
            raise BakingError("corrupt PNG: unknown iTXt compression method")
        try:
            text = inflate_limited(text, limit=MAX_CREDENTIAL_BYTES, container="zlib")
        except InflateError as error:
            if error.reason == "too_large":
                raise BakingError("the baked credential is too large") from None
            raise BakingError(f"corrupt PNG: bad compressed iTXt text: {error}") from None
    elif compressed != 0:
        raise BakingError("corrupt PNG: invalid iTXt compression flag")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise BakingError("corrupt PNG: iTXt text is not UTF-8") from None


def _bake_png_text(png: bytes, text: bytes, keyword: bytes) -> bytes:
    chunks = _png_chunks(bytes(png))
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
    itxt = _png_chunk(b"iTXt", keyword + b"\0" + b"\0\0" + b"\0" + b"\0" + text)
    out = bytearray(PNG_SIGNATURE)
    for chunk_type, payload, start, end in chunks:
        if _is_credential_itxt(chunk_type, payload, keyword):
            continue
        if chunk_type == b"IEND":
            out += itxt
        out += png[start:end]
    return bytes(out)


def bake_png(png: bytes, credential: JsonDict | str) -> bytes:
    """The PNG with the credential in an `openbadgecredential` iTXt chunk (replacing any old one)."""
    return _bake_png_text(png, _credential_text(credential, ascii_only=False).encode("utf-8"), PNG_KEYWORD)


def bake_png_ob2(png: bytes, assertion: JsonDict | str) -> bytes:
    """The PNG with an Open Badges 2.0 assertion in an `openbadges` iTXt chunk (replacing any old
    one): a JSON object is baked as its JSON, a string (the hosted Assertion's URL) as it is."""
    if isinstance(assertion, dict):
        text = _credential_text(assertion, ascii_only=False)
    elif isinstance(assertion, str) and assertion.strip():
        text = assertion.strip()
    else:
        raise BakingError("an Open Badges 2.0 assertion is a JSON object or its URL")
    return _bake_png_text(png, text.encode("utf-8"), PNG_KEYWORD_OB2)


def extract_png_ob2(png: bytes) -> JsonDict | str:
    """What an Open Badges 2.0 PNG holds in its `openbadges` iTXt chunk: the Assertion as a JSON
    object, or the text (an assertion URL or a JWS); `BakingError` if none, not a PNG, or corrupt."""
    for chunk_type, payload, _start, _end in _png_chunks(bytes(png)):
        if _is_credential_itxt(chunk_type, payload, PNG_KEYWORD_OB2):
            text = _itxt_text(payload).strip()
            if text.startswith("{"):
                return _parse_credential(text, "PNG iTXt chunk")
            if not text:
                raise BakingError("the PNG iTXt chunk holding the assertion is empty")
            return text
    raise BakingError("the PNG holds no Open Badges 2.0 assertion (no 'openbadges' iTXt chunk)")


def extract_png(png: bytes) -> JsonDict:
    """The credential baked into a PNG; `BakingError` if none, not a PNG, or corrupt."""
    for chunk_type, payload, _start, _end in _png_chunks(bytes(png)):
        if _is_credential_itxt(chunk_type, payload):
            return _parse_credential(_itxt_text(payload), "PNG iTXt chunk")
    raise BakingError("the PNG holds no baked credential (no 'openbadgecredential' iTXt chunk)")


# --- SVG ----------------------------------------------------------------------------------------


class _SvgScan:
    """Positions and text found by one safe expat pass over an SVG document."""

    def __init__(self) -> None:
        self.root_start: int | None = None
        self.root_name: str | None = None
        self.root_declares_ob: str | None = None  # the URI bound to `openbadges` on the root
        self.credential_spans: list[tuple[int, int]] = []
        self.first_credential_text: str | None = None
        self.first_credential_verify: str | None = None


def _refuse(*_args: Any) -> None:
    raise BakingError("SVG with entity declarations or external entities is refused")


def _scan_svg(data: bytes) -> _SvgScan:
    scan = _SvgScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.buffer_text = True
    depth = 0
    stack: list[tuple[bool, int]] = []
    collecting: list[str] | None = None
    first_done = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, collecting
        position = parser.CurrentByteIndex
        if depth == 0:
            scan.root_start = position
            scan.root_name = name
        is_credential = name == f"{OB_NAMESPACE} credential"
        stack.append((is_credential, position))
        if is_credential and collecting is None and not first_done:
            collecting = []
            scan.first_credential_verify = attrs.get("verify")
        depth += 1

    def end(_name: str) -> None:
        nonlocal depth, collecting, first_done
        depth -= 1
        is_credential, start_position = stack.pop()
        if is_credential:
            scan.credential_spans.append((start_position, _element_end(data, parser.CurrentByteIndex)))
            if collecting is not None and not first_done:
                scan.first_credential_text = "".join(collecting)
                collecting = None
                first_done = True

    def text(value: str) -> None:
        if collecting is not None:
            collecting.append(value)

    def namespace(prefix: str | None, uri: str) -> None:
        if depth == 0 and prefix == "openbadges":
            scan.root_declares_ob = uri

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartNamespaceDeclHandler = namespace
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise BakingError(f"not a well-formed SVG (XML) document: {error}") from None
    if scan.root_name != f"{SVG_NAMESPACE} svg":
        raise BakingError("not an SVG image (the root element is not <svg> in the SVG namespace)")
    return scan


def _element_end(data: bytes, index: int) -> int:
    """Offset just past the tag at `index` (an end tag, or a self-closing start tag)."""
    return _tag_end(data, index)


def _tag_end(data: bytes, index: int) -> int:
    """Offset just past the `>` closing the tag that starts at `index` (quotes respected)."""
    quote: int | None = None
    for position in range(index, len(data)):
        byte = data[position]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return position + 1
    raise BakingError("not a well-formed SVG document (unterminated tag)")


def _svg_bytes(svg: bytes | str) -> bytes:
    return svg.encode("utf-8") if isinstance(svg, str) else bytes(svg)


def bake_svg(svg: bytes | str, credential: JsonDict | str) -> bytes:
    """The SVG with `<openbadges:credential>` (CDATA JSON) right after the root tag."""
    data = _svg_bytes(svg)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BakingError("UTF-16 SVG files cannot be baked; convert the SVG to UTF-8")
    scan = _scan_svg(data)
    if scan.root_declares_ob not in (None, OB_NAMESPACE):
        raise BakingError("the SVG binds the prefix 'openbadges' to another namespace")
    # JSON as ASCII, so it is valid whatever encoding the SVG declares; `]]>` split across CDATA.
    text = _credential_text(credential, ascii_only=True).replace("]]>", "]]]]><![CDATA[>")
    element = f"<openbadges:credential><![CDATA[{text}]]></openbadges:credential>".encode("ascii")
    # Remove existing credential elements (from the end, so earlier offsets stay valid).
    for start, end in sorted(scan.credential_spans, reverse=True):
        data = data[:start] + data[end:]
    scan = _scan_svg(data)
    assert scan.root_start is not None
    root_end = _tag_end(data, scan.root_start)
    root_tag = data[scan.root_start : root_end]
    if root_tag.endswith(b"/>"):
        # <svg .../> : open it so it can hold the credential.
        root_tag = root_tag[:-2] + b">"
        closing = b"</" + re.match(rb"<([^\s/>]+)", root_tag).group(1) + b">"  # type: ignore[union-attr]
    else:
        closing = b""
    if scan.root_declares_ob is None:
        name_end = re.match(rb"<[^\s/>]+", root_tag).end()  # type: ignore[union-attr]
        root_tag = root_tag[:name_end] + f' xmlns:openbadges="{OB_NAMESPACE}"'.encode() + root_tag[name_end:]
    baked = data[: scan.root_start] + root_tag + element + closing + data[root_end:]
    _scan_svg(baked)  # still well-formed
    return baked


def extract_svg(svg: bytes | str) -> JsonDict:
    """The credential baked into an SVG; `BakingError` if none, not an SVG, or unreadable."""
    scan = _scan_svg(_svg_bytes(svg))
    if scan.first_credential_text is None:
        raise BakingError("the SVG holds no baked credential (no <openbadges:credential> element)")
    if scan.first_credential_verify and not scan.first_credential_text.strip():
        raise BakingError("the SVG holds a VC-JWT credential (verify attribute), which is not supported")
    return _parse_credential(scan.first_credential_text, "SVG <openbadges:credential> element")


# --- either -------------------------------------------------------------------------------------


def image_kind(image: bytes | str) -> str:
    """'png' or 'svg' by content; `BakingError` for anything else."""
    data = _svg_bytes(image)
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "svg"
    raise BakingError("the image is neither a PNG nor an SVG")


def bake(image: bytes | str, credential: JsonDict | str) -> bytes:
    """Bake the credential into a PNG or SVG image (detected by content)."""
    return bake_png(_svg_bytes(image), credential) if image_kind(image) == "png" else bake_svg(image, credential)


def extract(image: bytes | str) -> JsonDict:
    """The credential baked into a PNG or SVG image (detected by content)."""
    return extract_png(_svg_bytes(image)) if image_kind(image) == "png" else extract_svg(image)
