"""In a real browser: the batch page follows a running batch without reloading (its script polls
progress.json), shows each row's badge as it is awarded, and says when the batch is finished."""

from __future__ import annotations

import pytest

from badges.awards import Recipient
from badges.batches import award_batch_issue_chunk
from badges.models import AwardBatch
from tests.factories import PASSWORD, awarding_setup, stored_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_batch_page_updates_itself_as_badges_are_awarded(browser):
    from playwright.sync_api import expect

    programme, _app, _cast, issuer = awarding_setup()
    rows = [{**Recipient(email=f"learner{i}@example.org", did="", name=f"Learner {i}", evidence_url="",
                         evidence_narrative="").as_row(), "where": f"line {i + 2}"} for i in range(3)]
    # A batch whose chunk tasks have not run yet (as with a busy worker): nothing awarded.
    batch = stored_batch(rows, programme=programme, created_by=issuer, total=3, state=AwardBatch.State.RUNNING)
    browser.log_in(issuer.username, PASSWORD)
    page = browser.page
    browser.visit(f"/portal/batches/{batch.public_id}/", "batch-running")
    expect(page.locator("#batch-issued")).to_contain_text("0 of 3")
    expect(page.locator("#row-1-badge")).to_have_text("waiting")
    page.evaluate("window.notReloaded = true")

    award_batch_issue_chunk(batch.pk, 0, 3)  # the worker gets to it

    expect(page.locator("#batch-issued")).to_contain_text("3 of 3 (100%)", timeout=10_000)
    expect(page.locator("#batch-running")).to_have_text("The batch is finished.")
    expect(page.locator("#row-3-badge a")).to_have_text("awarded")
    assert page.evaluate("window.notReloaded") is True  # the same page, updated in place
    assert page.locator("progress").evaluate("p => p.value") == 3
    browser.shot("batch-finished")
