"""CORS on the Open Badges 3.0 API (config.cors): a browser-based wallet on another origin can call the
discovery, registration, token, revocation and resource endpoints with an Authorization header and read
the paging headers; no credentials are ever allowed (bearer tokens only); the preflight is cached. The
authorization page, the learner's pages, the portal and the admin stay closed to other origins."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from oauth2_provider.models import Application

from learners.models import WalletClient
from learners.wallet_scopes import CREDENTIAL_READ
from tests.learners.test_wallets import GOOD, REGISTER, bearer, issue, learner

pytestmark = pytest.mark.django_db
ORIGIN = "https://wallet.example.net"
API = ["/ims/ob/v3p0/discovery", "/ims/ob/v3p0/oauth/register", "/ims/ob/v3p0/oauth/token",
       "/ims/ob/v3p0/oauth/revoke", "/ims/ob/v3p0/credentials", "/ims/ob/v3p0/profile"]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", API)
def test_every_api_endpoint_answers_a_preflight_with_authorization_allowed_and_no_credentials(path):
    preflight = Client().options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                 HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight["Access-Control-Allow-Headers"].split(", ")
    assert "content-type" in preflight["Access-Control-Allow-Headers"].split(", ")
    assert {"GET", "POST"} <= set(preflight["Access-Control-Allow-Methods"].split(", "))
    assert preflight["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in preflight


def test_a_cross_origin_read_of_the_credentials_exposes_the_paging_headers():
    account = learner()
    issue("hanako@example.org", 3)
    answer = Client().get("/ims/ob/v3p0/credentials?limit=2", HTTP_ORIGIN=ORIGIN,
                          **bearer(account, CREDENTIAL_READ))
    assert answer.status_code == 200 and answer["X-Total-Count"] == "3"
    assert answer["Access-Control-Allow-Origin"] == "*"
    exposed = answer["Access-Control-Expose-Headers"].split(", ")
    assert {"Link", "X-Total-Count", "WWW-Authenticate"} <= set(exposed)
    assert "Access-Control-Allow-Credentials" not in answer


def test_a_refused_cross_origin_read_is_readable_by_the_wallet_and_changes_nothing():
    before = Application.objects.count()
    answer = Client().get("/ims/ob/v3p0/credentials", HTTP_ORIGIN=ORIGIN)
    assert answer.status_code == 401 and answer.json()["imsx_codeMajor"] == "failure"
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in answer["Access-Control-Expose-Headers"]
    assert Application.objects.count() == before


def test_a_wallet_registers_from_another_origin():
    answer = Client().post(REGISTER, json.dumps(GOOD), content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert answer.status_code == 201
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert WalletClient.objects.filter(application__client_id=answer.json()["client_id"]).exists()


def test_the_public_documents_keep_their_narrower_policy():
    preflight = Client().options("/.well-known/did.json", HTTP_ORIGIN=ORIGIN,
                                 HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "authorization" not in preflight["Access-Control-Allow-Headers"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("path", ["/ims/ob/v3p0/oauth/authorize", "/learner/", "/learner/sign-in/", "/portal/",
                                  "/admin/login/", "/api/v1/me"])
def test_the_authorization_page_the_learners_pages_the_portal_and_the_admin_get_no_cors(path):
    client = Client()
    preflight = client.options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
    got = client.get(path, HTTP_ORIGIN=ORIGIN)
    assert not any(h.lower().startswith("access-control-") for h in got.headers)
