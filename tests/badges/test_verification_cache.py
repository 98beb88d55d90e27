"""Verification remembers documents whose proofs verified (the endorsement embedded in every badge
of a programme, the status lists): the same bytes with the same keys are not canonicalized again,
and anything that changes (the document, a status bit, the key a method resolves to) is checked
afresh."""

from __future__ import annotations

import copy

import pytest

from badges import credentials as vc
from badges import verification
from badges.awards import award_issue, award_revoke
from badges.status import status_list_publish
from badges.verification import VERIFIED_DOCUMENTS, credential_verify
from endorsement import services
from institutions.keys import did_document
from institutions.models import IssuerKey
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted_verifications(monkeypatch):
    """The real `vc.verify`, counting the documents it is asked to verify (by credential id)."""
    VERIFIED_DOCUMENTS.clear()
    seen: list[str] = []
    real_verify = vc.verify

    def counting(document, *args, **kwargs):
        seen.append(document.get("id", "?") if isinstance(document, dict) else "?")
        return real_verify(document, *args, **kwargs)

    monkeypatch.setattr(verification.vc, "verify", counting)
    yield seen
    VERIFIED_DOCUMENTS.clear()


def issued(programme, issuer, email):
    award = award_issue(actor=issuer, programme=programme, recipient_email=email)
    status_list_publish(award.status.status_list_id)  # as the on-commit task does
    return award


def endorsed_programme_with_lists():
    programme, app, cast, issuer = awarding_setup()
    status_list_publish(app.endorsement.status.status_list_id)
    return programme, app, cast, issuer


def checks_of(report) -> dict:
    return {c.id: c for c in report.checks}


def test_a_second_badge_of_the_programme_verifies_only_its_own_proof_again(counted_verifications):
    programme, app, _cast, issuer = endorsed_programme_with_lists()
    first, second = issued(programme, issuer, "a@example.org"), issued(programme, issuer, "b@example.org")
    assert credential_verify(first.credential).verified
    # The badge, its embedded endorsement, the revocation list and the endorsement's suspension list.
    assert len(counted_verifications) == 4
    assert app.endorsement.credential["id"] in counted_verifications
    counted_verifications.clear()
    report = credential_verify(second.credential)
    assert report.verified, report.as_dict()
    assert counted_verifications == [second.credential["id"]]
    assert checks_of(report)["endorsement-1-proof"].passed


def test_a_badge_revoked_after_it_verified_fails_at_once():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    award_revoke(actor=issuer, award=award, reason="Awarded to the wrong learner.")
    status_list_publish(award.status.status_list_id)
    report = credential_verify(award.credential)
    checks = checks_of(report)
    assert report.verified is False
    assert checks["status"].passed is False and "REVOKED" in checks["status"].message
    assert checks["proof"].passed is True


def test_an_endorsement_suspended_after_a_badge_verified_makes_the_badge_fail_at_once():
    programme, app, cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    status_list_publish(app.endorsement.status.status_list_id)
    report = credential_verify(award.credential)
    checks = checks_of(report)
    assert report.verified is False
    assert checks["endorsement-1-status"].passed is False and "SUSPENDED" in checks["endorsement-1-status"].message
    assert checks["endorsement-1-registry"].passed is False


def test_a_document_altered_after_it_verified_fails_its_proof():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    altered = copy.deepcopy(award.credential)
    altered["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Fine."
    report = credential_verify(altered)
    checks = checks_of(report)
    assert report.verified is False
    assert checks["endorsement-1-proof"].passed is False
    assert checks["proof"].passed is False  # the badge's own signature covers its endorsement too


def test_a_method_that_resolves_to_another_key_is_checked_again_and_fails():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    # The organisation's DID document now lists another key under the same id.
    key = IssuerKey.objects.get(organisation=programme.organisation, retired_at__isnull=True)
    key.public_key_multibase = vc.public_key_to_multibase(vc.generate_private_key().public_key())
    key.save(update_fields=["public_key_multibase"])
    report = credential_verify(award.credential)
    assert report.verified is False
    assert checks_of(report)["proof"].passed is False


def test_a_failed_verification_is_not_remembered(counted_verifications):
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    tampered = copy.deepcopy(award.credential)
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    for _ in range(2):
        assert checks_of(credential_verify(tampered))["proof"].passed is False
    assert counted_verifications.count(tampered["id"]) == 2


def test_the_did_document_creates_the_first_key_and_lists_retired_keys():
    programme, _app, _cast, _issuer = awarding_setup()
    organisation = programme.organisation
    IssuerKey.objects.filter(organisation=organisation).delete()
    document = did_document(organisation)  # first use: the key is created
    assert IssuerKey.objects.filter(organisation=organisation, retired_at__isnull=True).count() == 1
    assert len(document["assertionMethod"]) == 1
    from institutions.keys import issuer_key_rotate

    issuer_key_rotate(organisation)
    document = did_document(organisation)
    assert [m.split("#")[1] for m in document["assertionMethod"]] == ["key-1", "key-2"]
    assert IssuerKey.objects.filter(organisation=organisation).count() == 2


def _endorsement_of(credential: dict) -> dict:
    return credential["credentialSubject"]["achievement"]["endorsement"][0]


def _last_character_changed(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize("alter", [
    pytest.param(lambda e: e["proof"][0].update(proofValue=_last_character_changed(e["proof"][0]["proofValue"])),
                 id="proofValue"),
    pytest.param(lambda e: e["issuer"].__setitem__("name", e["issuer"]["name"] + " "), id="issuer-name"),
    pytest.param(lambda e: e.__setitem__("validFrom", e["validFrom"].replace("Z", ".001Z")), id="validFrom"),
    pytest.param(lambda e: e["credentialSubject"].__setitem__("id", e["credentialSubject"]["id"] + "x"),
                 id="subject-id"),
    pytest.param(lambda e: e.__setitem__("name", _last_character_changed(e["name"])), id="name"),
])
def test_one_changed_field_of_a_remembered_endorsement_is_checked_again_and_fails(counted_verifications, alter):
    programme, app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified  # the endorsement now remembered
    altered = copy.deepcopy(award.credential)
    alter(_endorsement_of(altered))
    assert _endorsement_of(altered) != _endorsement_of(award.credential)
    counted_verifications.clear()
    checks = checks_of(credential_verify(altered))
    assert app.endorsement.credential["id"] in counted_verifications  # its proof checked again, not remembered
    assert checks["endorsement-1-proof"].passed is False
    assert checks["proof"].passed is False  # the badge's own signature covers its endorsement too


@pytest.mark.parametrize(("one", "other"), [
    ({"a": 1}, {"a": True}),
    ({"a": 1}, {"a": 1.0}),
    ({"a": 0.0}, {"a": -0.0}),
    ({"a": "1"}, {"a": 1}),
    ({"a": ["x"]}, {"a": "x"}),
    ({"a": None}, {"a": "null"}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ({"a": {"b": [1, {"c": "d"}]}}, {"a": {"b": [1, {"c": "e"}]}}),
    ({"a": "é"}, {"a": "e\u0301"}),
])
def test_the_memo_key_tells_apart_documents_python_finds_equal_or_json_spells_alike(one, other):
    assert verification.document_digest(one) != verification.document_digest(other)
    assert verification.document_digest(one) == verification.document_digest(copy.deepcopy(one))


def test_a_document_the_memo_cannot_key_exactly_is_not_remembered():
    class Text(str):
        pass

    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert verification.document_digest({"a": Text("x")}) is None
    assert verification.document_digest({"a": deep}) is None
