"""What one verification reads of this registry's records (badges.verification_data): a few
statements, none kept for the next verification.

The query counts are pinned: a badge of one of our members with the body's endorsement embedded
is two statements (the issuers with their keys; the award with its organisation, evidence check,
status list and endorsement), an endorsement presented on its own three. Every verification reads
afresh, so what is committed between two verifications shows in the second: the tests that say so
commit for real (transaction=True), as the services do in production.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from badges.awards import award_issue, award_revoke
from badges.models import EvidenceCheck
from badges.status import status_list_publish
from badges.verification import VERIFIED_DOCUMENTS, credential_verify
from endorsement import services
from institutions.models import IssuerKey
from tests.factories import awarding_setup


def issued(programme, issuer, email, **fields):
    award = award_issue(actor=issuer, programme=programme, recipient_email=email, **fields)
    status_list_publish(award.status.status_list_id)  # as the on-commit task does
    award.refresh_from_db()
    return award


def endorsed_programme_with_lists():
    programme, app, cast, issuer = awarding_setup()
    status_list_publish(app.endorsement.status.status_list_id)
    app.endorsement.refresh_from_db()
    return programme, app, cast, issuer


def checks_of(report) -> dict:
    return {c.id: c for c in report.checks}


def counted(credential) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        report = credential_verify(credential)
    return report, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_a_badge_with_its_embedded_endorsement_is_verified_in_two_statements():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    VERIFIED_DOCUMENTS.clear()
    for _ in range(2):  # the same whether the proofs are remembered or not
        report, statements = counted(award.credential)
        assert report.verified, report.as_dict()
        assert len(statements) == 2, "\n".join(statements)
        assert all(sql.lstrip().upper().startswith("SELECT") for sql in statements)
    checks = checks_of(report)
    # Every record-backed check answered from those two statements.
    for check_id in ("issuer", "status", "registry", "endorsement-1-issuer", "endorsement-1-status",
                     "endorsement-1-registry"):
        assert checks[check_id].passed, checks[check_id]
    assert checks["registry"].code == "registry.ok"
    assert checks["endorsement-1-registry"].code == "registry.ok"


@pytest.mark.django_db
def test_a_badge_with_evidence_reads_its_evidence_check_in_the_same_two_statements():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org", evidence_url="https://evidence.example.org/work")
    EvidenceCheck.objects.update_or_create(award=award, defaults={
        "url": award.evidence_url, "standing": EvidenceCheck.Standing.GONE, "detail": "HTTP 404"})
    report, statements = counted(award.credential)
    assert len(statements) == 2, "\n".join(statements)
    evidence = checks_of(report)["evidence"]
    assert evidence.code == "evidence.gone" and evidence.informational and "HTTP 404" in evidence.message


@pytest.mark.django_db
def test_an_endorsement_presented_on_its_own_is_verified_in_three_statements():
    _programme, app, _cast, _issuer = endorsed_programme_with_lists()
    report, statements = counted(app.endorsement.credential)
    assert report.verified, report.as_dict()
    # The body with its keys, its suspension list, the endorsement; besides, each archived copy its
    # relatedResource names is read by the archive check (badges.archive), one statement a copy.
    copies = [c for c in report.checks if c.kind == "archive"]
    records = [sql for sql in statements if "badges_archivedevidence" not in sql]
    assert len(records) == 3, "\n".join(records)
    assert len(statements) == 3 + len(copies)


@pytest.mark.django_db
def test_a_badge_this_registry_does_not_hold_is_reported_not_found_in_two_statements():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    credential = award.credential
    award.delete()
    report, statements = counted(credential)
    assert checks_of(report)["registry"].code == "registry.not-found"
    assert report.verified is False
    # The issuers; the award (none); then the two status lists and the endorsement, the award's
    # join being empty.
    assert len(statements) == 5, "\n".join(statements)


# --- Committed between two verifications: shown in the second -------------------------------------
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@committed
def test_a_revocation_committed_between_two_verifications_shows_in_the_second():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    award_revoke(actor=issuer, award=award, reason="Awarded to the wrong learner.")
    # The registry's record says so at once (whether or not the status list is re-published yet)…
    report = credential_verify(award.credential)
    assert report.verified is False and report.verdict == "revoked"
    assert checks_of(report)["registry"].code == "registry.revoked"
    # …and so does the signed status list once re-published.
    status_list_publish(award.status.status_list_id)
    report = credential_verify(award.credential)
    assert checks_of(report)["status"].code == "status.revoked"


@committed
def test_a_suspension_committed_between_two_verifications_shows_in_the_second():
    programme, app, cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    report = credential_verify(award.credential)
    assert report.verified is False
    assert checks_of(report)["endorsement-1-registry"].code == "registry.suspended"
    status_list_publish(app.endorsement.status.status_list_id)
    report = credential_verify(award.credential)
    assert checks_of(report)["endorsement-1-status"].code == "status.suspended"
    # Reinstated: verified again at once.
    app.endorsement.refresh_from_db()
    services.endorsement_reinstate(actor=cast.manager, endorsement=app.endorsement)
    status_list_publish(app.endorsement.status.status_list_id)
    assert credential_verify(award.credential).verified


@committed
def test_a_key_withdrawn_between_two_verifications_fails_the_second():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    assert credential_verify(award.credential).verified
    from django.utils import timezone

    IssuerKey.objects.filter(organisation=programme.organisation).update(compromised_at=timezone.now())
    report = credential_verify(award.credential)
    assert checks_of(report)["proof"].passed is False
    assert report.verdict == "not-genuine"
