"""A wallet against the live server, over real HTTP (docs/api.md, "The Open Badges 3.0 API"): it reads the
discovery document, registers (RFC 7591), sends the learner through the authorization code flow with
PKCE (the learner signs in with the mailed link and consents in their browser), exchanges the code,
reads the learner's credentials, which Digital Bazaar's verifier accepts, and the profile; another
learner's badge is never among them; once the learner revokes the access from their account, the next
read answers 401 and the refresh token is refused."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import mail

from badges.awards import award_issue
from badges.models import StatusList
from badges.status import status_list_publish
from institutions.keys import did_document
from learners.models import WalletHolder
from tests.conftest import need
from tests.factories import awarding_setup, body
from tests.interop.conftest import NODE_MODULES, run_verifier

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server reads it

SIGN_IN = re.compile(r"https?://[^\s]+/learner/sign-in/[^\s/]+/")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REDIRECT_URI = "http://127.0.0.1:9/wallet/callback"  # loopback: never fetched, the test reads Location


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Http:
    """An HTTP client with its own cookies that never follows redirects (a browser, or the wallet)."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def send(self, method: str, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
             ) -> Answer:
        url = url if url.startswith("http") else self.base + url
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def get(self, url: str, **headers: str) -> Answer:
        return self.send("GET", url, headers=headers)

    def form(self, url: str, fields: dict[str, str], **headers: str) -> Answer:
        return self.send("POST", url, data=urllib.parse.urlencode(fields).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.base + "/",
                                  **headers})

    def json_post(self, url: str, document: Any) -> Answer:
        return self.send("POST", url, data=json.dumps(document).encode(), headers={"Content-Type": "application/json"})


def csrf(page: Answer) -> str:
    return CSRF.search(page.text).group(1)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks (the sign-in mail) run in the server's thread right after commit."""
    from config.celery import app

    eager = {"task_always_eager": True, "task_eager_propagates": True}
    before = {key: app.conf[key] for key in eager}
    app.conf.update(eager)
    yield
    app.conf.update(before)


