"""Verifying an Open Badges 2.0 assertion (badges.ob2_verification) on the /verify page and with
POST /api/v1/verify: by its URL, its JSON or a baked OB 2.0 PNG."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.fetch import FetchError
from badges.ob2 import assertion_url
from badges.ob2_verification import OB2_CHECK_CODES, ob2_verify
from badges.verification import CHECK_CODES, VERDICTS
from endorsement import services
from tests.factories import api_client, awarding_setup, png_bytes

pytestmark = pytest.mark.django_db
API = "/api/v1/verify"


@pytest.fixture
def issued():
    programme, app, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    return app, cast, issuer, award


def codes(body: dict) -> dict[str, str]:
    """The checks' codes by id, each a known code of its own check (as badges.verification's)."""
    for check in body["checks"]:
        assert check["code"] in CHECK_CODES + OB2_CHECK_CODES, check
        assert check["code"].split(".")[0] == check["id"], check
    assert body["verdict"] in VERDICTS
    return {c["id"]: c["code"] for c in body["checks"]}


def post(data, content_type: str = "application/json") -> dict:
    response = api_client().post(API, data=data, content_type=content_type)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_assertion_url_of_this_server_is_verified(issued):
    award = issued[-1]
    body = post(json.dumps({"credential": assertion_url(award.public_id), "email": "hanako@example.org"}))
    assert body["verified"] is True and body["verdict"] == "verified", body
    assert codes(body) == {"shape": "shape.ob2-assertion", "proof": "proof.hosted", "issuer": "issuer.ob2-profile",
                           "dates": "dates.ok", "status": "status.not-revoked", "registry": "registry.ok",
                           "identity": "identity.match"}
    assert body["credential"]["id"] == assertion_url(award.public_id)


def test_the_assertion_json_is_verified_and_an_altered_copy_is_not(client, issued):
    award = issued[-1]
    assertion = client.get(f"/ob2/assertions/{award.public_id}").json()
    assert post(json.dumps(assertion))["verdict"] == "verified"
    altered = {**assertion, "recipient": {**assertion["recipient"], "identity": "sha256$" + "0" * 64}}
    body = post(json.dumps(altered))
    assert body["verdict"] == "not-genuine" and codes(body)["proof"] == "proof.hosted-mismatch"
    assert "recipient" in next(c["message"] for c in body["checks"] if c["id"] == "proof")


def test_a_baked_ob2_png_is_verified_by_the_api_and_the_page(client, issued):
    award = issued[-1]
    png = client.get(f"/ob2/assertions/{award.public_id}.png").content
    response = api_client().post(API, {"file": SimpleUploadedFile("b.png", png, "image/png")}, format="multipart")
    assert response.status_code == 200 and response.json()["verdict"] == "verified"
    page = client.post("/verify", {"file": SimpleUploadedFile("b.png", png, "image/png")})
    assert page.status_code == 200
    assert "Hosted at its id" in page.content.decode()


def test_a_revoked_award_is_reported_revoked(issued):
    _app, _cast, issuer, award = issued
    award_revoke(actor=issuer, award=award, reason="Issued in error")
    body = post(json.dumps({"credential": assertion_url(award.public_id)}))
    assert body["verdict"] == "revoked" and codes(body)["status"] == "status.revoked"
    assert "Issued in error" in next(c["message"] for c in body["checks"] if c["id"] == "status")


def test_a_suspended_endorsement_is_reported_suspended(issued):
    app, cast, _issuer, award = issued
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under review")
    body = post(json.dumps({"credential": assertion_url(award.public_id)}))
    assert body["verdict"] == "suspended" and codes(body)["registry"] == "registry.suspended"


def test_an_unknown_id_on_this_server_is_not_found():
    url = assertion_url("00000000-0000-4000-8000-000000000000")
    body = post(json.dumps({"credential": url}))
    assert body["verdict"] == "not-genuine" and codes(body)["proof"] == "proof.hosted-not-found"


def test_a_signed_ob2_assertion_is_said_to_be_unsupported(client, issued):
    assertion = client.get(f"/ob2/assertions/{issued[-1].public_id}").json()
    body = post(json.dumps({**assertion, "verification": {"type": "SignedBadge", "creator": "https://x.example/k"}}))
    assert body["verdict"] == "not-genuine" and codes(body) == {"shape": "shape.ob2-signed-unsupported"}


def test_a_foreign_host_is_fetched_with_the_guarded_fetcher_and_its_limits_are_said(settings, monkeypatch):
    """An assertion on another server: fetched over https only (the guarded fetcher refuses plain
    http to anything but loopback), and the registry check says it cannot tell who endorses it."""
    served = {
        "https://badges.example.net/a/1": {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                                           "id": "https://badges.example.net/a/1", "badge": "https://badges.example.net/b",
                                           "recipient": {"type": "email", "hashed": False, "identity": "x@example.net"},
                                           "issuedOn": "2024-01-01T00:00:00Z", "verification": {"type": "hosted"}},
        "https://badges.example.net/b": {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass",
                                         "id": "https://badges.example.net/b", "name": "B",
                                         "issuer": "https://badges.example.net/i"},
        "https://badges.example.net/i": {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
                                         "id": "https://badges.example.net/i", "name": "Example Net",
                                         "revocationList": "https://badges.example.net/r"},
        "https://badges.example.net/r": {"@context": "https://w3id.org/openbadges/v2", "type": "RevocationList",
                                         "id": "https://badges.example.net/r",
                                         "revokedAssertions": [{"id": "https://badges.example.net/a/1",
                                                                "revocationReason": "cheating"}]},
    }
    asked: list[tuple[str, bool]] = []

    class Result:
        def __init__(self, body: bytes) -> None:
            self.body = body

    def fake_fetch(url, *, https_only, **kwargs):
        asked.append((url, https_only))
        return Result(json.dumps(served[url]).encode())

    monkeypatch.setattr("badges.ob2_verification.fetch", fake_fetch)
    report = ob2_verify("https://badges.example.net/a/1", email="x@example.net")
    by_id = {c.id: c for c in report.checks}
    assert by_id["proof"].code == "proof.hosted" and by_id["issuer"].code == "issuer.ob2-profile"
    assert "cannot show who runs that server" in by_id["issuer"].message
    assert by_id["status"].code == "status.revoked" and "cheating" in by_id["status"].message
    assert by_id["registry"].code == "registry.elsewhere" and by_id["registry"].informational
    assert by_id["identity"].code == "identity.match"
    assert report.verdict == "revoked"
    assert asked == [(url, True) for url in served]  # each once, https only


def test_a_png_with_neither_kind_of_badge_keeps_the_ob3_message_and_nothing_changes(client):
    from badges.models import Award

    before = Award.objects.count()
    response = api_client().post(API, {"file": SimpleUploadedFile("p.png", png_bytes(), "image/png")},
                                 format="multipart")
    assert response.status_code == 400
    assert "no baked credential" in json.dumps(response.json()["errors"]["file"])
    assert Award.objects.count() == before


def test_a_png_baked_with_a_jws_is_refused_with_a_field_message():
    png = vc.bake_png_ob2(png_bytes(), "eyJhbGciOiJSUzI1NiJ9.e30.sig")
    response = api_client().post(API, {"file": SimpleUploadedFile("p.png", png, "image/png")}, format="multipart")
    assert response.status_code == 400
    assert "signed Open Badges 2.0 assertion" in response.json()["errors"]["file"][0]


def test_an_assertion_url_pasted_on_the_page_gets_its_checks_and_no_words_about_a_signature(client, issued):
    award = issued[-1]
    page = client.post("/verify", {"credential": f"  {assertion_url(award.public_id)}\n", "email": ""})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-verdict="verified"' in html
    assert "Hosted at its id" in html and "Endorsed by this registry" in html
    assert "The signature shows" not in html  # hosted OB 2.0 has none
    page = client.post("/verify", {"credential": f"{assertion_url(award.public_id)}"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert "idのURLでホスト" in page.content.decode()


def test_a_foreign_assertion_answering_410_gone_is_revoked(client, issued, monkeypatch):
    presented = {**client.get(f"/ob2/assertions/{issued[-1].public_id}").json(), "id": "https://b.example.net/a/2"}

    def gone(url, **kwargs):
        raise FetchError("http_status", f"{url} answered 410", status=410)

    monkeypatch.setattr("badges.ob2_verification.fetch", gone)
    report = ob2_verify(presented)
    by_id = {c.id: c.code for c in report.checks}
    assert by_id["status"] == "status.revoked"  # 410 Gone: revoked, its server says
    # And a copy hosted elsewhere that names our BadgeClass is not ours: not on its issuer's origin.
    assert by_id["proof"] == "proof.hosted-other-origin" and report.verdict == "not-genuine"


@pytest.mark.parametrize("odd", [
    {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "http://127.0.0.1:8000/ob2/assertions/x",
     "badge": ["a", 1], "recipient": 5, "verification": {"type": "hosted"}},
    {"@context": "https://w3id.org/openbadges/v2", "type": ["Assertion"], "id": 7, "badge": {}, "recipient": {}},
    {"@context": ["https://w3id.org/openbadges/v2"], "type": "Assertion", "id": "https://x.example/a",
     "badge": "b", "recipient": {"type": "email"}, "verification": "hosted"},
])
def test_odd_ob2_json_gets_a_report_never_a_server_error(odd):
    body = post(json.dumps(odd))
    assert body["verified"] is False and body["verdict"] == "not-genuine"
    codes(body)


def test_the_url_of_one_of_our_ob3_badges_checks_its_signed_credential(client, issued):
    app, *_rest, award = issued
    from badges.status import status_list_publish

    for allocation in (award.status, app.endorsement.status):  # as after commit: its status can be read
        status_list_publish(allocation.status_list_id)
    body = post(json.dumps({"credential": award.credential["id"]}))
    assert body["verdict"] == "verified" and codes_ob3(body)["proof"] == "proof.ok"
    page = client.post("/verify", {"credential": award.credential["id"]}).content.decode()
    assert 'data-verdict="verified"' in page and "The signature shows" in page


def codes_ob3(body: dict) -> dict[str, str]:
    return {c["id"]: c["code"] for c in body["checks"]}
