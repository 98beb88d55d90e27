"""In a real browser, in English and in Japanese: the three verdicts people misread. A genuine badge
checked against another e-mail address says so in its banner; a tampered one is "not genuine" and
shows its content only as what it claims; a revoked one says "Revoked" above a crossed-out image.

Screenshots of each page go under the test's pytest tmp dir (`<tmp>/screenshots/NN-<page>.png`)."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from badges.award_images import MARKS, award_png
from badges.awards import award_issue, award_revoke
from badges.models import Award
from tests.factories import awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
LANGUAGES = ["en", "ja"]


def words(language: str, message: str) -> str:
    with translation.override(language):
        text = gettext(message)
    if language == "ja":
        assert text != message, f"not translated: {message!r}"
    return text


@pytest.fixture
def in_language(browser, tmp_path: Path):
    """The browser, its screenshots under tmp_path, its language chosen as the switcher does (cookie)."""

    def choose(language: str):
        browser.shots = tmp_path / "screenshots"
        browser.shots.mkdir(exist_ok=True)
        browser.page.context.add_cookies([{"name": "django_language", "value": language,
                                           "url": browser.base_url}])
        return browser

    return choose


def issued():
    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    return award, issuer


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_genuine_badge_checked_against_another_address_says_so_in_the_banner(in_language, language, tmp_path):
    from playwright.sync_api import expect

    browser = in_language(language)
    award, _issuer = issued()
    png = tmp_path / "badge.png"
    png.write_bytes(award_png(award))
    page = browser.page
    browser.visit("/verify/", f"{language}-verify-form")
    page.locator("#id_file").set_input_files(png)
    page.locator("#id_email").fill("someone.else@example.org")
    page.locator("#verify-form button[type=submit]").click()
    page.wait_for_load_state()
    browser.shot(f"{language}-recipient-mismatch")

    expect(page.locator("html")).to_have_attribute("lang", language)
    banner = page.locator("#verdict")
    expect(banner).to_have_class("notice warning")
    expect(page.locator("#report-title")).to_have_text(
        "⚠ " + words(language, "Genuine, but not issued to the address you gave"))
    expect(page.locator("#verdict-summary")).to_contain_text("someone.else@example.org")
    expect(page.locator("#verdict-summary")).not_to_contain_text(words(language, "Verified"))
    # The banner is the first thing on the report, above the plain words and the checks.
    assert banner.bounding_box()["y"] < page.locator("ol.checks").bounding_box()["y"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_tampered_badge_is_not_genuine_and_its_content_is_shown_only_as_claims(in_language, language):
    from playwright.sync_api import expect

    browser = in_language(language)
    award, _issuer = issued()
    tampered = copy.deepcopy(award.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorate in everything"
    page = browser.page
    browser.visit("/verify/", f"{language}-verify-form")
    page.locator("#id_credential").fill(json.dumps(tampered, ensure_ascii=False))
    page.locator("#verify-form button[type=submit]").click()
    page.wait_for_load_state()
    browser.shot(f"{language}-tampered")

    expect(page.locator("#verdict")).to_have_class("notice error")
    expect(page.locator("#report-title")).to_have_text(
        "✗ " + words(language, "Not genuine: its content cannot be trusted"))
    claims = page.locator("#words-claims")
    expect(claims).to_be_visible()
    expect(claims.get_by_role("heading")).to_have_count(0)
    expect(page.get_by_role("heading", name=words(language, "What it claims"), exact=True)).to_be_visible()
    expect(claims).to_contain_text("Doctorate in everything")
    expect(page.locator("#words-achievement")).to_have_count(0)
    expect(page.locator("#words-endorsements")).to_have_count(0)
    expect(page.locator(".verification-report")).not_to_contain_text(words(language, "Still active in this registry."))
    expect(page.locator("#check-proof")).to_contain_text(words(language, "Failed"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_revoked_badges_page_says_revoked_above_a_crossed_out_image(in_language, language):
    from PIL import Image
    from playwright.sync_api import expect

    browser = in_language(language)
    award, issuer = issued()
    award_revoke(actor=issuer, award=award, reason="Awarded in error.")
    award = Award.objects.get(pk=award.pk)
    page = browser.page
    browser.visit(f"/badges/{award.public_id}", f"{language}-revoked-badge")

    expect(page.locator("#report-title")).to_have_text("✗ " + words(language, "Revoked"))
    image = page.locator("p.badge-image.marked.mark-revoked img")
    expect(image).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    # The image the page shows is the marked one: its band, in the mark's colour, at mid-height.
    shown = page.request.get(browser.url(f"/badges/{award.public_id}.png")).body()
    with Image.open(io.BytesIO(shown)) as picture:
        pixel = picture.convert("RGBA").getpixel((1, picture.height // 2))
    assert pixel[3] > 200 and all(abs(a - b) < 30 for a, b in zip(pixel[:3], MARKS["revoked"][1], strict=True))
    assert image.bounding_box()["y"] < page.locator("#verdict").bounding_box()["y"] + 2000
    image.screenshot(path=str(browser.shots / f"{language}-revoked-image.png"))