@pytest.fixture
def verify() -> Any:
    node = shutil.which("node")
    need(node is not None, "node is not installed: the independent (JavaScript) verifier cannot run")
    need(NODE_MODULES.is_dir(), f"{NODE_MODULES} is missing: run `npm ci --prefix tests/interop`")
    return lambda items: run_verifier(node, items)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic(client_id: str, secret: str) -> str:
    pair = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def test_a_wallet_registers_is_authorized_with_pkce_reads_verifiable_badges_and_loses_access_on_revoke(
        live_server, settings, eager_tasks, verify):
    settings.SITE_URL = live_server.url
    programme, _app, _cast, issuer = awarding_setup()
    mine = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                       recipient_name="Hanako Yamada")
    other = award_issue(actor=issuer, programme=programme, recipient_email="taro@example.org",
                        recipient_name="Taro Sato")
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    wallet, browser = Http(live_server.url), Http(live_server.url)

    # 1. Discovery: an OpenAPI document naming the registration, authorization and token URLs.
    discovery = wallet.get("/ims/ob/v3p0/discovery", Accept="application/json")
    assert discovery.status == 200
    sdd = discovery.json()
    assert sdd["openapi"].startswith("3.0") and "x-imssf-privacyPolicyUrl" in sdd["info"]
    scheme = sdd["components"]["securitySchemes"]["OAuth2ACG"]
    flow = scheme["flows"]["authorizationCode"]
    read = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
    profile_scope = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
    assert scheme["type"] == "oauth2" and read in flow["scopes"] and profile_scope in flow["scopes"]
    api = sdd["servers"][0]["url"]

    # 2. Registration (RFC 7591).
    registered = wallet.json_post(scheme["x-imssf-registrationUrl"], {
        "client_name": "Test Backpack", "client_uri": "https://backpack.example/", "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": f"{read} {profile_scope} https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"})
    assert registered.status == 201, registered.text
    client = registered.json()
    assert client["scope"] == f"{read} {profile_scope}"  # upsert is not served: left out, as RFC 7591 allows
    client_id, client_secret = client["client_id"], client["client_secret"]

    # 3. The learner's browser goes to the authorization URL: sign in first (mailed link), then consent.
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    authorize = flow["authorizationUrl"] + "?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": f"{read} {profile_scope}", "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    to_sign_in = browser.get(authorize)
    assert to_sign_in.status == 302 and "/learner/sign-in/?next=" in to_sign_in.headers["Location"]
    page = browser.get(to_sign_in.headers["Location"])
    sent = browser.form("/learner/sign-in/", {"csrfmiddlewaretoken": csrf(page), "email": "hanako@example.org"})
    assert sent.status == 200
    link = SIGN_IN.search(mail.outbox[-1].body).group(0)
    confirm = browser.get(link)
    signed_in = browser.form(link, {"csrfmiddlewaretoken": csrf(confirm)})
    assert signed_in.status == 302 and signed_in.headers["Location"] == authorize.removeprefix(live_server.url)
    consent = browser.get(authorize)
    assert consent.status == 200 and "Test Backpack" in consent.text
    assert "Read every badge issued to your addresses" in consent.text and "Read your learner profile" in consent.text
    fields = dict(HIDDEN.findall(consent.text))
    assert fields["code_challenge_method"] == "S256"
    allowed = browser.form(authorize, {**fields, "allow": "Authorize"})
    assert allowed.status == 302
    back = urllib.parse.urlsplit(allowed.headers["Location"])
    query = dict(urllib.parse.parse_qsl(back.query))
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URI and query["state"] == state

    # 4. The wallet exchanges the code: without the verifier it is refused, with it a token comes.
    token_fields = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI}
    refused = wallet.form(flow["tokenUrl"], {**token_fields, "code_verifier": pkce()[0]},
                          Authorization=basic(client_id, client_secret))
    assert refused.status == 400 and refused.json()["error"] == "invalid_grant"
    # A refused exchange spends the code (RFC 6749 §4.1.2): run the flow's consent once more.
    allowed = browser.form(authorize, {**dict(HIDDEN.findall(browser.get(authorize).text)), "allow": "Authorize"})
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(allowed.headers["Location"]).query))["code"]
    granted = wallet.form(flow["tokenUrl"], {**token_fields, "code": code, "code_verifier": verifier},
                          Authorization=basic(client_id, client_secret))
    assert granted.status == 200, granted.text
    tokens = granted.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}

    # 5. Reading: the learner's badge only, signed; the profile.
    read_answer = wallet.send("GET", api + "/credentials?limit=10&offset=0", headers=bearer)
    assert read_answer.status == 200, read_answer.text
    assert read_answer.headers["X-Total-Count"] == "1"
    assert 'rel="first"' in read_answer.headers["Link"] and 'rel="last"' in read_answer.headers["Link"]
    (credential,) = read_answer.json()["credential"]
    assert credential == mine.credential and credential["id"] != other.credential["id"]
    organisation = mine.organisation
    (result,) = verify([{"credential": credential,
                         "didDocuments": {d["id"]: d for d in (did_document(body()), did_document(organisation))},
                         "statusLists": {s.credential["id"]: s.credential for s in StatusList.objects.all()}}])
    assert result["verified"] is True, result
    me = wallet.send("GET", api + "/profile", headers=bearer)
    assert me.status == 200 and me.json()["email"] == "hanako@example.org"

    # 6. The refresh token gives a new access token (and a new refresh token: rotated).
    refreshed = wallet.form(flow["tokenUrl"], {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            Authorization=basic(client_id, client_secret))
    assert refreshed.status == 200, refreshed.text
    tokens = refreshed.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    assert wallet.send("GET", api + "/credentials", headers=bearer).status == 200

    # 7. The learner sees the application on their connected wallets page (linked from the account
    # page), with when it last read, and revokes it; the consent and the revocation are in the audit trail.
    assert "/learner/wallets/" in browser.get("/learner/").text
    account_page = browser.get("/learner/wallets/")
    assert "Test Backpack" in account_page.text and "Last read" in account_page.text
    holder = WalletHolder.objects.get(account__emails__email="hanako@example.org")
    from oauth2_provider.models import Application
    application = Application.objects.get(client_id=client_id)
    revoked = browser.form(f"/learner/applications/{application.pk}/revoke/",
                           {"csrfmiddlewaretoken": csrf(account_page)})
    assert revoked.status == 302
    after = wallet.send("GET", api + "/credentials", headers=bearer)
    assert after.status == 401
    assert after.json()["imsx_codeMajor"] == "failure" and "invalid_token" in after.headers["WWW-Authenticate"]
    refresh = wallet.form(flow["tokenUrl"], {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                          Authorization=basic(client_id, client_secret))
    assert refresh.status == 400 and refresh.json()["error"] == "invalid_grant"
    assert "Test Backpack" not in browser.get("/learner/").text
    wallets_page = browser.get("/learner/wallets/").text
    assert "Learner allowed a wallet to read their badges" in wallets_page
    assert "Learner revoked a wallet&#x27;s access" in wallets_page
    assert tokens["access_token"] not in wallets_page and client_secret not in wallets_page
    assert holder.user.oauth2_provider_accesstoken.count() == 0
