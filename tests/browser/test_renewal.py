"""In a real browser: a renewal goes from the organisation's endorsement page (Renew) through review
in the body's admin (the reviewer sees what changed and the previous judgements beside theirs) to
the new endorsement, which starts when the renewed one ends."""

from __future__ import annotations

import re

import pytest

from endorsement.models import Application, ApplicationState, Endorsement, EndorsementState
from tests.endorsement.renewal_walk import ends_in
from tests.factories import PASSWORD, application_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def admin_log_in(browser, user, name: str) -> None:
    browser.visit("/admin/login/", name)
    browser.page.get_by_label("Username").fill(user.username)
    browser.page.get_by_label("Password").fill(PASSWORD)
    browser.page.get_by_role("button", name="Log in").click()
    browser.page.wait_for_load_state()


def log_out(browser) -> None:
    browser.page.get_by_role("button", name="Log out").click()
    browser.page.wait_for_load_state()


def test_a_renewal_goes_from_the_endorsement_page_through_review_to_the_new_endorsement(browser):
    from playwright.sync_api import expect

    application, cast = application_in(ApplicationState.PUBLISHED)
    old = ends_in(Endorsement.objects.get(application=application), 90)
    criteria = list(application.criteria_table.criteria.order_by("position", "id"))
    page = browser.page

    # The editor opens the endorsement from the programme page and renews it.
    browser.log_in(cast.editor.username, PASSWORD, "editor-login")
    browser.visit(f"/portal/programmes/{old.programme.public_id}/", "programme")
    page.locator(f"a[href='/portal/endorsements/{old.public_id}/']").first.click()
    expect(page.locator("#endorsement-state")).to_have_text("Active")
    browser.shot("endorsement-page")
    page.get_by_role("button", name="Renew the endorsement").click()
    expect(page.get_by_text("The renewal application was opened.")).to_be_visible()
    renewal = Application.objects.get(renews=old)
    browser.shot("renewal-draft")

    # The programme is editable while the renewal is a draft: one field changes.
    browser.visit(f"/portal/programmes/{old.programme.public_id}/edit/", "edit")
    page.get_by_label("Level", exact=True).fill("Level 6")
    page.get_by_role("button", name="Save the programme").click()
    page.wait_for_load_state()
    browser.visit(f"/portal/applications/{renewal.pk}/", "renewal-before-submit")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".badge-state").first).to_have_text("Submitted")
    browser.shot("renewal-submitted")
    log_out(browser)

    # A manager assigns the reviewer and starts the review.
    admin_log_in(browser, cast.manager, "manager-login")
    browser.visit(f"/admin/endorsement/application/{renewal.pk}/change/", "manager-renewal")
    page.locator("#id_reviewer").select_option(value=str(cast.reviewer.pk))
    page.get_by_role("button", name="Assign").click()
    page.locator("#button-start_review").get_by_role("button").click()
    expect(page.locator(".field-state .readonly")).to_have_text("In review")
    log_out(browser)

    # The reviewer sees the field that changed and the previous judgements, then judges.
    admin_log_in(browser, cast.reviewer, "reviewer-login")
    browser.visit(f"/admin/endorsement/application/{renewal.pk}/change/", "reviewer-renewal")
    expect(page.locator("#change-level")).to_contain_text("Level 6")
    expect(page.locator("#judgements")).to_contain_text(f"Previous judgements (application #{application.pk})")
    browser.shot("changes-and-previous-judgements")
    review = page.locator("#my-review")
    rows = review.locator("tbody tr")
    for criterion in criteria:
        row = rows.filter(has=page.get_by_label(re.compile(rf"^{criterion.code}\b")))
        row.get_by_role("combobox").select_option(label="Met")
    review.get_by_role("button", name="Save my judgements").click()
    page.locator("#complete-review").get_by_role("button", name="Complete my review").click()
    expect(page.locator("#rule-result")).to_contain_text("The rule holds")
    log_out(browser)

    # The manager endorses and publishes the renewal.
    admin_log_in(browser, cast.manager, "manager-login-again")
    browser.visit(f"/admin/endorsement/application/{renewal.pk}/change/", "manager-decides")
    page.locator("#button-endorse").get_by_role("button", name="Endorse").click()
    page.get_by_role("button", name="Yes, Endorse").click()  # the confirmation page
    expect(page.locator(".field-state .readonly")).to_have_text("Endorsed")
    page.locator("#button-publish").get_by_role("button").click()
    expect(page.locator(".field-state .readonly")).to_have_text("Published")
    browser.shot("renewal-published")
    log_out(browser)

    new = Endorsement.objects.get(application=renewal)
    old.refresh_from_db()
    assert (new.state, old.state, new.predecessor_id) == (EndorsementState.SCHEDULED, EndorsementState.ACTIVE, old.pk)
    assert new.valid_from == old.valid_until and new.credential is not None

    # The organisation sees the new endorsement following the old one.
    browser.log_in(cast.editor.username, PASSWORD, "editor-login-again")
    browser.visit(f"/portal/endorsements/{old.public_id}/", "old-endorsement")
    expect(page.get_by_text("Followed by")).to_be_visible()
    page.locator(f"a[href='/portal/endorsements/{new.public_id}/']").first.click()
    expect(page.locator("#endorsement-state")).to_have_text("Granted, starts later")
    browser.shot("new-endorsement")
