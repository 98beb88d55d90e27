"""The Open Badges 3.0 API as a host, piece by piece (learners.wallets, learners.wallet_views): the
discovery document, registration's checks (400 with RFC 7591's error, nothing stored), PKCE with S256
only, deny, the resources' Imsx_StatusInfo errors (401, 403, 400, unsupported writes), paging and
`since`, the profile, and deleting an account taking its wallets' access with it. The whole flow over
real HTTP is in test_wallet_flow.py."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken, set_token_value

from badges.awards import award_issue
from badges.models import Award
from learners import wallets
from learners.models import LearnerAccount, LearnerEmail, WalletClient, WalletHolder
from learners.services import account_delete
from learners.session import SESSION_KEY
from learners.wallet_scopes import CREDENTIAL_READ, PROFILE_READ
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db

REGISTER = "/ims/ob/v3p0/oauth/register"
AUTHORIZE = "/ims/ob/v3p0/oauth/authorize"
CREDENTIALS = "/ims/ob/v3p0/credentials"
PROFILE = "/ims/ob/v3p0/profile"
GOOD = {"client_name": "Backpack", "redirect_uris": ["https://backpack.example/cb"],
        "scope": f"{CREDENTIAL_READ} {PROFILE_READ}"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def register(client: Client | None = None, **changes):
    document = {**GOOD, **changes}
    document = {k: v for k, v in document.items() if v is not None}
    return (client or Client()).post(REGISTER, json.dumps(document), content_type="application/json")


def learner(email: str = "hanako@example.org") -> LearnerAccount:
    account = LearnerAccount.objects.create()
    LearnerEmail.objects.create(account=account, email=email)
    return account


def browser_of(account: LearnerAccount) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = str(account.public_id)
    session.save()
    return client


def registered_application(scope: str = f"{CREDENTIAL_READ} {PROFILE_READ}") -> Application:
    answer = register(scope=scope)
    assert answer.status_code == 201, answer.content
    return Application.objects.get(client_id=answer.json()["client_id"])


def bearer(account: LearnerAccount, scope: str, application: Application | None = None) -> dict[str, str]:
    raw = secrets.token_urlsafe(32)
    token = AccessToken(user=wallets.holder_user(account), application=application or registered_application(),
                        expires=timezone.now() + timedelta(hours=1), scope=scope)
    set_token_value(token, raw)
    token.save()
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def issue(email: str, count: int = 1) -> list[Award]:
    programme, _app, _cast, issuer = awarding_setup()
    return [award_issue(actor=issuer, programme=programme, recipient_email=email, recipient_name="Hanako")
            for _ in range(count)]


def imsx(answer) -> dict:
    body = answer.json()
    assert set(body) >= {"imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_codeMinor"}
    return body


def stored() -> tuple[int, int]:
    return Application.objects.count(), WalletClient.objects.count()


# --- discovery ------------------------------------------------------------------------------------------
def test_the_discovery_document_names_the_oauth_urls_scopes_and_privacy_policy(settings):
    answer = Client().get("/ims/ob/v3p0/discovery")
    assert answer.status_code == 200
    sdd = answer.json()
    assert sdd["openapi"] == "3.0.1" and sdd["info"]["x-imssf-privacyPolicyUrl"].startswith(settings.SITE_URL)
    scheme = sdd["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["x-imssf-registrationUrl"] == settings.SITE_URL + REGISTER
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == settings.SITE_URL + AUTHORIZE
    assert flow["tokenUrl"] == flow["refreshUrl"] == settings.SITE_URL + "/ims/ob/v3p0/oauth/token"
    assert set(flow["scopes"]) == {CREDENTIAL_READ, PROFILE_READ, "offline_access"}
    assert set(sdd["paths"]) == {"/credentials", "/profile", "/discovery"}
    assert sdd["servers"][0]["url"] == settings.SITE_URL + "/ims/ob/v3p0"


# --- registration ---------------------------------------------------------------------------------------
def test_registration_answers_201_with_the_credentials_and_keeps_only_the_secrets_digest():
    answer = register(client_uri="https://backpack.example/", contacts=["dev@backpack.example"])
    assert answer.status_code == 201
    body = answer.json()
    assert {"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at"} <= set(body)
    assert body["redirect_uris"] == GOOD["redirect_uris"] and body["client_name"] == "Backpack"
    application = Application.objects.get(client_id=body["client_id"])
    assert application.client_secret != body["client_secret"]  # hashed at rest by the toolkit
    assert application.client_type == "confidential" and application.authorization_grant_type == "authorization-code"
    assert application.wallet_client.scopes == [CREDENTIAL_READ, PROFILE_READ]


def test_a_loopback_http_redirect_is_accepted_for_an_application_on_the_learners_machine():
    for uri in ("http://127.0.0.1:8765/cb", "http://[::1]/cb", "http://localhost:3000/cb"):
        assert register(redirect_uris=[uri]).status_code == 201, uri


@pytest.mark.parametrize(("changes", "error"), [
    ({"redirect_uris": ["http://backpack.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://backpack.example/cb#x"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["backpack.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"redirect_uris": None}, "invalid_redirect_uri"),
    ({"redirect_uris": "https://backpack.example/cb"}, "invalid_redirect_uri"),
    ({"client_name": None}, "invalid_client_metadata"),
    ({"client_name": "   "}, "invalid_client_metadata"),
    ({"client_name": "x" * 201}, "invalid_client_metadata"),
    ({"scope": None}, "invalid_client_metadata"),
    ({"scope": "read write"}, "invalid_client_metadata"),
    ({"scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"}, "invalid_client_metadata"),
    ({"scope": "offline_access"}, "invalid_client_metadata"),
    ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ({"response_types": ["token"]}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
    ({"logo_uri": "http://backpack.example/logo.png"}, "invalid_client_metadata"),
    ({"contacts": ["not an address"]}, "invalid_client_metadata"),
])
def test_bad_registration_metadata_is_400_with_the_rfc_7591_error_and_nothing_stored(changes, error):
    before = stored()
    answer = register(**changes)
    assert answer.status_code == 400
    assert answer.json()["error"] == error and answer.json()["error_description"]
    assert stored() == before


def test_a_body_that_is_not_a_json_object_is_400_and_nothing_stored():
    before = stored()
    for body, kind in (("not json", "application/json"), ("[1]", "application/json"),
                       ("client_name=x", "application/x-www-form-urlencoded")):
        answer = Client().post(REGISTER, body, content_type=kind)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"
    assert stored() == before


def test_registrations_are_throttled_per_client_address(settings):
    settings.WALLET_REGISTRATION_LIMIT = 2
    assert [register().status_code for _ in range(3)] == [201, 201, 429]
    assert stored() == (2, 2)


# --- authorization --------------------------------------------------------------------------------------
def authorize_query(application: Application, **changes) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"response_type": "code", "client_id": application.client_id, "redirect_uri": "https://backpack.example/cb",
             "scope": CREDENTIAL_READ, "state": "st4te", "code_challenge": challenge, "code_challenge_method": "S256",
             **changes}
    return AUTHORIZE + "?" + urlencode({k: v for k, v in query.items() if v is not None})


def test_without_a_signed_in_learner_authorization_sends_to_the_sign_in_page_and_back():
    url = authorize_query(registered_application())
    answer = Client().get(url)
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert location.path == "/learner/sign-in/" and dict(parse_qsl(location.query))["next"] == url


def test_the_sign_in_page_ignores_a_next_that_leaves_the_site(django_capture_on_commit_callbacks):
    issue("hanako@example.org")
    client = Client()
    client.get("/learner/sign-in/?next=//evil.example/steal")
    assert "learner_next" not in client.session


@pytest.mark.parametrize("changes", [{"code_challenge": None, "code_challenge_method": None},
                                     {"code_challenge_method": "plain"}])
def test_pkce_with_s256_is_required(changes):
    application = registered_application()
    answer = browser_of(learner()).get(authorize_query(application, **changes))
    assert answer.status_code == 302
    query = dict(parse_qsl(urlsplit(answer["Location"]).query))
    assert answer["Location"].startswith("https://backpack.example/cb?")
    assert query["error"] == "invalid_request" and query["state"] == "st4te"
    assert not Grant.objects.exists()


def test_a_scope_the_application_did_not_register_is_refused():
    application = registered_application(scope=CREDENTIAL_READ)
    answer = browser_of(learner()).get(authorize_query(application, scope=f"{CREDENTIAL_READ} {PROFILE_READ}"))
    assert answer.status_code == 302 and dict(parse_qsl(urlsplit(answer["Location"]).query))["error"] == "invalid_scope"


def test_the_consent_page_lists_what_it_will_read_in_both_languages_and_deny_works():
    application = registered_application()
    account = learner()
    browser = browser_of(account)
    url = authorize_query(application, scope=f"{CREDENTIAL_READ} {PROFILE_READ}")
    page = browser.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Backpack" in html and "Read every badge issued to your addresses" in html
    assert "hanako@example.org" in html
    assert "learner-" not in html and "/portal/" not in html  # the hidden user is not shown as logged in
    japanese = browser.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "バッジ" in japanese and "拒否" in japanese
    fields = {name: page.context["form"].initial[name] for name in
              ("redirect_uri", "scope", "client_id", "state", "response_type", "code_challenge",
               "code_challenge_method")}
    denied = browser.post(url, fields)  # no "allow": the learner said no
    assert denied.status_code == 302
    assert dict(parse_qsl(urlsplit(denied["Location"]).query))["error"] == "access_denied"
    assert not Grant.objects.exists() and not AccessToken.objects.exists()


def test_the_hidden_user_cannot_log_in_and_is_no_staff():
    account = learner()
    user = wallets.holder_user(account)
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert wallets.holder_user(account) == user  # one per account
    assert wallets.account_for_user(user) == account


# --- the resources --------------------------------------------------------------------------------------
def test_without_a_token_the_credentials_answer_401_imsx():
    answer = Client().get(CREDENTIALS)
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")
    body = imsx(answer)
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorizedrequest"
    made_up = Client().get(CREDENTIALS, HTTP_AUTHORIZATION="Bearer made-up")
    assert made_up.status_code == 401 and 'error="invalid_token"' in made_up["WWW-Authenticate"]


def test_an_expired_token_answers_401():
    account = learner()
    headers = bearer(account, CREDENTIAL_READ)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert Client().get(CREDENTIALS, **headers).status_code == 401


def test_a_token_without_the_scope_answers_403_imsx():
    account = learner()
    answer = Client().get(CREDENTIALS, **bearer(account, PROFILE_READ))
    assert answer.status_code == 403 and 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    assert imsx(answer)["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "forbidden"
    assert Client().get(PROFILE, **bearer(account, CREDENTIAL_READ)).status_code == 403


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "offset=-1", "since=yesterday", "since=2026-01-01T00:00:00"])
def test_malformed_paging_parameters_answer_400_imsx(query):
    account = learner()
    answer = Client().get(f"{CREDENTIALS}?{query}", **bearer(account, CREDENTIAL_READ))
    assert answer.status_code == 400
    assert imsx(answer)["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == \
        "invalid_query_parameter"


def test_paging_with_total_count_and_link_headers_hidden_badges_included_never_another_learners():
    account = learner()
    mine = issue("hanako@example.org", 3)
    others = issue("taro@example.org")
    Award.objects.filter(pk=mine[0].pk).update(hidden_at=timezone.now())
    headers = bearer(account, CREDENTIAL_READ)
    first = Client().get(f"{CREDENTIALS}?limit=2", **headers)
    assert first.status_code == 200 and first["X-Total-Count"] == "3"
    assert 'limit=2&offset=2>; rel="next"' in first["Link"] and 'offset=2>; rel="last"' in first["Link"]
    assert 'rel="prev"' not in first["Link"]
    second = Client().get(f"{CREDENTIALS}?limit=2&offset=2", **headers)
    assert 'rel="next"' not in second["Link"] and 'limit=2&offset=0>; rel="prev"' in second["Link"]
    ids = [c["id"] for c in first.json()["credential"] + second.json()["credential"]]
    assert sorted(ids) == sorted(a.credential["id"] for a in mine)  # the hidden one too
    assert others[0].credential["id"] not in ids


def test_since_keeps_what_was_issued_or_revoked_from_then():
    account = learner()
    old, new = issue("hanako@example.org", 2)
    Award.objects.filter(pk=old.pk).update(issued_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    answer = Client().get(CREDENTIALS, {"since": since}, **bearer(account, CREDENTIAL_READ))
    assert [c["id"] for c in answer.json()["credential"]] == [new.credential["id"]]
    assert answer["X-Total-Count"] == "1"


def test_the_profile_gives_the_accounts_id_and_addresses():
    account = learner()
    LearnerEmail.objects.create(account=account, email="hanako@work.example")
    answer = Client().get(PROFILE, **bearer(account, PROFILE_READ))
    body = answer.json()
    assert answer.status_code == 200 and body["id"] == f"urn:uuid:{account.public_id}" and "Profile" in body["type"]
    assert body["email"] == "hanako@example.org"
    assert body["otherIdentifier"][0]["identifier"] == "hanako@work.example"


def test_writes_are_answered_as_unsupported_and_change_nothing():
    account = learner()
    headers = bearer(account, CREDENTIAL_READ)
    before = Award.objects.count()
    upsert = Client().post(CREDENTIALS, "header.payload.signature", content_type="text/plain", **headers)
    assert upsert.status_code == 405 and imsx(upsert)["imsx_codeMajor"] == "unsupported"
    put = Client().put(PROFILE, "{}", content_type="application/json", **bearer(account, PROFILE_READ))
    assert put.status_code == 405 and imsx(put)["imsx_codeMajor"] == "unsupported"
    assert Client().post(CREDENTIALS, "x", content_type="text/plain").status_code == 401  # no token: 401 first
    assert Award.objects.count() == before


# --- the account ----------------------------------------------------------------------------------------
def test_revoking_someone_elses_or_an_unknown_application_is_404_and_changes_nothing():
    account, other = learner(), learner("taro@example.org")
    application = registered_application()
    bearer(other, CREDENTIAL_READ, application)
    answer = browser_of(account).post(f"/learner/applications/{application.pk}/revoke/")
    assert answer.status_code == 404
    assert AccessToken.objects.filter(user=wallets.holder_user(other)).count() == 1


def test_deleting_the_account_deletes_its_hidden_user_and_every_token():
    account = learner()
    headers = bearer(account, CREDENTIAL_READ)
    user_pk = WalletHolder.objects.get(account=account).user_id
    account_delete(account)
    assert not get_user_model().objects.filter(pk=user_pk).exists()
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert Client().get(CREDENTIALS, **headers).status_code == 401


def test_the_wallet_can_revoke_its_own_token_rfc_7009():
    account = learner()
    answer = register()
    client_id, secret = answer.json()["client_id"], answer.json()["client_secret"]
    headers = bearer(account, CREDENTIAL_READ, Application.objects.get(client_id=client_id))
    raw = headers["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    assert Client().get(CREDENTIALS, **headers).status_code == 200
    wrong = Client().post("/ims/ob/v3p0/oauth/revoke", {"token": raw},
                          HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client_id}:nope".encode()).decode())
    assert wrong.status_code == 401 and Client().get(CREDENTIALS, **headers).status_code == 200
    revoked = Client().post("/ims/ob/v3p0/oauth/revoke", {"token": raw},
                            HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    assert revoked.status_code == 200
    assert Client().get(CREDENTIALS, **headers).status_code == 401


def test_a_token_in_the_query_string_is_not_accepted():
    account = learner()
    raw = bearer(account, CREDENTIAL_READ)["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    assert Client().get(CREDENTIALS, {"access_token": raw}).status_code == 401
