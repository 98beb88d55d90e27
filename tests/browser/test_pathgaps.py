"""In a real browser, in English and Japanese, at desktop width and at 390 px: a member's editor renews
a pathway's endorsement from the pathway page; an owner sends a webhook endpoint a test event and sees
its delivery; the body's manager retries a failed mail in the admin's outbox and sets the body's logo
(a scripted SVG refused on the field)."""

from __future__ import annotations

import pytest

from endorsement.models import Application, ApplicationState, Endorsement, Notification
from institutions.models import Role
from tests.endorsement.renewal_walk import ends_in
from tests.factories import PASSWORD, body, staff
from tests.pathways.helpers import endorsed_programmes, pathway_in
from tests.webhooks.receiver import receiver
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
SIZES = {"desktop": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
SCRIPTED = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#036"/></svg>'


def in_language(browser, language: str) -> None:
    """A new session in `language`: the Accept-Language header and the cookie the switcher sets."""
    context = browser.page.context
    context.clear_cookies()
    context.set_extra_http_headers({"Accept-Language": language})
    context.add_cookies([{"name": "django_language", "value": language, "url": browser.url("/")}])


def log_in(browser, path: str, user, name: str) -> None:
    page = browser.page
    browser.visit(path, name)
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_load_state()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width <= 1, f"the page scrolls sideways by {width}px"


def test_an_editor_renews_a_pathway_from_its_page_in_both_languages(browser):
    from playwright.sync_api import expect

    application, cast, pathway = pathway_in(ApplicationState.PUBLISHED, programmes=endorsed_programmes())
    endorsement = ends_in(Endorsement.objects.get(application=application), 60)
    page = browser.page
    for language, button, done in (("ja", "認証を更新", "パスウェイの内容を確認"),
                                   ("en", "Renew the endorsement", "Check the pathway")):
        in_language(browser, language)
        Application.objects.filter(renews=endorsement).delete()
        log_in(browser, "/accounts/login/", cast.editor, f"login-{language}")
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            browser.visit(f"/portal/pathways/{pathway.public_id}/", f"pathway-{language}-{size}")
            expect(page.get_by_role("button", name=button)).to_be_visible()
            no_sideways_scroll(page)
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()
        expect(page.get_by_text(done)).to_be_visible()
        browser.shot(f"renewal-opened-{language}-390")
        no_sideways_scroll(page)
        assert Application.objects.get(renews=endorsement).state == ApplicationState.DRAFT
        page.set_viewport_size(SIZES["desktop"])
        browser.shot(f"renewal-opened-{language}-desktop")
        browser.visit(f"/portal/endorsements/{endorsement.public_id}/", f"endorsement-{language}")


def test_an_owner_sends_a_test_event_and_sees_its_delivery(browser):
    from playwright.sync_api import expect

    _application, cast, _pathway = pathway_in(ApplicationState.DRAFT)
    owner = staff(cast.organisation, Role.OWNER)
    page = browser.page
    with receiver() as ours:
        endpoint, _secret = endpoint_create(actor=owner, organisation=cast.organisation, url=ours.url(),
                                            events=["award.issued"])
        for language, button, sent, kind in (
                ("ja", "テストイベントを送信", "テストイベントを送信しました", "テストイベント"),
                ("en", "Send a test event", "A test event was sent", "Test event")):
            in_language(browser, language)
            log_in(browser, "/accounts/login/", owner, f"login-{language}")
            page.set_viewport_size(SIZES["desktop"])
            browser.visit(f"/portal/webhooks/{endpoint.public_id}/", f"endpoint-{language}-desktop")
            page.get_by_role("button", name=button).click()
            page.wait_for_load_state()
            expect(page.get_by_text(sent)).to_be_visible()
            expect(page.locator("table").get_by_text(kind).first).to_be_visible()
            browser.shot(f"test-sent-{language}-desktop")
            page.set_viewport_size(SIZES["390"])
            browser.shot(f"test-sent-{language}-390")
            no_sideways_scroll(page)
        assert len(ours.received) == 2 and all(r.headers["webhook-signature"].startswith("v1,") for r in ours.received)


def test_a_manager_retries_a_failed_mail_and_sets_the_body_s_logo_in_japanese(browser, tmp_path):
    from playwright.sync_api import expect

    _application, cast, _pathway = pathway_in(ApplicationState.DRAFT)
    Notification.objects.all().delete()
    failed = Notification.objects.create(key="demo-failed", recipients=["owner@example.org"], subject="審査のお知らせ",
                                         body="…", state=Notification.State.FAILED, attempts=10,
                                         last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    page = browser.page
    in_language(browser, "ja")
    log_in(browser, "/admin/login/", cast.manager, "admin-login-ja")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        browser.visit("/admin/endorsement/notification/?unsent=yes", f"outbox-ja-{size}")
    page.set_viewport_size(SIZES["desktop"])
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("retry_now")
    page.locator("button[name=index]").click()
    page.wait_for_load_state()
    expect(page.get_by_text("件のメールを再送しています")).to_be_visible()
    browser.shot("outbox-retried-ja")
    failed.refresh_from_db()
    assert failed.state == Notification.State.SENT

    bad, good = tmp_path / "bad.svg", tmp_path / "logo.svg"
    bad.write_text(SCRIPTED)
    good.write_text(SVG)
    the_body = body()
    browser.visit(f"/admin/institutions/organisation/{the_body.pk}/change/", "body-ja")
    page.locator("input[name=logo]").set_input_files(str(bad))
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    expect(page.locator(".errorlist").first).to_be_visible()
    browser.shot("logo-refused-ja")
    the_body.refresh_from_db()
    assert not the_body.logo
    page.locator("input[name=logo]").set_input_files(str(good))
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    browser.shot("logo-saved-ja")
    the_body.refresh_from_db()
    assert the_body.logo.name.endswith(".svg")
    page.set_viewport_size(SIZES["390"])
    browser.visit(f"/admin/institutions/organisation/{the_body.pk}/change/", "body-ja-390")
