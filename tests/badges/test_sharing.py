"""The badge page's sharing (badges.sharing): LinkedIn's add-to-profile link with the badge's fields,
share links, the copy field, a QR code of the verification URL, link-preview tags, and the print
links to the certificate."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from badges.awards import award_issue, award_url
from badges.sharing import linkedin_add_url, qr_svg
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "meta":
            key = attributes.get("property") or attributes.get("name")
            if key:
                self.meta[key] = attributes.get("content", "")
        if tag == "a" and attributes.get("class"):
            self.links[attributes["class"]] = attributes.get("href", "")


def issued(**fields):
    programme, _app, cast, issuer = awarding_setup(**fields)
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    return award, cast


def page_tags(award, language: str = "en") -> tuple[str, Tags]:
    client = Client()
    client.cookies["django_language"] = language
    response = client.get(f"/badges/{award.public_id}")
    assert response.status_code == 200
    html = response.content.decode()
    tags = Tags()
    tags.feed(html)
    return html, tags


def test_linkedin_url_is_the_documented_add_to_profile_form_with_every_field() -> None:
    from datetime import UTC, datetime

    url = linkedin_add_url(name="Data literacy & ethics", organisation="Sakura College",
                           issued=datetime(2026, 3, 9, tzinfo=UTC), expires=datetime(2029, 12, 1, tzinfo=UTC),
                           cert_url="https://badges.example.org/badges/1", cert_id="abc")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert parse_qs(parts.query) == {
        "startTask": ["CERTIFICATION_NAME"], "name": ["Data literacy & ethics"], "organizationName": ["Sakura College"],
        "issueYear": ["2026"], "issueMonth": ["3"], "expirationYear": ["2029"], "expirationMonth": ["12"],
        "certUrl": ["https://badges.example.org/badges/1"], "certId": ["abc"],
    }


def test_linkedin_url_without_an_end_has_no_expiry_fields() -> None:
    url = linkedin_add_url(name="N", organisation="O", issued=None, expires=None, cert_url="u", cert_id="i")
    assert set(parse_qs(urlsplit(url).query)) == {"startTask", "name", "organizationName", "certUrl", "certId"}


def test_the_badge_page_links_to_linkedin_with_the_badges_own_fields() -> None:
    award, _cast = issued(validity_months=12)
    _html, tags = page_tags(award)
    query = parse_qs(urlsplit(tags.links["button linkedin-add"]).query)
    credential = award.credential
    assert query["name"] == [award.programme.name_en]
    assert query["organizationName"] == [credential["issuer"]["name"]]
    assert query["certUrl"] == [award_url(award.public_id)]
    assert query["certId"] == [str(award.public_id)]
    assert query["issueYear"] == [str(award.valid_from.year)] and query["issueMonth"] == [str(award.valid_from.month)]
    assert query["expirationYear"] == [str(award.valid_until.year)]


def test_the_japanese_page_names_the_badge_in_japanese_on_linkedin() -> None:
    award, _cast = issued()
    _html, tags = page_tags(award, "ja")
    query = parse_qs(urlsplit(tags.links["button linkedin-add"]).query)
    assert query["name"] == [award.programme.name_ja]


def test_link_preview_tags_carry_absolute_urls_and_the_png() -> None:
    award, _cast = issued()
    _html, tags = page_tags(award)
    image = f"{settings.SITE_URL}/badges/{award.public_id}.png"
    assert tags.meta["og:image"] == image and tags.meta["twitter:image"] == image
    assert tags.meta["og:url"] == award_url(award.public_id)
    assert tags.meta["og:title"] == award.programme.name_en
    assert tags.meta["twitter:card"] == "summary"
    assert Client().get(urlsplit(image).path).headers["Content-Type"] == "image/png"


def test_share_links_and_the_copy_field_work_without_script() -> None:
    award, _cast = issued()
    html, tags = page_tags(award)
    url = award_url(award.public_id)
    assert parse_qs(urlsplit(tags.links["share-linkedin-share"]).query)["url"] == [url]
    assert parse_qs(urlsplit(tags.links["share-x"]).query)["url"] == [url]
    assert parse_qs(urlsplit(tags.links["share-facebook"]).query)["u"] == [url]
    assert tags.links["share-email"].startswith("mailto:?")
    # The link sits in a labelled read-only field; the copy button waits hidden for the script.
    assert re.search(r'<label for="badge-link">[^<]+</label>\s*<input id="badge-link" type="url" value="'
                     + re.escape(url) + '" readonly>', html)
    assert re.search(r'<button type="button" class="copy-button"[^>]* hidden>', html)


def test_the_qr_code_is_inline_svg_of_the_verification_url() -> None:
    award, _cast = issued()
    html, _tags = page_tags(award)
    expected = qr_svg(award_url(award.public_id), title="QR code of this badge's verification page")
    assert expected in html
    assert expected.startswith('<svg role="img" viewBox=') and "<title>" in expected
    # A different URL draws a different code (the code is of the URL, not a fixed picture).
    assert qr_svg(award_url(award.public_id) + "x") != qr_svg(award_url(award.public_id))


def test_the_page_links_both_certificates() -> None:
    award, _cast = issued()
    _html, tags = page_tags(award)
    assert tags.links["certificate-ja"] == f"/badges/{award.public_id}/certificate-ja.pdf"
    assert tags.links["certificate-en"] == f"/badges/{award.public_id}/certificate-en.pdf"
