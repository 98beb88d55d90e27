"""A ClrCredential presented to /verify and POST /api/v1/verify: a report on the record and on each
credential it bundles (`credential-<n>-<check>`), in the report's usual shape."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from badges import credentials as vc
from badges.verification import CHECK_CODES, VERDICTS, credential_verify
from tests.badges.test_verification import signed_badge
from tests.factories import api_client

pytestmark = pytest.mark.django_db


def signed_clr(badges, key=None, *, email="learner@example.org"):
    key = key or vc.generate_private_key()
    did = vc.did_key_from_public_key(key.public_key())
    pathway = vc.build_achievement(id="https://example.org/pathways/sea", name="Seamanship pathway",
                                   description="Knots, then sailing.", criteria_narrative="Both components.")
    document = vc.build_clr_credential(
        id=f"urn:uuid:{uuid.uuid4()}", issuer=vc.build_profile(id=did, name="Example Academy"),
        name="Learner record", valid_from=timezone.now() - timedelta(hours=1), credentials=badges,
        learner_identity=[vc.build_email_identity(email)], achievements=[pathway],
        associations=[vc.build_association(association_type="isChildOf",
                                           source_id=b["credentialSubject"]["achievement"]["id"],
                                           target_id=pathway["id"]) for b in badges])
    return vc.sign(document, key, vc.did_key_verification_method(key.public_key()))


def two_badges(**second):
    return [signed_badge(target_id="https://example.org/achievements/knots"),
            signed_badge(target_id="https://example.org/achievements/sailing", **second)]


def test_a_clr_whose_every_credential_holds_is_verified_with_a_report_on_each():
    report = credential_verify(signed_clr(two_badges()))
    ids = [c.id for c in report.checks]
    assert report.verified and report.verdict == "verified", report.as_dict()
    assert ids[:5] == ["shape", "issuer", "proof", "dates", "status"]
    assert "credential-1-proof" in ids and "credential-2-proof" in ids and "credential-2-status" in ids
    assert "ClrCredential" in report.checks[0].message and "2 credentials" in report.checks[0].message
    summary = report.credential["credentials"]
    assert [(s["number"], s["verified"], s["verdict"], s["achievement"]) for s in summary] == [
        (1, True, "verified", "Knot tying"), (2, True, "verified", "Knot tying")]
    assert {c.code for c in report.checks} <= set(CHECK_CODES)


def test_a_bundled_credential_that_expired_makes_the_record_credential_invalid():
    now = timezone.now()
    clr = signed_clr(two_badges(valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=1)))
    report = credential_verify(clr)
    checks = {c.id: c for c in report.checks}
    assert (report.verified, report.verdict, report.genuine) == (False, "credential-invalid", True)
    assert checks["proof"].passed and checks["credential-2-proof"].passed
    assert checks["credential-2-dates"].passed is False and "expired" in checks["credential-2-dates"].message
    assert checks["credential-2-dates"].code == "dates.expired"
    assert checks["credential-2-dates"].label.startswith("Credential 2 (")
    assert [s["verified"] for s in report.credential["credentials"]] == [True, False]
    assert "credential-invalid" in VERDICTS


def test_a_record_altered_inside_fails_its_own_proof_and_the_altered_credentials():
    clr = signed_clr(two_badges())
    tampered = copy.deepcopy(clr)
    tampered["credentialSubject"]["verifiableCredential"][0]["credentialSubject"]["achievement"]["name"] = "Forged"
    report = credential_verify(tampered)
    checks = {c.id: c for c in report.checks}
    assert report.verdict == "not-genuine"
    assert checks["proof"].passed is False and checks["credential-1-proof"].passed is False
    assert checks["credential-2-proof"].passed is True


def test_a_clr_in_a_clr_and_a_non_object_are_reported_not_followed():
    inner = signed_clr(two_badges())
    key = vc.generate_private_key()
    did = vc.did_key_from_public_key(key.public_key())
    outer = vc.build_clr_credential(id=f"urn:uuid:{uuid.uuid4()}", issuer=vc.build_profile(id=did, name="X"),
                                    name="Nested", valid_from=timezone.now(), credentials=[inner],
                                    learner_identity=[vc.build_email_identity("learner@example.org")])
    outer["credentialSubject"]["verifiableCredential"].append("not a credential")
    report = credential_verify(vc.sign(outer, key, vc.did_key_verification_method(key.public_key())))
    checks = {c.id: c for c in report.checks}
    assert checks["credential-1-nested"].code == "nested.clr-in-clr"
    assert checks["credential-2-nested"].code == "nested.not-an-object"
    assert report.verdict == "credential-invalid"


def test_a_clr_without_bundled_credentials_is_not_a_clr():
    clr = signed_clr(two_badges())
    clr["credentialSubject"]["verifiableCredential"] = []
    shape = credential_verify(clr).checks[0]
    assert shape.passed is False and "bundles no verifiableCredential" in shape.message


def test_the_api_reports_on_a_clr_and_each_credential_inside():
    clr = signed_clr(two_badges())
    response = api_client().post("/api/v1/verify", data=json.dumps(clr), content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True and body["verdict"] == "verified"
    assert len(body["credential"]["credentials"]) == 2
    assert any(c["id"] == "credential-2-proof" and c["passed"] for c in body["checks"])


def test_the_verify_page_lists_the_bundled_credentials_in_both_languages():
    clr = signed_clr(two_badges())
    page = Client().post("/verify", {"credential": json.dumps(clr)})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="bundled-1"' in html and 'id="bundled-2"' in html and "Credentials it bundles" in html
    japanese = Client(headers={"accept-language": "ja"}).post("/verify", {"credential": json.dumps(clr)})
    assert "束ねている" in japanese.content.decode()
