"""In a real browser: long programme names are never clipped. The endorsement mark (an SVG of fixed
size that other sites embed) ends a name too long for it with an ellipsis inside its frame; pages
wrap a long name (tests/browser/test_every_page.py visits every page with one, at 390 px)."""

from __future__ import annotations

import pytest

from endorsement.marks import WIDTH, mark_svg_text
from tests.conftest import need

pytestmark = [pytest.mark.browser]

NAMES = [
    ("en", "Practical data science and evidence-based decision making for small and medium-sized enterprises"),
    ("en", "WORKPLACE MANAGEMENT WITH MEASURED WORKFLOWS AND WEEKLY REVIEWS FOR MANAGERS"),  # wide capitals
    ("en", "Welding"),
    ("ja", "中小製造業のための実践的データサイエンスとエビデンスに基づく意思決定（上級・オンライン併用型）プログラム"),
    ("ja", "ビジネスのためのデータリテラシー"),
]
BODY = {"name": "Micro-credential Certification Body of the Japan Association for Recurrent Education",
        "name_ja": "一般社団法人日本リカレント教育協会マイクロクレデンシャル認証機構"}


def entry(language: str, name: str) -> dict:
    return {"programme": {f"name_{language}": name},
            "endorsement": {"endorser": BODY, "valid_until": "2029-11-30T00:00:00Z"}}


@pytest.fixture(scope="module")
def page():
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _playwright_api

    sync_api = _playwright_api()
    need(CHROMIUM.exists(), "no Chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


@pytest.mark.parametrize(("language", "name"), NAMES)
def test_the_mark_fits_a_long_name_inside_its_frame_with_an_ellipsis(page, language: str, name: str) -> None:
    svg = mark_svg_text(entry(language, name), "active", lang=language)
    page.set_content(f"<!doctype html><html><body style='margin:0'>{svg}</body></html>")
    texts = page.evaluate("""() => [...document.querySelectorAll('svg text')].map(t => {
        const box = t.getBBox(); return {text: t.textContent, left: box.x, right: box.x + box.width}; })""")
    for text in texts:
        assert text["left"] >= 0 and text["right"] <= WIDTH - 8, f"{text['text']!r} ends at {text['right']:.0f} px"
    shown = texts[1]["text"]
    if shown != name:
        assert shown.endswith("…") and name.startswith(shown[:-1].rstrip()), shown
