"""In a real browser: the public registry, searched by a word and filtered, and a programme's page.
Selectors are labels and roles only, so that the page's markup can change without breaking them."""

from __future__ import annotations

import re

import pytest

from endorsement.models import ApplicationState
from endorsement.registry import registry_refresh
from tests.factories import Cast, ProgrammeFactory, application_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROGRAMMES = [
    {"name_en": "Safe welding practice", "name_ja": "安全な溶接作業", "level": "Level 3",
     "description_en": "Welding steel plates safely in a workshop.", "description_ja": "工房で鋼板を安全に溶接する。",
     "learning_outcomes": ["Prepare a safe workplace", "Weld a butt joint"], "tags": ["welding", "safety"]},
    {"name_en": "Data literacy for business", "name_ja": "ビジネスのためのデータリテラシー", "level": "Level 5",
     "description_en": "Reading, cleaning and presenting business data.", "description_ja": "データの読み取り。",
     "learning_outcomes": ["Clean a tabular data set", "Explain a trend"], "tags": ["data"]},
    {"name_en": "Japanese for care workers", "name_ja": "介護職のための日本語", "level": "Level 4",
     "description_en": "Talking with residents and colleagues in a care home.", "description_ja": "介護施設での会話。",
     "learning_outcomes": ["Explain a care plan", "Write a shift report"], "tags": ["language", "care"]},
]


def published(fields: dict) -> object:
    """A programme of its own organisation, walked through the real services to published."""
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **fields)
    application_in(ApplicationState.PUBLISHED, cast=cast, programme=programme)
    return programme


def test_the_registry_is_searched_and_filtered_and_a_programme_page_opened(browser):
    from playwright.sync_api import expect

    welding, data, care = (published(fields) for fields in PROGRAMMES)
    registry_refresh()
    page = browser.page
    names = [p.name_en for p in (welding, data, care)]

    def listed() -> list[str]:
        """The programme names the results table links to, in order."""
        table = page.get_by_role("table")
        return [name for name in table.get_by_role("link").all_inner_texts() if name in names]

    browser.visit("/registry/", "registry")
    expect(page.get_by_role("heading", level=1)).to_have_text("Registry of endorsed programmes")
    assert sorted(listed()) == sorted(names)

    # A word from one programme's description finds that programme only.
    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("welding")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=welding"))
    expect(page.get_by_role("table").get_by_role("link", name=welding.name_en)).to_be_visible()
    assert listed() == [welding.name_en]
    browser.shot("search-welding")

    # A Japanese word finds the programme by its Japanese text.
    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("介護")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table").get_by_role("link", name=care.name_en)).to_be_visible()
    assert listed() == [care.name_en]
    browser.shot("search-japanese")

    # A filter without a word: the programmes at that level only.
    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("")
    level = search.get_by_label("Level", exact=True)
    level.select_option(level.locator("option", has_text="Level 5").first.get_attribute("value"))
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]level=Level(\+|%20)5"))
    expect(page.get_by_role("table").get_by_role("link", name=data.name_en)).to_be_visible()
    assert listed() == [data.name_en]
    browser.shot("filter-level-5")

    # The programme's page: what it is, who endorses it and until when.
    page.get_by_role("table").get_by_role("link", name=data.name_en).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(data.name_en)
    endorsement = page.get_by_role("region", name="Endorsement", exact=True)
    expect(endorsement).to_contain_text("Micro-credential Certification Body")
    expect(endorsement).to_contain_text("Active")
    expect(page.get_by_role("link", name="The signed EndorsementCredential")).to_be_visible()
    expect(page.get_by_text(data.organisation.name).first).to_be_visible()
    expect(page.get_by_text("Clean a tabular data set")).to_be_visible()
    browser.shot("programme")


def test_on_a_phone_the_filters_fold_away_and_each_row_shows_its_standing_and_validity(browser):
    """At 390 px the nine filters are behind one summary (open at 1280 px), and the standing and
    the validity of every row are on screen without scrolling sideways; each row has its badge
    image, crossed out (and said so) when the endorsement is not in force."""
    from playwright.sync_api import expect

    from endorsement.models import Endorsement
    from endorsement.services import endorsement_suspend

    _welding, data = (published(fields) for fields in PROGRAMMES[:2])
    suspended = Endorsement.objects.get(programme=data)
    manager = Cast().manager
    endorsement_suspend(actor=manager, endorsement=suspended, comment="Under quality review.")
    registry_refresh()
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})
    browser.visit("/registry/", "registry-phone")
    filters = page.locator("details.registry-more")
    expect(filters).not_to_have_attribute("open", "")
    level = page.get_by_label("Level", exact=True)
    expect(level).to_be_hidden()
    expect(page.get_by_role("searchbox")).to_be_visible()
    page.get_by_text("Filters and sorting").click()
    expect(level).to_be_visible()
    browser.shot("registry-phone-filters-open")
    for row in page.locator("table.registry-table tbody tr").all():
        for cell in (row.locator("td.registry-standing"), row.locator("td.registry-valid")):
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    images = page.locator("td.registry-image img")
    assert images.count() == 2
    alts = sorted(images.evaluate_all("imgs => imgs.map(i => i.alt)"))
    assert alts == ["Badge image", "Badge image, crossed out: not in force"]
    assert all(images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size({"width": 1280, "height": 900})
    browser.visit("/registry/", "registry-desktop")
    expect(page.locator("details.registry-more")).to_have_attribute("open", "")
    expect(page.get_by_label("Level", exact=True)).to_be_visible()
