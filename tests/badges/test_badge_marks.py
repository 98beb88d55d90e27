"""The image of a badge that is not in force is visibly marked: on the badge page and in the baked PNG
and SVG downloads (revoked, expired, or its endorsement suspended); a badge in force is not."""

from __future__ import annotations

import io
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from badges import credentials as vc
from badges.award_images import MARKS, generated_png, image_mark, mark_png, mark_svg
from badges.awards import award_revoke
from badges.models import Award
from endorsement import services
from tests.badges.test_awards_pages import SVG, issued

pytestmark = pytest.mark.django_db


def centre(png: bytes) -> tuple[int, int, int, int]:
    """The pixel at the left edge, half-way down: outside the round generated badge (transparent there),
    inside the band of a marked image."""
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA").getpixel((1, image.height // 2))


def is_band(pixel, mark: str) -> bool:
    """The pixel is the band's colour, opaque."""
    colour = MARKS[mark][1]
    return pixel[3] > 200 and all(abs(a - b) < 30 for a, b in zip(pixel[:3], colour, strict=True))


def test_a_badge_in_force_has_no_mark_and_its_png_is_the_generated_image():
    award, _, _ = issued()
    assert image_mark(award) is None
    png = Client().get(f"/badges/{award.public_id}.png").content
    assert png.startswith(generated_png(str(award.programme.public_id))[:-12])
    assert not is_band(centre(png), "revoked")


def test_a_revoked_badges_png_is_greyed_and_banded_and_still_carries_its_credential():
    award, _, issuer = issued()
    award_revoke(actor=issuer, award=award, reason="Awarded in error.")
    award = Award.objects.get(pk=award.pk)
    assert image_mark(award) == "revoked"
    response = Client().get(f"/badges/{award.public_id}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert is_band(centre(response.content), "revoked")
    assert not response.content.startswith(generated_png(str(award.programme.public_id))[:-12])
    assert vc.extract_png(response.content) == award.credential
    page = Client().get(f"/badges/{award.public_id}").content.decode()
    assert 'class="badge-image marked mark-revoked"' in page and "crossed out: revoked" in page


def test_an_uploaded_png_of_a_revoked_badge_is_marked_too():
    award, _, issuer = issued()
    plain = Image.new("RGBA", (120, 80), (20, 120, 200, 255))
    out = io.BytesIO()
    plain.save(out, format="PNG")
    award.programme.image.save("badge.png", ContentFile(out.getvalue()))
    award_revoke(actor=issuer, award=award, reason="Awarded in error.")
    baked = Client().get(f"/badges/{Award.objects.get(pk=award.pk).public_id}.png").content
    with Image.open(io.BytesIO(baked)) as image:
        assert image.size == (120, 80)  # the programme's own image, marked
        corner = image.convert("RGBA").getpixel((60, 5))
    assert corner[2] < 200 or corner[0] > 20  # greyed: no longer the original blue
    assert is_band(centre(baked), "revoked")


def test_an_expired_badge_is_marked_expired():
    award, _, _ = issued(validity_months=12)
    Award.objects.filter(pk=award.pk).update(valid_until=timezone.now() - timedelta(days=1))
    award = Award.objects.get(pk=award.pk)
    assert image_mark(award) == "expired"
    assert is_band(centre(Client().get(f"/badges/{award.public_id}.png").content), "expired")


def test_a_badge_whose_endorsement_is_suspended_is_marked_suspended():
    award, cast, _ = issued()
    services.endorsement_suspend(actor=cast.manager, endorsement=award.endorsement, comment="Under review.")
    award = Award.objects.get(pk=award.pk)
    assert image_mark(award) == "suspended"
    assert is_band(centre(Client().get(f"/badges/{award.public_id}.png").content), "suspended")


def test_a_revoked_badges_svg_carries_the_overlay_and_its_credential():
    award, _, issuer = issued()
    award.programme.image.save("badge.svg", ContentFile(SVG))
    valid = Client().get(f"/badges/{award.public_id}.svg").content
    assert b"badge-standing-mark" not in valid
    award_revoke(actor=issuer, award=award, reason="Awarded in error.")
    response = Client().get(f"/badges/{award.public_id}.svg")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    group = root.find("{http://www.w3.org/2000/svg}g[@id='badge-standing-mark']")
    assert group is not None
    assert group.find("{http://www.w3.org/2000/svg}text").text == "REVOKED"
    band = group.findall("{http://www.w3.org/2000/svg}rect")[1]
    assert (band.get("width"), band.get("fill")) == ("10", "#8a1111")  # across the whole 10×10 image
    assert vc.extract_svg(response.content) == Award.objects.get(pk=award.pk).credential


def test_the_overlay_follows_the_svgs_view_box():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-50 -50 100 200"><circle r="40"/></svg>')
    root = ET.fromstring(mark_svg(svg, "expired"))  # noqa: S314 - our own output
    veil = root.find("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}rect")
    assert (veil.get("x"), veil.get("y"), veil.get("width"), veil.get("height")) == ("-50", "-50", "100", "200")


def test_an_image_too_large_to_decode_is_refused_by_mark_png():
    with pytest.raises(ValueError):
        mark_png(_huge_png_header(), "revoked")


def _huge_png_header() -> bytes:
    """A PNG claiming 5000×5000 pixels (no pixel data needed to be refused)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 5000, 5000, 8, 6, 0, 0, 0))
            + chunk(b"IEND", b""))


# --- the registry's programme page ----------------------------------------------------------------
def test_the_registry_page_shows_the_programme_image_marked_while_its_endorsement_is_suspended():
    from endorsement.registry import registry_refresh

    award, cast, _ = issued()
    programme, endorsement = award.programme, award.endorsement
    registry_refresh()
    client = Client()
    page = client.get(f"/registry/{programme.public_id}/").content.decode()
    assert f'src="/registry/{programme.public_id}/image.png"' in page and "marked" not in page
    plain = client.get(f"/registry/{programme.public_id}/image.png")
    assert plain.status_code == 200 and plain["Content-Type"] == "image/png"
    assert plain.content == generated_png(str(programme.public_id))  # in force: unmarked, nothing baked

    services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under review.")
    registry_refresh()
    page = client.get(f"/registry/{programme.public_id}/").content.decode()
    assert 'class="badge-image marked mark-suspended"' in page and "crossed out: its endorsement is suspended" in page
    marked = client.get(f"/registry/{programme.public_id}/image.png")
    assert is_band(centre(marked.content), "suspended")
    assert client.get(f"/registry/{programme.public_id}/image.png",
                      HTTP_IF_NONE_MATCH=marked["ETag"]).status_code == 304


def test_a_programme_not_in_the_registry_has_no_image():
    award, _, _ = issued()
    assert Client().get(f"/registry/{award.programme.public_id}/image.png").status_code == 404
