"""In a real browser, in English and Japanese, at 390 px: a learner sent by a wallet to the Open Badges
API's authorization page sees the consent page (no sideways scroll), denies (the wallet gets
error=access_denied), comes again and allows (the wallet gets a code), then finds the wallet on their
account page and revokes its access."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from badges.awards import award_issue
from learners.wallet_scopes import CREDENTIAL_READ
from tests.factories import awarding_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CALLBACK = "http://127.0.0.1:9/callback"  # the wallet: answered by the browser's route, never fetched


def t(language: str, text: str, **values: str) -> str:
    with translation.override(language):
        return gettext(text) % values if values else gettext(text)


def no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what} is {width[0]} px wide at 390 px"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_consent_page_at_390_px_deny_then_allow_then_revoke(browser, language: str, settings) -> None:
    settings.SITE_URL = browser.base_url
    settings.LANGUAGE_CODE = language
    programme, _app, _cast, issuer = awarding_setup()
    mail.outbox.clear()
    award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org", recipient_name="Hanako")
    registered = Client().post("/ims/ob/v3p0/oauth/register", json.dumps({
        "client_name": "Backpack of a rather long name for a phone screen", "redirect_uris": [CALLBACK],
        "scope": CREDENTIAL_READ}), content_type="application/json")
    assert registered.status_code == 201
    client_id = registered.json()["client_id"]
    page = browser.page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": browser.base_url}])
    page.route("http://127.0.0.1:9/**", lambda route: route.fulfill(status=200, body="the wallet"))
    page.set_viewport_size({"width": 390, "height": 844})

    claim = re.search(r"https?://\S+/learner/claim/\S+/", mail.outbox[-1].body).group(0)
    page.goto(claim)
    page.get_by_role("button", name=t(language, "Claim the badge and open my account")).click()
    page.wait_for_load_state()

    verifier = secrets.token_urlsafe(48)

    def authorize() -> None:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        page.goto(browser.url("/ims/ob/v3p0/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": CREDENTIAL_READ,
            "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})))

    authorize()
    browser.shot(f"{language}-consent-390")
    page.get_by_role("heading", level=1).wait_for()
    assert "Backpack of a rather long name" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_text(t(language, "Read every badge issued to your addresses on this server, as signed credentials "
                                 "(including those whose page you made private).")).wait_for()
    no_sideways_scroll(page, "the consent page")
    page.get_by_role("button", name=t(language, "Deny")).click()
    page.wait_for_url("http://127.0.0.1:9/**")
    assert parse_qs(urlsplit(page.url).query)["error"] == ["access_denied"]

    authorize()
    page.get_by_role("button", name=t(language, "Allow"), exact=True).click()
    page.wait_for_url("http://127.0.0.1:9/**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    secret = registered.json()["client_secret"]
    exchanged = Client().post("/ims/ob/v3p0/oauth/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    assert exchanged.status_code == 200, exchanged.content

    page.goto(browser.url("/learner/wallets/"))  # the connected wallets page, linked from the account page
    browser.shot(f"{language}-wallets-with-application-390")
    no_sideways_scroll(page, "the connected wallets page")
    revoke = t(language, "Revoke the access of %(name)s", name="Backpack of a rather long name for a phone screen")
    page.get_by_role("button", name=revoke).click()
    page.wait_for_load_state()
    page.get_by_text(t(language, "No application (wallet or backpack) has access to your badges.")).wait_for()
    token = exchanged.json()["access_token"]
    assert Client().get("/ims/ob/v3p0/credentials", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
