"""Baking credentials into PNG and SVG images, and the full round trip through verification."""

from __future__ import annotations

import copy
import json
import struct
import zlib

import pytest

from badges.credentials import (
    BakingError,
    VerificationFailure,
    bake,
    bake_png,
    bake_svg,
    extract,
    extract_png,
    extract_svg,
    sign,
    verify,
)

from .factories import Parties, credential


def _chunk(chunk_type: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", zlib.crc32(chunk_type + payload))


def _png() -> bytes:
    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0\xff\x00\x00\x00\xff\x00")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        out.append((png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return out


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" data-note="a &gt; b">\n'
    b'  <circle cx="256" cy="256" r="200" fill="#2a6"/>\n'
    b"</svg>\n"
)


@pytest.fixture
def signed(parties: Parties) -> dict:
    return sign(credential(parties), parties.org_key, parties.org_method)


def test_build_sign_bake_png_extract_verify_round_trip(signed: dict, parties: Parties) -> None:
    baked = bake_png(_png(), signed)
    extracted = extract_png(baked)
    assert extracted == signed
    assert verify(extracted, parties.resolver()).verified


def test_the_png_chunk_is_an_uncompressed_itxt_named_openbadgecredential_before_iend(signed: dict) -> None:
    chunks = _chunks(bake_png(_png(), signed))
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"iTXt", b"IEND"]
    payload = chunks[2][1]
    keyword, rest = payload.split(b"\0", 1)
    assert keyword == b"openbadgecredential"
    assert rest[:4] == b"\0\0\0\0"  # not compressed, method 0, empty language tag, empty translation
    assert json.loads(rest[4:].decode("utf-8")) == signed


def test_baking_a_png_again_replaces_the_credential(signed: dict) -> None:
    other = copy.deepcopy(signed)
    other["name"] = "Other"
    baked_twice = bake_png(bake_png(_png(), signed), other)
    assert [t for t, _ in _chunks(baked_twice)].count(b"iTXt") == 1
    assert extract_png(baked_twice)["name"] == "Other"


def test_a_png_without_credential_or_with_a_bad_crc_or_truncated_raises_baking_error(signed: dict) -> None:
    with pytest.raises(BakingError, match="no baked credential"):
        extract_png(_png())
    baked = bytearray(bake_png(_png(), signed))
    baked[200] ^= 0x01  # inside the iTXt text
    with pytest.raises(BakingError, match="CRC"):
        extract_png(bytes(baked))
    with pytest.raises(BakingError, match="corrupt PNG"):
        extract_png(bake_png(_png(), signed)[:-20])


def test_a_png_holding_something_else_than_json_raises_baking_error() -> None:
    itxt = _chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0header.payload.signature")
    png = _png()
    with pytest.raises(BakingError, match="JWS"):
        extract_png(png[:-12] + itxt + png[-12:])


def test_build_sign_bake_svg_extract_verify_round_trip(signed: dict, parties: Parties) -> None:
    baked = bake_svg(SVG, signed)
    extracted = extract_svg(baked)
    assert extracted == signed
    assert verify(extracted, parties.resolver()).verified


def test_the_svg_holds_the_credential_right_after_the_root_tag_in_cdata(signed: dict) -> None:
    text = bake_svg(SVG, signed).decode("utf-8")
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in text
    root_end = text.index(">", text.index("<svg")) + 1
    assert text[root_end:].startswith("<openbadges:credential><![CDATA[{")
    assert text.count("<openbadges:credential>") == 1
    assert '<circle cx="256" cy="256" r="200" fill="#2a6"/>' in text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg')


def test_baking_an_svg_again_replaces_the_credential_and_keeps_one_namespace_declaration(signed: dict) -> None:
    other = copy.deepcopy(signed)
    other["name"] = "Other ]]> name"
    text = bake_svg(bake_svg(SVG, signed), other).decode("utf-8")
    assert text.count("<openbadges:credential>") == 1
    assert text.count("xmlns:openbadges=") == 1
    assert extract_svg(text)["name"] == "Other ]]> name"


def test_an_svg_without_credential_or_not_an_svg_raises_baking_error() -> None:
    with pytest.raises(BakingError, match="no baked credential"):
        extract_svg(SVG)
    with pytest.raises(BakingError, match="not an SVG"):
        extract_svg(b'<html xmlns="http://www.w3.org/1999/xhtml"/>')
    with pytest.raises(BakingError, match="well-formed"):
        extract_svg(b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>")


def test_svg_entity_tricks_are_refused_without_reading_anything() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><openbadges:credential '
        b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">&x;</openbadges:credential></svg>'
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>'
    )
    for evil in (xxe, laughs):
        with pytest.raises(BakingError, match="entit"):
            extract_svg(evil)


def test_bake_and_extract_pick_the_format_from_the_content(signed: dict) -> None:
    assert extract(bake(_png(), signed)) == signed
    assert extract(bake(SVG, signed)) == signed
    assert extract(bake(SVG.decode("utf-8"), signed)) == signed
    with pytest.raises(BakingError, match="neither a PNG nor an SVG"):
        extract(b"GIF89a\x01\x00\x01\x00")


def test_a_tampered_baked_credential_fails_verification(signed: dict, parties: Parties) -> None:
    text = bake_svg(SVG, signed).decode("utf-8").replace("Acme Academy", "Evil Academy")
    result = verify(extract_svg(text), parties.resolver())
    assert result.reason is VerificationFailure.SIGNATURE_MISMATCH


def test_non_ascii_credentials_survive_both_formats(parties: Parties) -> None:
    document = credential(parties)
    document["name"] = "データ活用の基礎 🎓"
    signed = sign(document, parties.org_key, parties.org_method)
    for image in (_png(), SVG):
        extracted = extract(bake(image, signed))
        assert extracted["name"] == "データ活用の基礎 🎓"
        assert verify(extracted, parties.resolver()).verified
