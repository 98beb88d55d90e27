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

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.models import EvidenceCheck
from badges.status import status_list_publish
from badges.verification import DECODED_LISTS, VERIFIED_DOCUMENTS, _DecodedLists, credential_verify
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
def test_a_badge_with_an_archived_copy_reads_it_in_the_same_two_statements(settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.badges.archive_store import archive_in

    archive_in(settings, tmp_path / "evidence")
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org",
                   evidence_files=[SimpleUploadedFile("one.txt", b"first"), SimpleUploadedFile("two.txt", b"second")])
    report, statements = counted(award.credential)
    assert report.verified, report.as_dict()
    copies = [c for c in report.checks if c.kind == "archive"]
    assert [c.code for c in copies] == ["archive.intact", "archive.intact"]
    assert len(statements) == 2, "\n".join(statements)  # the copies came with the award, as rows
    # A copy the award's join does not hold (here: named by a changed credential) is read on its own.
    changed = {**award.credential, "relatedResource": [*award.credential["relatedResource"],
                                                       {**award.credential["relatedResource"][0]}]}
    changed["relatedResource"][-1]["id"] = changed["relatedResource"][-1]["id"].rsplit("/", 1)[0] + "/unknown"
    report, statements = counted(changed)
    assert [c.code for c in report.checks if c.kind == "archive"][-1] == "archive.unavailable"
    assert len(statements) == 3, "\n".join(statements)


@pytest.mark.django_db
def test_an_endorsement_presented_on_its_own_is_verified_in_three_statements():
    _programme, app, _cast, _issuer = endorsed_programme_with_lists()
    report, statements = counted(app.endorsement.credential)
    assert report.verified, report.as_dict()
    # The body with its keys, its suspension list, the endorsement; besides, the archived copies its
    # relatedResource names (the programme snapshot, the criteria table), all in one statement, as
    # rows: their blobs were hashed when stored, so nothing is hashed again nor written.
    copies = [c for c in report.checks if c.kind == "archive"]
    assert len(copies) >= 1 and all(c.code == "archive.intact" for c in copies), copies
    records = [sql for sql in statements if "badges_archivedevidence" not in sql]
    assert len(records) == 3, "\n".join(records)
    assert len(statements) == 4, "\n".join(statements)


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


# --- Status bits: decoded once per exact encodedList, read afresh every time ------------------------
def test_a_decoded_list_is_remembered_by_its_exact_text_and_a_changed_list_misses():
    memo = _DecodedLists(size=2)
    bits = vc.StatusList()
    first = bits.encode()
    bits.set(7)
    second = bits.encode()
    assert memo.decode(first).get(7) is False
    assert memo.decode(second).get(7) is True  # another text: decoded anew, the set bit shows
    assert memo.decode(first).get(7) is False  # the first text still means what it said
    # Each lookup gets its own list: changing one does not change what the memo holds.
    memo.decode(first).set(7)
    assert memo.decode(first).get(7) is False
    bits.set(9)
    memo.decode(bits.encode())  # a third text: the least recently used (the second) is dropped
    assert list(memo._data) == [first, bits.encode()]
    with pytest.raises(vc.StatusListError):
        memo.decode("not multibase")
    assert len(memo._data) == 2  # what does not decode is not kept


@committed
def test_a_revocation_on_a_list_already_decoded_shows_at_once():
    """Two badges on one status list: the list is decoded for the first; the second is revoked and
    the list re-published (committed) between two verifications; the next verification reads the
    new list from the database, so its new text misses the memo and the set bit shows."""
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    kept = issued(programme, issuer, "kept@example.org")
    revoked = issued(programme, issuer, "revoked@example.org")
    assert kept.status.status_list_id == revoked.status.status_list_id
    DECODED_LISTS.clear()
    assert credential_verify(kept.credential).verified
    assert credential_verify(revoked.credential).verified
    # The badges' revocation list and the endorsement's suspension list, both with no bit set yet:
    # the very same text, decoded once.
    remembered = len(DECODED_LISTS._data)
    assert remembered == 1
    award_revoke(actor=issuer, award=revoked, reason="Awarded to the wrong learner.")
    status_list_publish(revoked.status.status_list_id)
    report = credential_verify(revoked.credential)
    assert checks_of(report)["status"].code == "status.revoked" and report.verdict == "revoked"
    assert len(DECODED_LISTS._data) == remembered + 1  # the re-published list, decoded anew
    report = credential_verify(kept.credential)
    assert report.verified and checks_of(report)["status"].code == "status.not-revoked"


