"""In a real browser: an organisation's editor describes a programme in the portal, applies for
certification and submits; the body requests changes (through the services, as its manager would);
the editor sees what to change, edits the programme and resubmits."""

from __future__ import annotations

import re

import pytest

from badges.models import Programme
from endorsement import services
from endorsement.models import Application, ApplicationState
from tests.factories import PASSWORD, Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROGRAMME = {
    "Name (English)": "Safe welding practice",
    "Description (English)": "Welding steel plates safely in a workshop.",
    "Learning outcomes": "Prepare a safe workplace\nWeld a butt joint\nInspect a weld",
    "Notional learning hours": "24",
    "Award criteria": "Pass a practical test observed by two assessors.",
    "Assessment method": "A practical test in the workshop.",
    "Evidence policy": "Test records are kept for five years.",
    "Type of quality assurance": "Yearly review by the training committee.",
    "Person responsible": "Ms Aiko Tanaka",
}
CHANGES = "Please state how the practical test is weighted."


def test_an_organisation_submits_a_programme_and_resubmits_it_after_changes(browser):
    from playwright.sync_api import expect

    cast = Cast()
    page = browser.page
    browser.log_in(cast.editor.username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Portal of {cast.organisation.name}")
    browser.shot("portal")

    # Describe the programme.
    page.get_by_role("link", name="Describe a new programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Describe a new programme")
    for label, value in PROGRAMME.items():
        page.get_by_label(label).fill(value)
    browser.shot("programme-form")
    page.get_by_role("button", name="Save the programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROGRAMME["Name (English)"])
    expect(page.get_by_role("status")).to_contain_text("The programme was saved as a draft.")
    browser.shot("programme")

    # Apply, then submit.
    page.get_by_role("button", name="Apply for certification").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{PROGRAMME['Name (English)']}")
    expect(page.get_by_role("status")).to_contain_text("A draft application was opened.")
    browser.shot("application-draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("The application was submitted.")
    browser.shot("application-submitted")
    application = Application.objects.get(programme__name_en=PROGRAMME["Name (English)"])
    assert application.state == ApplicationState.SUBMITTED
    assert application.organisation == cast.organisation and application.revision == 1

    # The body: a reviewer is assigned, the review starts, the manager requests changes.
    services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=cast.reviewer)
    services.application_start_review(actor=cast.manager, application=application)
    services.application_request_changes(actor=cast.manager, application=application, message=CHANGES)

    # The editor sees the request on the portal and on the application.
    browser.visit("/portal/", "portal-changes-requested")
    expect(page.locator("#needing-action + ul")).to_contain_text(CHANGES)
    page.get_by_role("link", name=re.compile(rf"Application #{application.pk}: ")).click()
    changes = page.get_by_role("region", name="Changes requested by the body")
    expect(changes).to_contain_text(CHANGES)
    browser.shot("application-changes-requested")

    # Edit the programme as asked, then resubmit with a comment.
    changes.get_by_role("link", name="Edit the programme").click()
    page.get_by_label("Assessment method").fill("A practical test in the workshop: 70% the weld, 30% safety.")
    browser.shot("programme-edit")
    page.get_by_role("button", name="Save the programme").click()
    expect(page.get_by_role("status")).to_be_visible()
    browser.shot("programme-saved")
    browser.visit(f"/portal/applications/{application.pk}/", "application-before-resubmit")
    page.get_by_label("Comment (optional)").fill("The weighting is now in the assessment method.")
    page.get_by_role("button", name="Resubmit for review").click()
    expect(page.get_by_role("status")).to_contain_text("The application was resubmitted.")
    state = page.locator("dt", has_text=re.compile(r"^State$")).locator("xpath=following-sibling::dd[1]")
    expect(state).to_have_text("Submitted")
    browser.shot("application-resubmitted")

    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED and application.revision == 2
    assert "70% the weld" in application.snapshot["assessment_method"]
    assert Programme.objects.get(pk=application.programme_id).assessment_method.startswith("A practical test")
