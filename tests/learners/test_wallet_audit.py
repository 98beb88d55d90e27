"""The learner's consent and revocations in the audit trail (learners.wallets, learners.services): a
wallet allowed on the consent page, its access revoked by the learner or by the wallet itself (RFC 7009),
a badge claimed, hidden or shown again: each is one event with the learner (or the wallet) as actor and
the application or badge as subject, never a token or secret; the connected wallets page lists each
access with its scopes, when it was allowed and last read, and the account's history. Refusals record
nothing and change nothing."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from oauth2_provider.models import AccessToken, Application, Grant

from endorsement.audit import audit_verify
from endorsement.models import AuditEvent
from learners import services, wallets
from learners.models import WalletAccess
from learners.wallet_scopes import CREDENTIAL_READ, PROFILE_READ
from tests.learners.test_learners import claim_link
from tests.learners.test_wallets import (
    CREDENTIALS,
    authorize_query,
    bearer,
    browser_of,
    issue,
    learner,
    register,
    registered_application,
)

pytestmark = pytest.mark.django_db
WALLET_ACTIONS = ("wallet_access.granted", "wallet_access.revoked", "wallet_access.token_revoked")
LEARNER_ACTIONS = (*WALLET_ACTIONS, "award.claimed", "award.hidden", "award.shown")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def events(*actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=actions or LEARNER_ACTIONS).order_by("seq"))


def consent(browser: Client, application: Application, scope: str, allow: bool = True):
    url = authorize_query(application, scope=scope)
    page = browser.get(url)
    assert page.status_code == 200
    fields = {name: page.context["form"].initial[name] for name in
              ("redirect_uri", "scope", "client_id", "state", "response_type", "code_challenge",
               "code_challenge_method")}
    if allow:
        fields["allow"] = "Authorize"
    return browser.post(url, fields)


def test_allowing_a_wallet_records_the_consent_with_the_learner_as_actor_and_no_secret():
    answer = register()
    client_id, secret = answer.json()["client_id"], answer.json()["client_secret"]
    application = Application.objects.get(client_id=client_id)
    account = learner()
    allowed = consent(browser_of(account), application, f"{CREDENTIAL_READ} {PROFILE_READ}")
    assert allowed.status_code == 302
    code = dict(parse_qsl(urlsplit(allowed["Location"]).query))["code"]
    [event] = events()
    assert event.action == "wallet_access.granted"
    assert event.actor is None and event.actor_repr == f"learner:{account.public_id}"
    assert (event.subject_type, event.subject_id) == ("walletclient", str(application.wallet_client.pk))
    assert event.data == {"account": str(account.public_id), "client_id": client_id, "client_name": "Backpack",
                          "scopes": [CREDENTIAL_READ, PROFILE_READ]}
    recorded = json.dumps([event.data, event.comment, event.actor_repr])
    assert code not in recorded and secret not in recorded
    access = WalletAccess.objects.get(account=account, application=application)
    assert access.scope.split() == [CREDENTIAL_READ, PROFILE_READ] and access.last_used_at is None
    assert audit_verify().ok


def test_denying_records_nothing_and_stores_no_access():
    application = registered_application()
    denied = consent(browser_of(learner()), application, CREDENTIAL_READ, allow=False)
    assert dict(parse_qsl(urlsplit(denied["Location"]).query))["error"] == "access_denied"
    assert events() == [] and not WalletAccess.objects.exists() and not Grant.objects.exists()


def test_the_connected_wallets_page_lists_scopes_dates_and_last_read_in_both_languages():
    account = learner()
    issue("hanako@example.org")
    application = registered_application()
    browser = browser_of(account)
    consent(browser, application, f"{CREDENTIAL_READ} {PROFILE_READ}")
    page = browser.get("/learner/wallets/").content.decode()
    assert "Backpack" in page and "Read every badge issued to your addresses" in page
    assert "Read your learner profile" in page and "Not yet" in page
    assert "Learner allowed a wallet to read their badges" in page  # the history
    assert Client().get(CREDENTIALS, **bearer(account, CREDENTIAL_READ, application)).status_code == 200
    assert WalletAccess.objects.get(account=account).last_used_at is not None
    page = browser.get("/learner/wallets/").content.decode()
    assert "Not yet" not in page
    japanese = browser.get("/learner/wallets/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "連携しているウォレット" in japanese and "最後の読み取り" in japanese and "Backpack" in japanese
    account_page = browser.get("/learner/").content.decode()
    assert "/learner/wallets/" in account_page and "1 application" in account_page


def test_the_learner_revoking_on_the_page_deletes_the_tokens_and_records_it():
    account = learner()
    application = registered_application()
    browser = browser_of(account)
    consent(browser, application, CREDENTIAL_READ)
    headers = bearer(account, CREDENTIAL_READ, application)
    raw = headers["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    answer = browser.post(f"/learner/applications/{application.pk}/revoke/")
    assert answer.status_code == 302 and answer["Location"] == "/learner/wallets/"
    assert Client().get(CREDENTIALS, **headers).status_code == 401
    assert not WalletAccess.objects.exists() and not AccessToken.objects.exists()
    _granted, revoked = events()
    assert revoked.action == "wallet_access.revoked" and revoked.actor_repr == f"learner:{account.public_id}"
    assert revoked.data["client_id"] == application.client_id and revoked.data["scopes"] == [CREDENTIAL_READ]
    assert raw not in json.dumps(revoked.data)
    page = browser.get("/learner/wallets/").content.decode()
    assert "No application (wallet or backpack) has access" in page and "Learner revoked a wallet&#x27;s access" in page
    assert audit_verify().ok


def test_revoking_another_learners_wallet_is_404_records_nothing_and_changes_nothing():
    account, other = learner(), learner("taro@example.org")
    application = registered_application()
    consent(browser_of(other), application, CREDENTIAL_READ)
    bearer(other, CREDENTIAL_READ, application)
    before = events()
    answer = browser_of(account).post(f"/learner/applications/{application.pk}/revoke/")
    assert answer.status_code == 404
    assert events() == before
    assert WalletAccess.objects.filter(account=other).count() == 1
    assert AccessToken.objects.filter(user=wallets.holder_user(other)).count() == 1


def test_the_wallet_revoking_its_token_is_recorded_with_the_wallet_as_actor():
    account = learner()
    answer = register()
    client_id, secret = answer.json()["client_id"], answer.json()["client_secret"]
    application = Application.objects.get(client_id=client_id)
    consent(browser_of(account), application, CREDENTIAL_READ)
    raw = bearer(account, CREDENTIAL_READ, application)["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    unknown = Client().post("/ims/ob/v3p0/oauth/revoke", {"token": "not-a-token"}, HTTP_AUTHORIZATION=basic)
    assert unknown.status_code == 200 and len(events()) == 1  # RFC 7009: 200, and nothing was revoked
    wrong = Client().post("/ims/ob/v3p0/oauth/revoke", {"token": raw},
                          HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client_id}:nope".encode()).decode())
    assert wrong.status_code == 401 and len(events()) == 1 and AccessToken.objects.count() == 1
    revoked = Client().post("/ims/ob/v3p0/oauth/revoke", {"token": raw}, HTTP_AUTHORIZATION=basic)
    assert revoked.status_code == 200
    event = events()[-1]
    assert event.action == "wallet_access.token_revoked" and event.actor_repr == f"wallet:{client_id}"
    assert event.data["account"] == str(account.public_id) and event.data["token_type"] == "access_token"
    recorded = json.dumps([event.data, event.comment, event.actor_repr])
    assert raw not in recorded and secret not in recorded
    assert not WalletAccess.objects.exists()  # it holds no live token any more
    assert audit_verify().ok


def test_claiming_hiding_and_showing_a_badge_are_recorded(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [award] = issue("hanako@example.org")
    browser = Client()
    browser.post(claim_link(award))
    account = services.account_for_email("hanako@example.org")
    [claimed] = events()
    assert claimed.action == "award.claimed" and claimed.actor_repr == f"learner:{account.public_id}"
    assert (claimed.subject_type, claimed.subject_id) == ("award", str(award.pk))
    browser.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "yes"})
    browser.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "yes"})  # already private
    browser.post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "no"})
    assert [(e.action, e.from_state, e.to_state) for e in events()] == [
        ("award.claimed", "", ""), ("award.hidden", "public", "private"), ("award.shown", "private", "public")]
    assert [e.action for e in services.account_history(account)] == ["award.shown", "award.hidden", "award.claimed"]
    assert audit_verify().ok


def test_hiding_someone_elses_badge_is_404_and_records_nothing():
    [award] = issue("taro@example.org")
    before = events()
    answer = browser_of(learner()).post(f"/learner/badges/{award.public_id}/visibility/", {"hidden": "yes"})
    assert answer.status_code == 404
    assert events() == before
    award.refresh_from_db()
    assert award.hidden_at is None
