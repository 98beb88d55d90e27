"""Programme images are checked by content: a sound PNG within the limits, or an SVG with nothing
active or external in it, written back out from the parsed tree. Through the programme services a
refused image writes nothing."""

from __future__ import annotations

import struct

import pytest

from badges.images import ImageError, check_image
from badges.models import Programme
from badges.services import programme_create, programme_update
from config.errors import InvalidInput
from tests.factories import COMPLETE_PROGRAMME, Cast, ProgrammeFactory, png_bytes

SVG_OPEN = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
CLEAN_SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n'
             b'<?xml-stylesheet href="https://cdn.example.org/x.css"?>\n' + SVG_OPEN +
             b'<defs><linearGradient id="g"><stop offset="0" stop-color="#036"/></linearGradient></defs>'
             b'<style>rect { stroke: #036; fill: url("#g") } .x { stroke-width: 2px }</style>'
             b'<rect width="10" height="10" fill="url(#g)" style="fill: url(#g)" transform="rotate(0)"/>'
             b'<a href="#top"><use xlink:href="#g"/><text x="1" y="8">\xe8\xaa\x8d\xe8\xa8\xbc</text></a></svg>')


def svg(body: bytes) -> bytes:
    return SVG_OPEN + body + b"</svg>"


def test_a_png_is_accepted_as_it_is():
    data = png_bytes(64, 64)
    checked = check_image(data)
    assert (checked.content, checked.extension, checked.content_type) == (data, "png", "image/png")


def test_a_png_over_the_byte_limit_is_refused(settings):
    settings.MAX_IMAGE_BYTES = 2000
    assert check_image(png_bytes(pad_to=1900)).extension == "png"
    with pytest.raises(ImageError, match="the limit is 2,000 bytes"):
        check_image(png_bytes(pad_to=2100))


def test_a_png_larger_than_4096_pixels_on_a_side_is_refused():
    with pytest.raises(ImageError, match="between 1 and 4096 pixels"):
        check_image(png_bytes(4097, 1))


@pytest.mark.parametrize(("what", "mangle", "message"), [
    ("a signature only", lambda d: d[:8], "no image header"),
    ("a truncated header", lambda d: d[:30], "no image header"),
    ("a header with a wrong checksum", lambda d: d[:29] + bytes([d[29] ^ 0xFF]) + d[30:], "does not check out"),
    ("a header with a changed width", lambda d: d[:16] + struct.pack(">I", 9) + d[20:], "does not check out"),
    ("a missing IHDR chunk", lambda d: d[:12] + b"IDAT" + d[16:], "no image header"),
])
def test_a_damaged_png_is_refused(what, mangle, message):
    with pytest.raises(ImageError, match=message):
        check_image(mangle(png_bytes()))


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"GIF89a\x01\x00\x01\x00", "must be a PNG or an SVG"),
    (b"\xff\xd8\xff\xe0 JFIF", "must be a PNG or an SVG"),
    (b"<html><body>hi</body></html>", "must be a PNG or an SVG"),
])
def test_anything_else_is_refused_whatever_its_name(data, message):
    with pytest.raises(ImageError, match=message):
        check_image(data)


