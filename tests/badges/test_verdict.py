"""The verdict: one word for the whole report (`verdict`), `genuine`, `recipient_matches`, and a
machine-readable `code` on every check; the same structure on the page and from POST /api/v1/verify."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from badges import credentials as vc
from badges.awards import award_revoke
from badges.evidence import evidence_check_create, evidence_fetch
from badges.fetch import FetchError, fetch
from badges.models import EvidenceCheck
from badges.status import status_list_publish
from badges.verification import CHECK_CODES, VERDICTS, credential_verify
from endorsement.models import AuditEvent
from tests.badges.award_rows import award_row
from tests.badges.http_stand_in import serve
from tests.badges.test_verification import foreign_status_list, signed_badge
from tests.badges.test_verify_page import check_items, issued_badge, text_of

pytestmark = pytest.mark.django_db
API = "/api/v1/verify"


def api(credential, **extra) -> dict:
    body = {"credential": credential, **extra} if extra else credential
    response = Client().post(API, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def page(credential, email: str = "") -> str:
    response = Client().post("/verify/", {"credential": json.dumps(credential), "email": email})
    assert response.status_code == 200
    return response.content.decode()


def codes(report: dict) -> dict[str, str]:
    return {c["id"]: c["code"] for c in report["checks"]}


def assert_well_formed(report: dict) -> None:
    assert report["verdict"] in VERDICTS
    for check in report["checks"]:
        assert check["code"] in CHECK_CODES, check
        kind = check["id"].rsplit("-", 1)[-1] if check["id"].startswith("endorsement-") else check["id"]
        assert check["code"].split(".")[0] == kind, check


# --- the API ------------------------------------------------------------------------------------
def test_a_genuine_badge_in_force_is_verified_and_every_check_says_ok_in_its_code():
    award, *_ = issued_badge()
    report = api(award.credential)
    assert_well_formed(report)
    assert (report["verified"], report["verdict"], report["genuine"], report["recipient_matches"]) == (
        True, "verified", True, None)
    assert codes(report) | {} == {
        "shape": "shape.ok", "issuer": "issuer.ok", "proof": "proof.ok", "dates": "dates.ok",
        "status": "status.not-revoked", "registry": "registry.ok",
        "endorsement-1-shape": "shape.ok", "endorsement-1-subject": "subject.ok", "endorsement-1-issuer": "issuer.ok",
        "endorsement-1-proof": "proof.ok", "endorsement-1-dates": "dates.ok",
        "endorsement-1-status": "status.not-revoked", "endorsement-1-registry": "registry.ok",
    }


def test_the_recipients_address_gives_recipient_matches_true():
    award, *_ = issued_badge()
    report = api(award.credential, email="Hanako@Example.org")
    assert (report["verified"], report["verdict"], report["recipient_matches"]) == (True, "verified", True)
    assert codes(report)["identity"] == "identity.match"


def test_another_address_gives_recipient_matches_false_on_a_genuine_badge_in_force():
    award, *_ = issued_badge()
    report = api(award.credential, email="someone.else@example.org")
    assert_well_formed(report)
    assert (report["verified"], report["genuine"], report["recipient_matches"]) == (True, True, False)
    assert report["verdict"] == "recipient-mismatch"
    assert codes(report)["identity"] == "identity.mismatch"


def test_a_badge_naming_no_email_cannot_match_an_address():
    award, *_ = issued_badge(recipient_email="", recipient_name="", recipient_did="did:example:learner-7")
    report = api(award.credential, email="someone@example.org")
    assert report["recipient_matches"] is False and codes(report)["identity"] == "identity.no-email"


def test_a_tampered_badge_is_not_genuine_with_the_signature_code():
    award, *_ = issued_badge()
    tampered = copy.deepcopy(award.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorate in everything"
    report = api(tampered, email="hanako@example.org")
    assert_well_formed(report)
    assert (report["verified"], report["verdict"], report["genuine"]) == (False, "not-genuine", False)
    assert codes(report)["proof"] == "proof.signature-mismatch"


def test_a_revoked_badge_is_genuine_but_revoked():
    award, _, _, issuer = issued_badge()
    award_revoke(actor=issuer, award=award, reason="Awarded in error.")
    status_list_publish(award.status.status_list_id)
    report = api(award.credential)
    assert_well_formed(report)
    assert (report["verified"], report["verdict"], report["genuine"]) == (False, "revoked", True)
    assert codes(report)["status"] == "status.revoked" and codes(report)["registry"] == "registry.revoked"


def test_an_expired_badge_is_genuine_but_expired():
    key = vc.generate_private_key()
    now = timezone.now()
    report = credential_verify(signed_badge(key, valid_from=now - timedelta(days=30),
                                            valid_until=now - timedelta(days=1))).as_dict()
    assert (report["verdict"], report["genuine"]) == ("expired", True)
    assert codes(report)["dates"] == "dates.expired"


def test_a_suspended_embedded_endorsement_makes_the_verdict_endorsement_invalid():
    from endorsement import services

    award, app, cast, _ = issued_badge()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation.")
    status_list_publish(app.endorsement.status.status_list_id)
    report = api(award.credential)
    assert_well_formed(report)
    assert (report["verified"], report["verdict"], report["genuine"]) == (False, "endorsement-invalid", True)
    assert codes(report)["endorsement-1-status"] == "status.suspended"


def test_the_api_schema_documents_the_verdict_and_the_codes():
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    report = schema["components"]["schemas"]["ReportOutput"]["properties"]
    assert {"verified", "verdict", "genuine", "recipient_matches", "checks"} <= set(report)
    assert report["recipient_matches"]["nullable"] is True
    check_schema = schema["components"]["schemas"]["CheckOutput"]["properties"]
    assert "code" in check_schema


# --- status unknown, never "not revoked" --------------------------------------------------------
def test_a_status_list_that_cannot_be_fetched_gives_status_unknown_not_not_revoked():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        entry = vc.build_status_entry(status_list_credential=server.url("/status/missing"), index=1,
                                      purpose="revocation")
        badge = signed_badge(key, issuer_did=server.did, status=entry)
        report = credential_verify(badge)
        html = page(badge)
    status = {c.id: c for c in report.checks}["status"]
    assert (status.passed, status.code) == (False, "status.unknown")
    assert status.message.startswith("Status unknown:") and "cannot be told" in status.message
    assert "Not revoked" not in status.message and "not revoked" not in status.message
    assert report.verdict == "status-unknown" and report.verified is False and report.genuine is True
    assert text_of(html, "report-title") == "? Status unknown"
    assert "Not revoked" not in html


def test_an_expired_status_list_gives_status_unknown():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        url = server.url("/status/1")
        document = vc.build_status_list_credential(id=url, issuer=server.did, purpose="revocation",
                                                   encoded_list=vc.StatusList().encode(),
                                                   valid_from=timezone.now() - timedelta(days=10))
        document["validUntil"] = (timezone.now() - timedelta(days=1)).isoformat()
        server.route("/status/1", vc.sign(document, key, f"{server.did}#key-1"))
        badge = signed_badge(key, issuer_did=server.did,
                             status=vc.build_status_entry(status_list_credential=url, index=3, purpose="revocation"))
        report = credential_verify(badge)
    status = {c.id: c for c in report.checks}["status"]
    assert (status.passed, status.code, report.verdict) == (False, "status.unknown", "status-unknown")
    assert "expired" in status.message and "Not revoked" not in status.message


def test_a_status_list_that_does_say_not_revoked_passes():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        url = foreign_status_list(server, key, revoked={7})
        badge = signed_badge(key, issuer_did=server.did,
                             status=vc.build_status_entry(status_list_credential=url, index=8, purpose="revocation"))
        report = credential_verify(badge)
    assert report.verdict == "verified"
    assert {c.id: c for c in report.checks}["status"].code == "status.not-revoked"


# --- fetch failures in words --------------------------------------------------------------------
def test_a_host_that_does_not_exist_is_explained_in_words_not_errno():
    with pytest.raises(FetchError) as caught:
        fetch("https://no-such-host.invalid/portfolio", timeout=5, max_bytes=1000)
    assert "Errno" not in caught.value.message and "could not be found" in caught.value.message


def test_a_refused_connection_is_explained_in_words_not_errno():
    with serve() as server:
        port = server.port
    with pytest.raises(FetchError) as caught:  # the stand-in is closed: nothing listens on its port now
        fetch(f"http://127.0.0.1:{port}/x", timeout=5, max_bytes=1000, allow_loopback=True)
    assert "Errno" not in caught.value.message
    assert "the server refused the connection" in caught.value.message


def test_an_unreachable_evidence_link_reads_in_words_and_the_banner_does_not_claim_every_check_passed(settings):
    settings.EVIDENCE_FETCH_TIMEOUT = 5
    award = award_row(evidence_url="https://no-such-host.invalid/portfolio/1")
    evidence_check_create(award)
    evidence_fetch(award.pk)
    assert EvidenceCheck.objects.get(award=award).standing == EvidenceCheck.Standing.GONE
    html = page(award.credential)
    evidence = check_items(html)["evidence"]
    assert evidence.startswith("✗ Not confirmed Evidence still in place")
    assert "Errno" not in html and "could not be found" in evidence
    summary = text_of(html, "verdict-summary")
    assert "every check below passed" not in summary
    assert "every check that decides this passed. 1 check given for information did not pass" in summary


def test_verifying_writes_no_audit_event():
    award, *_ = issued_badge()
    before = AuditEvent.objects.count()
    api(award.credential, email="someone.else@example.org")
    assert AuditEvent.objects.count() == before