# --- The records' statements prepared on PostgreSQL (VERIFY_PREPARED_STATEMENTS) ---------------------
def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_the_records_statements_are_prepared_and_answer_as_unprepared_ones(settings):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    settings.VERIFY_PREPARED_STATEMENTS = False
    unprepared = credential_verify(award.credential).as_dict()
    assert not any('"badges_award"' in sql for sql in prepared_statements())
    settings.VERIFY_PREPARED_STATEMENTS = True
    for _ in range(2):
        report, statements = counted(award.credential)
        assert report.as_dict() == unprepared  # the same rows, converted the same way
        assert len(statements) == 2, "\n".join(statements)  # still in Django's query log
    prepared = prepared_statements()
    assert any('FROM "badges_award"' in sql for sql in prepared), prepared
    assert any('FROM "institutions_organisation"' in sql for sql in prepared), prepared


@pytest.mark.django_db
def test_the_records_read_past_django_s_cursor_answer_as_through_it_and_listeners_still_see_them(settings):
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    settings.VERIFY_PREPARED_STATEMENTS = False
    through_the_wrapper = credential_verify(award.credential).as_dict()
    settings.VERIFY_PREPARED_STATEMENTS = True
    assert not connection.queries_logged
    for _ in range(2):  # on PostgreSQL: executed on the kept psycopg cursor, prepared the second time
        assert credential_verify(award.credential).as_dict() == through_the_wrapper
    seen: list[str] = []

    def listening(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(listening):
        assert credential_verify(award.credential).as_dict() == through_the_wrapper
    assert len(seen) == 2 and 'FROM "badges_award"' in seen[1], seen


@pytest.mark.django_db
def test_the_records_are_not_read_in_a_transaction_django_marked_broken():
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from badges.verification_data import VerificationRecords

    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    credential_verify(award.credential)  # the statements prepared on this connection
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            VerificationRecords().preload(award.credential, vc.embedded_endorsements(award.credential))


@committed
def test_a_revocation_shows_at_once_through_the_prepared_statements():
    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    for _ in range(3):  # prepared by now on this connection
        assert credential_verify(award.credential).verified
    award_revoke(actor=issuer, award=award, reason="Issued in error")
    status_list_publish(award.status.status_list_id)
    report = credential_verify(award.credential)
    assert report.verdict == "revoked", report.as_dict()
    assert checks_of(report)["registry"].code == "registry.revoked"


# --- The report's texts, translated once per language (badges.texts) ---------------------------------
@pytest.mark.django_db
def test_the_report_is_in_the_language_of_each_verification():
    from django.utils import translation

    programme, _app, _cast, issuer = endorsed_programme_with_lists()
    award = issued(programme, issuer, "a@example.org")
    with translation.override("ja"):
        japanese = checks_of(credential_verify(award.credential))
    with translation.override("en"):
        english = checks_of(credential_verify(award.credential))
    with translation.override("ja"):
        again = checks_of(credential_verify(award.credential))
    assert english["proof"].label == "Signature valid"
    with translation.override("ja"):
        assert japanese["proof"].label == translation.gettext("Signature valid") != "Signature valid"
    assert {k: (c.label, c.message) for k, c in japanese.items()} == {k: (c.label, c.message) for k, c in again.items()}
    assert all(c.code == english[k].code for k, c in japanese.items())
