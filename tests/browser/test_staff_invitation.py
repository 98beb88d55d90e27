"""In a real browser: an owner invites an issuer from the portal's staff page; the issuer opens the
link from the e-mail, sets a password (a new login), logs in and awards a badge under the endorsed
programme."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from badges.models import Award
from institutions.models import InvitationState, Role, StaffInvitation, StaffMember
from tests.factories import PASSWORD, ProgrammeFactory, application_in, staff
from tests.factories import Cast as _Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
NEW_PASSWORD = "Blue kites over Sendai 7"


def test_an_owner_invites_an_issuer_who_accepts_and_awards_a_badge(browser):
    from playwright.sync_api import expect

    cast = _Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, name_en="Safe welding practice")
    application_in("published", cast=cast, programme=programme)
    owner = staff(cast.organisation, Role.OWNER)
    page = browser.page

    # The owner invites a colleague as an issuer.
    browser.log_in(owner.username, PASSWORD)
    page.get_by_role("link", name="Staff: invite colleagues and manage roles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Staff of {cast.organisation.name}")
    browser.shot("staff")
    invite = page.locator("form[action$='/staff/invite/']")
    invite.get_by_label("E-mail address").fill("ken.issuer@example.org")
    invite.get_by_label("Role").select_option("issuer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to ken.issuer@example.org.")
    expect(page.get_by_role("table").last).to_contain_text("ken.issuer@example.org")
    browser.shot("invited")
    assert StaffInvitation.objects.get().state == InvitationState.PENDING
    page.get_by_role("button", name=re.compile("Log out")).click()

    # The colleague opens the link from the e-mail and chooses a login.
    message = next(m for m in mail.outbox if m.to == ["ken.issuer@example.org"])
    link = re.search(r"http://\S+/invitations/[A-Za-z0-9_-]+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    browser.visit("/" + path, "invitation")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join the staff of {cast.organisation.name}")
    expect(page.get_by_text("Accepting creates a new login for this organisation.")).to_be_visible()
    page.get_by_label("Username for your new login").fill("ken-issuer")
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Accept and create my login").click()
    expect(page.get_by_role("status")).to_contain_text("your login is ready")
    browser.shot("accepted")
    member = StaffMember.objects.get(user__username="ken-issuer")
    assert (member.organisation, member.role) == (cast.organisation, "issuer")

    # The new issuer logs in and awards a badge.
    page.get_by_label("Username").fill("ken-issuer")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Portal of {cast.organisation.name}")
    # One click from the dashboard: the programme's "Award a badge" button.
    page.get_by_role("link", name="Award a badge: Safe welding practice").click()
    page.get_by_label("Learner's e-mail").fill("learner@example.org")
    page.get_by_label("Learner's name").fill("Yui Learner")
    browser.shot("award-form")
    page.get_by_role("button", name="Award the badge").click()
    expect(page.get_by_role("status")).to_contain_text("The badge was awarded.")
    browser.shot("awarded")
    award = Award.objects.get()
    assert award.programme == programme and award.issued_by.username == "ken-issuer"
    # The link is single use.
    again = browser.visit("/" + path, "used-link")
    assert again.status == 409
    expect(page.get_by_role("alert")).to_contain_text("already been used")
