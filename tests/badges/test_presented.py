"""A presented component credential: verified in full, then compared with the component's
achievement and issuer and with the learner. Each refusal has its code and its words."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from badges import credentials as vc
from badges.presented import Learner, check_presented, issuer_matches, recipient_matches
from badges.verification import credential_from_image
from tests.badges.http_stand_in import serve
from tests.badges.test_verification import foreign_status_list, signed_badge
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

TARGET = "https://example.org/achievements/knots"
LEARNER = Learner(email="learner@example.org", name="山田 花子")


def did_key_badge(**kwargs):
    key = vc.generate_private_key()
    return key, signed_badge(key, target_id=TARGET, **kwargs)


def test_a_genuine_did_key_badge_of_the_learner_is_accepted():
    _key, badge = did_key_badge()
    result = check_presented(badge, learner=LEARNER, expected_issuer=vc.issuer_id(badge),
                             expected_achievement_id=TARGET)
    assert result.accepted is True and result.code == "ok", result.reason
    assert result.report.verified


def test_a_forged_badge_is_refused_as_not_genuine():
    _, badge = did_key_badge()
    forged = copy.deepcopy(badge)
    forged["credentialSubject"]["achievement"]["name"] = "Advanced knot tying"
    result = check_presented(forged, learner=LEARNER, expected_issuer=vc.issuer_id(badge),
                             expected_achievement_id=TARGET)
    assert (result.accepted, result.code) == (False, "not-genuine")
    assert "not genuine" in result.reason and "altered after signing" in result.reason
    with override("ja"):
        japanese = check_presented(forged, learner=LEARNER, expected_issuer=vc.issuer_id(badge)).reason
    assert "真正" in japanese


def test_a_badge_signed_by_another_key_than_the_declared_issuer_is_refused():
    _, badge = did_key_badge()
    other = vc.did_key_from_public_key(vc.generate_private_key().public_key())
    result = check_presented(badge, learner=LEARNER, expected_issuer=other, expected_achievement_id=TARGET)
    assert (result.accepted, result.code) == (False, "issuer-mismatch")
    assert other in result.reason and vc.issuer_id(badge) in result.reason


def test_a_badge_of_another_achievement_is_refused():
    _, badge = did_key_badge()
    result = check_presented(badge, learner=LEARNER, expected_issuer=vc.issuer_id(badge),
                             expected_achievement_id="https://example.org/achievements/sailing")
    assert (result.accepted, result.code) == (False, "achievement-mismatch")
    assert "sailing" in result.reason


def test_a_badge_of_someone_else_is_refused_as_recipient_mismatch():
    _, badge = did_key_badge(email="someone.else@example.org")
    result = check_presented(badge, learner=LEARNER, expected_issuer=vc.issuer_id(badge),
                             expected_achievement_id=TARGET)
    assert (result.accepted, result.code) == (False, "recipient-mismatch")
    assert "not this learner" in result.reason
    with override("ja"):
        assert "学修者" in check_presented(badge, learner=LEARNER).reason


def test_the_recipient_is_matched_by_hashed_or_plain_e_mail_name_or_did():
    hashed_name = {"credentialSubject": {"identifier": [vc.build_name_identity("山田　花子", hashed=True)]}}
    plain_email = {"credentialSubject": {"identifier": [
        {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False,
         "identityHash": "Learner@Example.org"}]}}
    by_did = {"credentialSubject": {"id": "did:example:learner"}}
    assert recipient_matches(hashed_name, LEARNER)
    assert recipient_matches(plain_email, LEARNER)
    assert recipient_matches(by_did, Learner(did="did:example:learner"))
    assert not recipient_matches(by_did, LEARNER)
    assert not recipient_matches(hashed_name, Learner(name="山田 太郎"))


def test_a_declared_issuer_url_matches_its_did_web_or_the_profile_url():
    badge = {"issuer": {"id": "did:web:mooc.example:org", "url": "https://www.mooc.example/"}}
    assert issuer_matches(badge, "https://mooc.example/org")
    assert issuer_matches(badge, "https://www.mooc.example")
    assert not issuer_matches(badge, "https://other.example/")
    assert not issuer_matches(badge, "did:web:other.example")
    assert not issuer_matches(badge, "")


def test_an_expired_badge_is_refused():
    now = timezone.now()
    _, badge = did_key_badge(valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))
    result = check_presented(badge, learner=LEARNER, expected_issuer=vc.issuer_id(badge))
    assert (result.accepted, result.code) == (False, "expired")
    assert "expired" in result.reason


def test_a_badge_revoked_on_its_fetched_status_list_is_refused():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        url = foreign_status_list(server, key, revoked={7})
        revoked = signed_badge(key, issuer_did=server.did, target_id=TARGET,
                               status=vc.build_status_entry(status_list_credential=url, index=7, purpose="revocation"))
        kept = signed_badge(key, issuer_did=server.did, target_id=TARGET,
                            status=vc.build_status_entry(status_list_credential=url, index=8, purpose="revocation"))
        refused = check_presented(revoked, learner=LEARNER, expected_issuer=server.url("/"))
        accepted = check_presented(kept, learner=LEARNER, expected_issuer=server.url("/"))
        assert "/status/1" in server.hits
    assert (refused.accepted, refused.code) == (False, "revoked")
    assert "revoked" in refused.reason and "REVOKED" in refused.reason
    assert accepted.accepted, accepted.reason


def test_a_badge_baked_in_a_png_is_read_and_accepted():
    _, badge = did_key_badge()
    presented = credential_from_image(vc.bake(png_bytes(), badge))
    assert check_presented(presented, learner=LEARNER, expected_issuer=vc.issuer_id(badge)).accepted


def test_something_that_is_no_badge_is_refused():
    result = check_presented({"type": ["VerifiableCredential", "EndorsementCredential"]}, learner=LEARNER)
    assert (result.accepted, result.code, result.report) == (False, "not-a-badge", None)
