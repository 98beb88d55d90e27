"""In a real browser: revoking a badge asks in a dialog first (with JS; without it, a confirmation
page does, tests/badges/test_awards_pages.py); "No" leaves the badge as it was, "Yes" revokes it."""

from __future__ import annotations

import pytest

from badges.awards import award_issue
from badges.models import Award
from tests.factories import PASSWORD, awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_revoking_asks_in_a_dialog_and_no_keeps_the_badge(browser):
    from playwright.sync_api import expect

    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    browser.log_in(issuer.username, PASSWORD)
    page = browser.page
    browser.visit(f"/portal/awards/{award.public_id}/", "award")
    page.get_by_label("Reason").fill("Issued by mistake")
    page.get_by_role("button", name="Revoke the badge").click()
    dialog = page.get_by_role("dialog", name="Revoke this badge?")
    expect(dialog).to_be_visible()
    browser.shot("dialog")
    dialog.get_by_role("button", name="No, keep it").click()
    expect(dialog).to_be_hidden()
    award.refresh_from_db()
    assert award.revoked_at is None

    page.get_by_role("button", name="Revoke the badge").click()
    dialog.get_by_role("button", name="Yes, revoke the badge").click()
    expect(page.get_by_role("status")).to_contain_text("The badge was revoked")
    browser.shot("revoked")
    award = Award.objects.get(pk=award.pk)
    assert award.revoked_at is not None and award.revocation_reason == "Issued by mistake"