@pytest.mark.parametrize(("what", "data", "message"), [
    ("a script element", svg(b"<script>alert(1)</script>"), "<script>"),
    ("a script element without the SVG namespace prefix",
     svg(b'<g><script xmlns="http://www.w3.org/1999/xhtml">alert(1)</script></g>'), "<script>"),
    ("an onload handler", SVG_OPEN.replace(b"viewBox", b'onload="alert(1)" viewBox') + b"</svg>", "onload"),
    ("an onclick handler on a child", svg(b'<rect width="1" height="1" onclick="alert(1)"/>'), "onclick"),
    ("an upper-case handler", svg(b'<rect width="1" height="1" ONMOUSEOVER="alert(1)"/>'), "onmouseover"),
    ("a foreignObject", svg(b"<foreignObject><p>hi</p></foreignObject>"), "foreignObject"),
    ("an external image href", svg(b'<image href="https://tracker.example.org/p.png"/>'), "outside itself"),
    ("an external xlink:href", svg(b'<use xlink:href="https://evil.example.org/s.svg#x"/>'), "outside itself"),
    ("a javascript: link", svg(b'<a href="javascript:alert(1)"><text>x</text></a>'), "outside itself"),
    ("a data: URL", svg(b'<image href="data:image/svg+xml;base64,PHN2Zz4="/>'), "outside itself"),
    ("an animated link", svg(b'<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>'),
     "animates a link"),
    ("an animated xlink:href", svg(b'<a><animate attributeName="xlink:href" values="javascript:alert(1)"/></a>'),
     "animates a link"),
    ("an external url() in a style attribute", svg(b'<rect style="fill:url(https://x.example/a.svg#p)"/>'),
     "external resource"),
    ("an @import in a style sheet", svg(b'<style>@import "https://x.example/a.css";</style>'), "@import rule"),
    # CSS escapes spell url( and @import: only a CSS parser sees them as a browser does.
    ("url( spelt with an escape in a style sheet", svg(b'<style>rect{fill:u\\72l(http://x.example/t)}</style>'),
     "style sheet refers to an external resource"),
    ("url( spelt with an escape in a style attribute", svg(b'<rect style="fill:\\75 rl(http://x.example/t)"/>'),
     "style refers to an external resource"),
    ("a quoted url() in a style sheet", svg(b'<style>rect{fill:url("http://x.example/t")}</style>'),
     "external resource"),
    ("@import spelt with an escape", svg(b'<style>@\\69mport "https://x.example/a.css";</style>'), "@import rule"),
    ("a @font-face rule", svg(b'<style>@font-face{font-family:x;src:local(x)}</style>'), "@font-face rule"),
    ("an image-set()", svg(b'<style>rect{fill:image-set("https://x.example/a.png" 1x)}</style>'),
     "external resource"),
    ("an external url() in a presentation attribute", svg(b'<rect fill="url(https://x.example/a.svg#p)"/>'),
     "attribute fill refers to an external resource"),
    ("an escaped url() in a filter attribute", svg(b'<rect filter="u\\72l(https://x.example/f.svg#f)"/>'),
     "attribute filter refers to an external resource"),
    ("CSS the parser cannot read", svg(b'<style>rect{fill:url(http://x.example/a b)}</style>'),
     "cannot be read"),
    ("a DOCTYPE", b'<?xml version="1.0"?><!DOCTYPE svg [<!ELEMENT svg ANY>]>' + svg(b""), "DOCTYPE"),
    ("an entity declaration (billion laughs)",
     b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
     + svg(b"<text>&lol2;</text>"), "DOCTYPE or entity"),
    ("an external entity", b'<!doctype svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + svg(b"<text>&x;</text>"),
     "DOCTYPE"),
    ("a root that is not svg", b'<html xmlns="http://www.w3.org/2000/svg"><svg/></html>', "root element"),
    ("malformed XML", b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
])
def test_an_unsafe_or_broken_svg_is_refused(what, data, message):
    with pytest.raises(ImageError) as refused:
        check_image(data)
    assert message in str(refused.value), what


def test_a_clean_svg_is_accepted_and_written_back_without_comments_or_instructions():
    checked = check_image(CLEAN_SVG)
    assert (checked.extension, checked.content_type) == ("svg", "image/svg+xml")
    out = checked.content
    assert out.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<svg ")
    assert b"<!--" not in out and b"xml-stylesheet" not in out and b"cdn.example.org" not in out
    assert b'fill="url(#g)"' in out and b'href="#top"' in out and b'xlink:href="#g"' in out
    assert "認証".encode() in out
    assert check_image(out).content == out  # re-serialising is stable


@pytest.mark.django_db
def test_a_programme_created_with_a_refused_image_is_not_created():
    cast = Cast()
    with pytest.raises(InvalidInput) as refused:
        programme_create(actor=cast.editor, organisation=cast.organisation, data=dict(COMPLETE_PROGRAMME),
                         image=svg(b"<script>alert(1)</script>"))
    assert list(refused.value.field_errors) == ["image"]
    assert "<script>" in refused.value.field_errors["image"][0]
    assert not Programme.objects.exists()


@pytest.mark.django_db
def test_a_refused_image_leaves_an_existing_programme_unchanged(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation)
    with pytest.raises(InvalidInput):
        programme_update(actor=cast.editor, programme=programme, data={"name_en": "Renamed"},
                         image=png_bytes()[:20])
    programme.refresh_from_db()
    assert programme.name_en != "Renamed" and not programme.image
    assert not any(tmp_path.iterdir())


@pytest.mark.django_db
def test_an_accepted_image_is_stored_under_the_programmes_public_id(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cast = Cast()
    programme = programme_create(actor=cast.editor, organisation=cast.organisation, data=dict(COMPLETE_PROGRAMME),
                                 image=CLEAN_SVG)
    assert programme.image.name == f"programmes/{programme.public_id}.svg"
    assert programme.image.read() == check_image(CLEAN_SVG).content


@pytest.mark.django_db
def test_a_style_sheet_spelling_url_with_an_escape_is_not_stored(settings, tmp_path):
    # The case reported in issue 8: CSS escapes spell `url(` and the old pattern did not see it.
    settings.MEDIA_ROOT = tmp_path
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation)
    with pytest.raises(InvalidInput) as refused:
        programme_update(actor=cast.editor, programme=programme, data={"name_en": "Renamed"},
                         image=svg(b'<style>rect{fill:u\\72l(http://tracker.example/p)}</style><rect/>'))
    assert "refers to an external resource" in refused.value.field_errors["image"][0]
    programme.refresh_from_db()
    assert programme.name_en != "Renamed" and not programme.image
    assert not any(tmp_path.iterdir())
