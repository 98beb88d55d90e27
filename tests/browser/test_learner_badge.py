"""In a real browser, in English and Japanese: a learner claims a badge from the link in its mail,
finds it in their account, shares it (the LinkedIn add-to-profile link carries the badge's fields,
the copy button copies the link), downloads the certificate PDF (pdftotext finds the name and the
verification URL in it), and at 390 px the badge page does not scroll sideways."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext

from badges.awards import award_issue
from tests.conftest import need
from tests.factories import awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NAME = "山田 花子 Hanako Yamada"


def t(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_learner_claims_shares_and_prints_a_badge(browser, language: str, tmp_path: Path, settings) -> None:
    need(shutil.which("pdftotext") is not None, "pdftotext is missing: apt-get install poppler-utils")
    settings.SITE_URL = browser.base_url
    settings.LANGUAGE_CODE = language  # the badge mail is written in the site's language
    programme, _app, _cast, issuer = awarding_setup(learning_hours=20)
    mail.outbox.clear()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org", recipient_name=NAME)
    page = browser.page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": browser.base_url}])
    badge_url = f"{browser.base_url}/badges/{award.public_id}"

    # The mail's claim link, claimed.
    (message,) = [m for m in mail.outbox if badge_url in m.body]
    claim = re.search(r"https?://\S+/learner/claim/\S+/", message.body).group(0)
    page.goto(claim)
    browser.shot(f"{language}-claim")
    page.get_by_role("button", name=t(language, "Claim the badge and open my account")).click()
    page.wait_for_load_state()
    assert page.url == f"{browser.base_url}/learner/"
    browser.shot(f"{language}-account")
    name = programme.name_ja if language == "ja" else programme.name_en
    page.get_by_role("link", name=name).click()
    page.wait_for_load_state()
    assert page.url == badge_url

    # Share: LinkedIn's add-to-profile form, filled in with the badge's own fields.
    linkedin = page.get_by_role("link", name=t(language, "Add to LinkedIn profile"))
    query = parse_qs(urlsplit(linkedin.get_attribute("href")).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == [name]
    assert query["organizationName"] == [award.credential["issuer"]["name"]]
    assert query["certUrl"] == [badge_url] and query["certId"] == [str(award.public_id)]
    assert query["issueYear"] == [str(award.valid_from.year)]
    assert query["issueMonth"] == [str(award.valid_from.month)]
    # The copy button (shown by the script) copies the link.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=browser.base_url)
    copy = page.get_by_role("button", name=t(language, "Copy the link"))
    copy.click()
    page.get_by_text(t(language, "Copied")).wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == badge_url

    # The certificate in the page's language, and in the other one.
    for certificate_language, label in (("ja", "Certificate (PDF, A4) in Japanese"),
                                        ("en", "Certificate (PDF, A4) in English")):
        with page.expect_download(timeout=60_000) as download:  # WeasyPrint on a busy machine: seconds
            page.get_by_role("link", name=t(language, label)).click()
        saved = tmp_path / f"certificate-{certificate_language}.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        text = subprocess.run(["pdftotext", str(saved), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert NAME in " ".join(text.split()), certificate_language
        assert badge_url in re.sub(r"\s+", "", text), certificate_language

    # At 390 px, no sideways scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(badge_url)
    browser.shot(f"{language}-badge-390")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the badge page is {width[0]} px wide at 390 px"
