"""In a real browser, in the body's admin: the assigned reviewer judges every criterion in "My review"
and completes the review; a manager then endorses the application with the "Endorse" button."""

from __future__ import annotations

import re

import pytest

from endorsement.models import ApplicationState, Endorsement, Verdict
from tests.factories import PASSWORD, application_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def admin_log_in(browser, user, name: str) -> None:
    browser.visit("/admin/login/", name)
    browser.page.get_by_label("Username").fill(user.username)
    browser.page.get_by_label("Password").fill(PASSWORD)
    browser.page.get_by_role("button", name="Log in").click()
    browser.page.wait_for_load_state()


def test_a_reviewer_judges_every_criterion_and_a_manager_endorses_with_the_button(browser):
    from playwright.sync_api import expect

    application, cast = application_in(ApplicationState.IN_REVIEW)
    criteria = list(application.criteria_table.criteria.order_by("position", "id"))
    assert len(criteria) > 3
    page = browser.page
    messages = page.locator("ul.messagelist")

    # The reviewer finds the application in their queue and opens it.
    admin_log_in(browser, cast.reviewer, "reviewer-login")
    browser.visit("/admin/endorsement/application/?queue=mine", "reviewer-queue")
    page.get_by_role("link", name=application.programme.name, exact=True).click()
    review = page.locator("#my-review")
    expect(review.get_by_role("heading", name="My review")).to_be_visible()
    browser.shot("application-before-review")

    # A verdict and a comment for every criterion, saved in one go; then the review is completed.
    rows = review.locator("tbody tr")
    expect(rows).to_have_count(len(criteria))
    for criterion in criteria:
        row = rows.filter(has=page.get_by_label(re.compile(rf"^{criterion.code}\b")))
        row.get_by_role("combobox").select_option(label="Met")
        row.get_by_role("textbox").fill(f"{criterion.code}: the submitted programme shows this.")
    browser.shot("my-review-filled")
    review.get_by_role("button", name="Save my judgements").click()
    expect(messages).to_contain_text("Your judgements are recorded.")
    browser.shot("judgements-recorded")
    page.locator("#complete-review").get_by_label("Summary (optional)").fill("Every criterion is met.")
    page.locator("#complete-review").get_by_role("button", name="Complete my review").click()
    expect(messages).to_contain_text("Your review is complete.")
    for criterion in criteria:
        expect(page.locator(f"#criterion-{criterion.code}")).to_contain_text("Met")
    expect(page.locator("#rule-result")).to_contain_text("The rule holds")
    browser.shot("review-complete")

    judgements = application.reviews.get(reviewer=cast.reviewer).judgements.all()
    assert sorted(j.criterion.code for j in judgements) == sorted(c.code for c in criteria)
    assert {j.verdict for j in judgements} == {Verdict.MET}

    # Log out; the manager logs in and endorses with the button, giving a comment.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
    browser.shot("logged-out")
    admin_log_in(browser, cast.manager, "manager-login")
    browser.visit(f"/admin/endorsement/application/{application.pk}/change/", "manager-application")
    endorse = page.locator("#button-endorse")
    endorse.get_by_label("Decision comment (optional)").fill("Endorsed: every criterion is met.")
    browser.shot("endorse-filled")
    endorse.get_by_role("button", name="Endorse").click()
    # Asked to confirm, with the comment given; nothing is decided until then.
    expect(page.get_by_role("heading", name="Endorse: are you sure?")).to_be_visible()
    expect(page.locator(".button-confirm blockquote")).to_have_text("Endorsed: every criterion is met.")
    browser.shot("endorse-confirm")
    page.get_by_role("button", name="Yes, Endorse").click()
    expect(messages).to_contain_text("Endorsed.")
    expect(page.locator(".field-state .readonly")).to_have_text("Endorsed")
    expect(page.locator("#button-publish")).to_be_visible()  # the next step is offered
    browser.shot("endorsed")

    application.refresh_from_db()
    assert application.state == ApplicationState.ENDORSED
    assert application.decision_comment == "Endorsed: every criterion is met."
    endorsement = Endorsement.objects.get(application=application)
    assert endorsement.credential is not None  # signed after commit by the (eager) task
