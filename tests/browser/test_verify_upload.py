"""In a real browser: a learner's badge is downloaded as a baked PNG from its page, uploaded on /verify,
and the report says, in plain words and check by check, that it holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from badges.awards import award_issue
from tests.factories import awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_baked_png_downloaded_from_the_badge_page_verifies_when_uploaded(browser, tmp_path: Path):
    from playwright.sync_api import expect

    programme, _app, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    page = browser.page

    # The learner's page: its own report, and the baked image to download.
    browser.visit(f"/badges/{award.public_id}", "badge-page")
    expect(page.get_by_role("heading", name="Verified", exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Badge image (PNG) with the credential baked in").click()
    png = tmp_path / "badge.png"
    download.value.save_as(png)
    assert png.read_bytes().startswith(b"\x89PNG")

    # The verification page: upload it, with the learner's e-mail typed in another case.
    browser.visit("/verify", "verify-form")
    page.get_by_label("Or a badge image").set_input_files(png)
    page.get_by_label("Recipient's e-mail address (optional)").fill("Hanako@Example.org")
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_load_state()
    browser.shot("verify-report")

    expect(page).to_have_title(re.compile(r"^Verified · "))
    expect(page.get_by_role("heading", name="Verified", exact=True)).to_be_visible()
    expect(page.locator("#words-issuer")).to_contain_text(
        f"Issued by {cast.organisation.name} (DID did:web:")
    expect(page.locator("#words-recipient")).to_contain_text("Awarded to Hanako Yamada.")
    expect(page.locator("#words-recipient")).to_contain_text("The e-mail address you typed matches the recipient's.")
    expect(page.locator("#words-achievement")).to_contain_text(f"The achievement “{programme.name_ja}”")
    expect(page.locator("#words-endorsements")).to_contain_text("Micro-credential Certification Body")
    expect(page.locator("#words-endorsements")).to_contain_text("Still active in this registry.")
    checks = page.locator("ol.checks > li")
    expect(checks).to_have_count(14)  # 13 checks of the badge and its endorsement, and the e-mail
    for text in checks.all_inner_texts():
        assert text.startswith("✓ Passed"), text
    expect(page.locator("ol.checks")).not_to_contain_text("Failed")


def test_dropping_a_png_onto_the_form_fills_the_file_input(browser):
    """The one thing the page's script adds: a file dropped on the form goes into the file input."""
    from playwright.sync_api import expect

    page = browser.page
    browser.visit("/verify/", "verify-form")
    expect(page.locator("#drop-status")).to_have_text(
        "You can also drop a PNG or SVG badge image anywhere on this form.")
    drop = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        data.items.add(new File([bytes], "dropped-badge.png", {type: "image/png"}));
        return data;
    }""")
    page.locator("#verify-form").dispatch_event("dragover", {"dataTransfer": drop})
    page.locator("#verify-form").dispatch_event("drop", {"dataTransfer": drop})
    assert page.eval_on_selector("#id_file", "input => input.files[0] && input.files[0].name") == "dropped-badge.png"
    expect(page.locator("#drop-status")).to_contain_text("Chosen for upload: dropped-badge.png.")
    browser.shot("file-dropped")

    text = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["hello"], "notes.txt", {type: "text/plain"}));
        return data;
    }""")
    page.locator("#verify-form").dispatch_event("drop", {"dataTransfer": text})
    expect(page.locator("#drop-status")).to_contain_text("notes.txt is not a PNG or SVG image")
    assert page.eval_on_selector("#id_file", "input => input.files[0].name") == "dropped-badge.png"
    browser.shot("text-refused")
