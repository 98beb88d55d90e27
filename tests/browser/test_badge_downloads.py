"""In a real browser, in English and Japanese, on a phone and a desktop: a badge whose programme has
no SVG image offers the SVG download too, the file downloaded is the SVG with the credential baked in
and the PNG shown inside it, and a badge whose organisation hashes names shows no name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from badges import credentials as vc
from badges.awards import award_issue
from institutions.models import RecipientNames, Role
from institutions.services import organisation_recipient_names_set
from tests.factories import awarding_setup, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("width", [390, 1280])
def test_every_badge_downloads_as_svg_and_a_hashed_name_is_not_shown(browser, language, width, tmp_path: Path,
                                                                    settings):
    settings.SITE_URL = browser.base_url
    programme, _app, cast, issuer = awarding_setup()
    organisation_recipient_names_set(actor=staff(cast.organisation, Role.OWNER), organisation=programme.organisation,
                                     value=RecipientNames.HASH)
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    browser.shots = tmp_path / "screenshots"
    browser.shots.mkdir(exist_ok=True)
    browser.page.context.add_cookies([{"name": "django_language", "value": language, "url": browser.base_url}])
    browser.page.set_viewport_size({"width": width, "height": 900})
    browser.visit(f"/badges/{award.public_id}", f"badge-{language}-{width}")
    with translation.override(language):
        label = gettext("Badge image (SVG) with the credential baked in")
    link = browser.page.get_by_role("link", name=label)
    with browser.page.expect_download() as download:
        link.click()
    saved = tmp_path / "badge.svg"
    download.value.save_as(saved)
    assert vc.extract_svg(saved.read_bytes()) == award.credential
    assert b"data:image/png;base64," in saved.read_bytes()
    assert "Hanako" not in browser.page.content()
