"""In a real browser: the learner's badge page says each fact once, and prints on one page.

The facts are checked against what the test gave when awarding (literals), in the text a reader
sees (`inner_text` leaves out what is folded away, such as the checks and the credential's JSON);
the printed page is Chromium's own PDF (`page.pdf`), whose page objects the test counts."""

from __future__ import annotations

import re

import pytest

from badges.awards import award_issue
from tests.factories import awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NAME = "Hanako Yamada"
EVIDENCE = "https://lms.example.org/courses/data-literacy/assignments/final-project/submissions/hanako-yamada"


def pdf_pages(pdf: bytes) -> int:
    """The number of page objects (`/Type /Page`, not `/Pages`) in a PDF."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_pdf_pages_counts_page_objects_only() -> None:
    assert pdf_pages(b"<< /Type /Pages /Kids [3 0 R 4 0 R] >> << /Type /Page >> << /Type/Page >>") == 2


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_badge_page_says_each_fact_once_and_prints_on_one_page(browser, language: str) -> None:
    programme, _app, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name=NAME, evidence_url=EVIDENCE)
    page = browser.page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": browser.base_url}])
    browser.visit(f"/badges/{award.public_id}", f"{language}-badge")
    text = page.locator("main").inner_text()
    issuer_did = award.credential["issuer"]["id"]
    for fact in (NAME, issuer_did, EVIDENCE, programme.learning_outcomes[0]):
        assert text.count(fact) == 1, f"{fact!r} is said {text.count(fact)} times"
    # The organisation's name once as the issuer, once as the endorsed programme's owner is not
    # repeated: the body's name appears once, among the endorsements.
    assert text.count(cast.organisation.name) <= 1
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, f"the page is {height} px tall at 1280 px"

    page.emulate_media(media="print")
    browser.shot(f"{language}-badge-print")
    assert page.locator(".site-header").is_hidden() and page.locator(".site-footer").is_hidden()
    assert page.locator("main form").count() == 0 or all(f.is_hidden() for f in page.locator("main form").all())
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) == 1, f"the printed badge page has {pdf_pages(pdf)} pages"
