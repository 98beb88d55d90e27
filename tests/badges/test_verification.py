"""The verification service: every check of a presented credential, ours or another issuer's."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from badges import credentials as vc
from badges.achievements import achievement_id
from badges.did_resolver import site_did
from badges.status import status_list_publish
from badges.verification import credential_from_image, credential_from_json, credential_verify
from config.errors import InvalidInput
from endorsement import services
from endorsement.models import ApplicationState
from tests.badges.http_stand_in import record_network, serve
from tests.factories import application_in, png_bytes

pytestmark = pytest.mark.django_db


def checks_of(report) -> dict:
    return {c.id: c for c in report.checks}


def published_endorsement():
    app, cast = application_in(ApplicationState.PUBLISHED)
    status_list_publish(app.endorsement.status.status_list_id)  # as the on-commit task does
    return app, cast


def signed_badge(key=None, *, issuer_did=None, method=None, valid_from=None, valid_until=None, endorsements=(),
                 target_id="https://example.org/achievements/knots", email="learner@example.org", status=None,
                 context_extra=()):
    """An OpenBadgeCredential of another issuer, signed with the library (did:key by default)."""
    key = key or vc.generate_private_key()
    issuer_did = issuer_did or vc.did_key_from_public_key(key.public_key())
    method = method or (vc.did_key_verification_method(key.public_key()) if issuer_did.startswith("did:key:")
                        else f"{issuer_did}#key-1")
    now = timezone.now()
    achievement = vc.build_achievement(id=target_id, name="Knot tying", description="Ties six knots.",
                                       criteria_narrative="Tie six knots in front of an assessor.",
                                       endorsements=list(endorsements))
    unsigned = vc.build_open_badge_credential(
        id=f"urn:uuid:{uuid.uuid4()}",
        issuer=vc.build_profile(id=issuer_did, name="Example Academy", url="https://example.org/"),
        achievement=achievement,
        valid_from=valid_from or now - timedelta(days=1),
        valid_until=valid_until,
        recipient_identity=[vc.build_email_identity(email)],
        credential_status=status,
    )
    unsigned["@context"] += list(context_extra)
    return vc.sign(unsigned, key, method)


# --- our own endorsement credential -----------------------------------------------------------------
def test_our_signed_endorsement_credential_verifies_with_every_check_passing(monkeypatch):
    app, _ = published_endorsement()
    attempts = record_network(monkeypatch)
    report = credential_verify(app.endorsement.credential)
    checks = checks_of(report)
    assert report.verified is True
    # archive-1 and archive-2: the archived programme snapshot and criteria table (docs/evidence.md).
    assert set(checks) == {"shape", "issuer", "proof", "dates", "status", "registry", "archive-1", "archive-2"}
    assert all(c.passed for c in report.checks), [c for c in report.checks if not c.passed]
    assert checks["archive-1"].code == checks["archive-2"].code == "archive.intact"
    assert "this registry's own records" in checks["issuer"].message
    assert "Not suspended" in checks["status"].message
    assert "is active on this registry" in checks["registry"].message
    assert report.credential["issuer"]["id"] == site_did()
    assert attempts == []  # our own DID and status list are read from the database


def test_a_tampered_field_fails_the_proof_check_with_a_clear_message():
    app, _ = published_endorsement()
    tampered = copy.deepcopy(app.endorsement.credential)
    tampered["credentialSubject"]["endorsementComment"] = "Endorsed without any review."
    report = credential_verify(tampered)
    proof = checks_of(report)["proof"]
    assert report.verified is False
    assert proof.passed is False
    assert "altered after signing" in proof.message
    assert checks_of(report)["issuer"].passed  # the issuer is still who it claims to be


def test_a_credential_signed_with_another_key_but_claiming_our_did_fails():
    app, _ = published_endorsement()
    forged = {k: v for k, v in app.endorsement.credential.items() if k != "proof"}
    forged = vc.sign(forged, vc.generate_private_key(), f"{site_did()}#key-1")
    report = credential_verify(forged)
    assert report.verified is False
    assert checks_of(report)["proof"].passed is False
    assert "signature does not match" in checks_of(report)["proof"].message


def test_a_key_our_did_document_does_not_list_fails_as_key_not_found():
    app, _ = published_endorsement()
    forged = {k: v for k, v in app.endorsement.credential.items() if k != "proof"}
    forged = vc.sign(forged, vc.generate_private_key(), f"{site_did()}#key-99")
    proof = checks_of(credential_verify(forged))["proof"]
    assert proof.passed is False
    assert "key-99" in proof.message and "not an assertion key" in proof.message


def test_an_unknown_context_fails_without_any_network_use(monkeypatch):
    app, _ = published_endorsement()
    credential = copy.deepcopy(app.endorsement.credential)
    credential["@context"].append("https://contexts.example.org/never-fetched.jsonld")
    attempts = record_network(monkeypatch)
    report = credential_verify(credential)
    proof = checks_of(report)["proof"]
    assert report.verified is False
    assert proof.passed is False
    assert "never-fetched.jsonld" in proof.message and "never fetched" in proof.message
    assert attempts == []


def test_a_suspended_endorsement_fails_status_and_is_not_held_active_by_the_registry():
    app, cast = published_endorsement()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    status_list_publish(app.endorsement.status.status_list_id)
    report = credential_verify(app.endorsement.credential)
    checks = checks_of(report)
    assert report.verified is False
    assert checks["proof"].passed is True
    assert checks["status"].passed is False and "SUSPENDED" in checks["status"].message
    assert checks["registry"].passed is False and "suspended" in checks["registry"].message
    assert checks["registry"].informational is False


def test_an_unpublished_status_list_of_ours_fails_the_status_check():
    app, _ = application_in(ApplicationState.PUBLISHED)  # the publishing task has not run
    status = checks_of(credential_verify(app.endorsement.credential))["status"]
    assert status.passed is False
    assert "has not published the status list" in status.message


# --- credentials of other issuers ------------------------------------------------------------------
def test_a_credential_signed_by_a_did_key_verifies_offline(monkeypatch):
    badge = signed_badge()
    attempts = record_network(monkeypatch)
    report = credential_verify(badge)
    checks = checks_of(report)
    assert report.verified is True, report.as_dict()
    assert "did:key" in checks["issuer"].message
    assert "no status entry" in checks["status"].message
    assert "registry" not in checks  # not one of our members' badges: nothing to add
    assert attempts == []


def test_an_expired_credential_fails_the_dates_check():
    badge = signed_badge(valid_from=timezone.now() - timedelta(days=30), valid_until=timezone.now() - timedelta(days=1))
    report = credential_verify(badge)
    assert report.verified is False
    assert checks_of(report)["dates"].passed is False
    assert "expired on" in checks_of(report)["dates"].message
    assert checks_of(report)["proof"].passed is True


def test_a_credential_not_yet_valid_fails_the_dates_check():
    badge = signed_badge(valid_from=timezone.now() + timedelta(days=2))
    dates = checks_of(credential_verify(badge))["dates"]
    assert dates.passed is False
    assert "not valid until" in dates.message


def test_a_foreign_did_web_issuer_is_resolved_over_http_from_the_stand_in():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        report = credential_verify(signed_badge(key, issuer_did=server.did))
        assert server.hits == ["/.well-known/did.json"]  # once, though issuer and proof both need it
    checks = checks_of(report)
    assert report.verified is True, report.as_dict()
    assert server.url("/.well-known/did.json") in checks["issuer"].message


def test_a_foreign_did_web_on_loopback_is_refused_unless_the_setting_allows(settings):
    settings.VERIFY_ALLOW_LOOPBACK = False
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        report = credential_verify(signed_badge(key, issuer_did=server.did))
        assert server.hits == []
    assert report.verified is False
    assert checks_of(report)["issuer"].passed is False
    assert "a loopback address; it is not contacted" in checks_of(report)["issuer"].message


def foreign_status_list(server, key, *, revoked: set[int], purpose="revocation", issuer=None):
    bits = vc.StatusList()
    for index in revoked:
        bits.set(index)
    url = server.url("/status/1")
    document = vc.build_status_list_credential(id=url, issuer=issuer or server.did, purpose=purpose,
                                               encoded_list=bits.encode(), valid_from=timezone.now())
    server.route("/status/1", vc.sign(document, key, f"{server.did}#key-1"))
    return url


def test_a_foreign_credential_revoked_on_its_status_list_fails_the_status_check():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        url = foreign_status_list(server, key, revoked={7})
        revoked = signed_badge(key, issuer_did=server.did,
                               status=vc.build_status_entry(status_list_credential=url, index=7, purpose="revocation"))
        kept = signed_badge(key, issuer_did=server.did,
                            status=vc.build_status_entry(status_list_credential=url, index=8, purpose="revocation"))
        revoked_report, kept_report = credential_verify(revoked), credential_verify(kept)
    assert revoked_report.verified is False
    assert "REVOKED" in checks_of(revoked_report)["status"].message
    assert kept_report.verified is True, kept_report.as_dict()
    assert "Not revoked" in checks_of(kept_report)["status"].message


def test_a_status_list_signed_by_someone_else_is_not_trusted():
    key, other = vc.generate_private_key(), vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        other_did = vc.did_key_from_public_key(other.public_key())
        bits = vc.StatusList()
        url = server.url("/status/1")
        document = vc.build_status_list_credential(id=url, issuer=other_did, purpose="revocation",
                                                   encoded_list=bits.encode(), valid_from=timezone.now())
        server.route("/status/1", vc.sign(document, other, vc.did_key_verification_method(other.public_key())))
        badge = signed_badge(key, issuer_did=server.did,
                             status=vc.build_status_entry(status_list_credential=url, index=3, purpose="revocation"))
        status = checks_of(credential_verify(badge))["status"]
    assert status.passed is False
    assert "not by the credential's issuer" in status.message


def test_an_unreachable_status_list_fails_the_status_check():
    key = vc.generate_private_key()
    with serve() as server:
        server.route("/.well-known/did.json", vc.build_did_document(server.did, [vc.DidKey("key-1", key.public_key())]))
        entry = vc.build_status_entry(status_list_credential=server.url("/status/missing"), index=1,
                                      purpose="revocation")
        status = checks_of(credential_verify(signed_badge(key, issuer_did=server.did, status=entry)))["status"]
    assert status.passed is False
    assert "could not be fetched" in status.message and "404" in status.message


# --- embedded endorsements -------------------------------------------------------------------------
def test_a_badge_carrying_our_endorsement_of_its_achievement_verifies_the_endorsement_too():
    app, _ = published_endorsement()
    badge = signed_badge(endorsements=[app.endorsement.credential], target_id=achievement_id(app.programme))
    report = credential_verify(badge)
    checks = checks_of(report)
    assert report.verified is True, report.as_dict()
    for aspect in ("shape", "subject", "issuer", "proof", "dates", "status", "registry"):
        assert checks[f"endorsement-1-{aspect}"].passed, checks[f"endorsement-1-{aspect}"]
    assert checks["endorsement-1-registry"].label.startswith("Endorsement 1 (by ")


def test_our_endorsement_copied_into_a_badge_of_another_achievement_fails():
    app, _ = published_endorsement()
    badge = signed_badge(endorsements=[app.endorsement.credential], target_id="https://example.org/other")
    report = credential_verify(badge)
    subject = checks_of(report)["endorsement-1-subject"]
    assert report.verified is False
    assert subject.passed is False and "copied from elsewhere" in subject.message


def test_a_suspended_embedded_endorsement_makes_the_badge_unverified():
    app, cast = published_endorsement()
    badge = signed_badge(endorsements=[app.endorsement.credential], target_id=achievement_id(app.programme))
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    status_list_publish(app.endorsement.status.status_list_id)
    report = credential_verify(badge)
    assert report.verified is False
    assert checks_of(report)["proof"].passed is True
    assert checks_of(report)["endorsement-1-status"].passed is False
    assert checks_of(report)["endorsement-1-registry"].passed is False


def test_an_endorsement_by_another_body_is_reported_as_not_held_here_without_failing():
    endorser = vc.generate_private_key()
    endorser_did = vc.did_key_from_public_key(endorser.public_key())
    target = "https://example.org/achievements/knots"
    endorsement = vc.sign(vc.build_endorsement_credential(
        id=f"urn:uuid:{uuid.uuid4()}", issuer=vc.build_profile(id=endorser_did, name="Other Body"),
        endorsed_id=target, name="Endorsement of knot tying", valid_from=timezone.now() - timedelta(days=1),
    ), endorser, vc.did_key_verification_method(endorser.public_key()))
    report = credential_verify(signed_badge(endorsements=[endorsement], target_id=target))
    registry = checks_of(report)["endorsement-1-registry"]
    assert registry.passed is False and registry.informational is True
    assert "not by this registry" in registry.message
    assert report.verified is True, report.as_dict()


# --- identity, shape and input -------------------------------------------------------------------
def test_the_recipients_email_is_matched_against_the_hashed_identity():
    badge = signed_badge(email="Learner@Example.org")
    matching = checks_of(credential_verify(badge, email=" learner@example.org "))["identity"]
    other = checks_of(credential_verify(badge, email="someone@example.org"))["identity"]
    assert matching.passed is True and matching.informational is True
    assert other.passed is False and other.informational is True
    assert credential_verify(badge, email="someone@example.org").verified is True  # informational only


def test_a_json_object_that_is_no_credential_gets_a_failing_report():
    report = credential_verify({"hello": "world"})
    checks = checks_of(report)
    assert report.verified is False
    assert checks["shape"].passed is False and "no @context" in checks["shape"].message
    assert checks["proof"].passed is False and "no proof" in checks["proof"].message


def test_malformed_json_is_refused_with_a_field_message():
    with pytest.raises(InvalidInput) as error:
        credential_from_json('{"@context": [')
    assert "not valid JSON" in error.value.field_errors["credential"][0]
    with pytest.raises(InvalidInput) as error:
        credential_from_json("[1, 2]")
    assert "JSON object" in error.value.field_errors["credential"][0]


def test_a_png_without_a_credential_is_refused_with_a_field_message():
    with pytest.raises(InvalidInput) as error:
        credential_from_image(png_bytes())
    assert "no baked credential" in error.value.field_errors["file"][0]


def test_a_file_that_is_no_image_is_refused():
    with pytest.raises(InvalidInput) as error:
        credential_from_image(b"%PDF-1.7 not an image")
    assert "neither a PNG nor an SVG" in error.value.field_errors["file"][0]


def test_a_baked_png_and_svg_give_back_the_credential():
    app, _ = published_endorsement()
    credential = app.endorsement.credential
    assert credential_from_image(vc.bake_png(png_bytes(), credential)) == credential
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    assert credential_from_image(vc.bake_svg(svg, credential)) == credential


def test_an_oversized_input_is_refused(settings):
    settings.VERIFY_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(InvalidInput) as error:
        credential_from_image(png_bytes(pad_to=2000))
    assert "larger than" in error.value.field_errors["file"][0]
    with pytest.raises(InvalidInput):
        credential_from_json(b'{"a": "' + b"x" * 2000 + b'"}')


def test_verifying_writes_nothing():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app, _ = published_endorsement()
    with CaptureQueriesContext(connection) as queries:
        credential_verify(app.endorsement.credential)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


# --- badges issued by the award service --------------------------------------------------------------
def test_a_badge_issued_by_the_award_service_verifies_with_its_endorsement(monkeypatch):
    from badges.awards import award_issue
    from tests.factories import awarding_setup

    programme, app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    # As the on-commit tasks do: publish the award's revocation list and the endorsement's suspension list.
    status_list_publish(award.status.status_list_id)
    status_list_publish(app.endorsement.status.status_list_id)
    attempts = record_network(monkeypatch)
    report = credential_verify(award.credential, email="Hanako@example.org")
    checks = checks_of(report)
    assert report.verified is True, report.as_dict()
    assert all(c.passed for c in report.checks), [c for c in report.checks if not c.passed]
    assert "Not revoked" in checks["status"].message
    assert checks["registry"].passed and "not revoked" in checks["registry"].message
    assert checks["endorsement-1-registry"].passed
    assert checks["identity"].passed
    assert attempts == []


def test_a_badge_revoked_by_the_award_service_fails_status_and_registry():
    from badges.awards import award_issue, award_revoke
    from tests.factories import awarding_setup

    programme, _app, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    award_revoke(actor=issuer, award=award, reason="Awarded to the wrong learner.")
    status_list_publish(award.status.status_list_id)
    award.refresh_from_db()
    report = credential_verify(award.credential)
    checks = checks_of(report)
    assert report.verified is False
    assert checks["status"].passed is False and "REVOKED" in checks["status"].message
    assert checks["registry"].passed is False and "wrong learner" in checks["registry"].message


def test_a_credential_with_too_many_proofs_is_not_checked():
    badge = signed_badge()
    badge["proof"] = badge["proof"] * 5
    proof = checks_of(credential_verify(badge))["proof"]
    assert proof.passed is False and "more than 4 proofs" in proof.message
