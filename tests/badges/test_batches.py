"""Batches of awards: every row checked before anything is issued, then chunked tasks that issue
each row once however often they run."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from badges import batches
from badges import credentials as vc
from badges.awards import award_issue
from badges.batches import (
    award_batch_create,
    award_batch_issue_chunk,
    award_insert,
    batch_rows_data,
    rows_from_csv,
    rows_from_json,
)
from badges.models import Award, AwardBatch, EvidenceCheck, StatusAllocation, StatusList
from badges.status import status_allocate_many
from badges.tasks import fetch_evidence_group, issue_award_batch_chunk
from config.errors import InvalidInput, NotPermitted, WrongState
from config.tasking import enqueued
from endorsement import services
from institutions.keys import did_document
from institutions.models import Organisation, Role
from tests.factories import OrganisationFactory, api_client, awarding_setup, staff

pytestmark = pytest.mark.django_db


def rows(n, evidence=True):
    """`n` good rows; without `evidence`, no links (tests that run the on-commit tasks would fetch them)."""
    return [{"email": f"learner{i}@example.org", "name": f"Learner {i}", "evidence_narrative": "Passed.",
             **({"evidence_url": f"https://lms.example.org/work/{i}"} if evidence else {})} for i in range(n)]


def csv_text(lines):
    return ("email,name,evidence_url,evidence_narrative\n" + "\n".join(lines) + "\n").encode()


def nothing_written(allocations_before):
    return (AwardBatch.objects.count() == 0 and Award.objects.count() == 0
            and StatusAllocation.objects.count() == allocations_before)


# --- refused rows --------------------------------------------------------------------------------
def test_a_json_batch_with_a_bad_row_is_refused_whole_with_the_index_and_field():
    programme, _, _, issuer = awarding_setup()
    data = rows(3)
    data[1]["evidence_url"] = "ftp://lms.example.org/work/1"
    data[2]["email"] = "nobody"
    before = StatusAllocation.objects.count()
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "2 rows of the batch have errors" in body["detail"] and "nothing was issued" in body["detail"]
    assert "http:// or https://" in body["errors"]["rows[1].evidence_url"][0]
    assert "valid e-mail" in body["errors"]["rows[2].email"][0]
    assert set(body["errors"]) == {"rows[1].evidence_url", "rows[2].email"}
    assert nothing_written(before)


def test_a_csv_batch_with_a_bad_row_is_refused_with_its_line_number():
    programme, _, _, issuer = awarding_setup()
    content = csv_text([
        "a@example.org,A,https://lms.example.org/1,Passed",
        '"b@example.org","B","https://lms.example.org/2","Passed,\nwith a two-line narrative"',
        "c@example.org,C,lms.example.org/3,Passed",
    ])
    before = StatusAllocation.objects.count()
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                                       {"file": SimpleUploadedFile("batch.csv", content)}, format="multipart")
    assert response.status_code == 400
    # The header is line 1; b's record spans lines 3-4, so c's row is on line 5.
    assert list(response.json()["errors"]) == ["line 5.evidence_url"]
    assert nothing_written(before)


@pytest.mark.parametrize(("content", "key", "words"), [
    (b"email,colour\na@example.org,red\n", "line 1.colour", "Unknown column"),
    (b"email,e-mail\na@example.org,b@example.org\n", "line 1.e-mail", "Repeated column"),
    (b"email,name\na@example.org,A,extra\n", "line 2", "3 cells"),
    (b"email,did\n,\n,\nb@example.org,\n", None, None),  # blank rows are skipped: valid
    (b"email,name\na@example.org,Jos\xe9\n", "file", "neither UTF-8 nor Shift_JIS"),  # Latin-1
    (b"", "file", "empty"),
])
def test_csv_structure_errors_name_the_line(content, key, words):
    if key is None:
        assert [r.where for r in rows_from_csv(content)] == ["line 4"]
        return
    with pytest.raises(InvalidInput) as error:
        rows_from_csv(content)
    assert any(words in m for m in error.value.field_errors[key]) or words in error.value.message


@pytest.mark.parametrize(("data", "key"), [
    ({"not": "a list"}, "rows"),
    ([1], "rows[0]"),
    ([{"email": "a@example.org", "colour": "red"}], "rows[0].colour"),
])
def test_json_structure_errors_name_the_item(data, key):
    with pytest.raises(InvalidInput) as error:
        rows_from_json(data)
    assert key in error.value.field_errors


def test_the_same_learner_twice_in_a_batch_is_refused():
    programme, _, _, issuer = awarding_setup()
    data = rows(3)
    data[2]["email"] = "LEARNER0@example.org"
    before = StatusAllocation.objects.count()
    with pytest.raises(InvalidInput) as error:
        award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(data))
    assert error.value.field_errors == {"rows[2].email": ["The same learner as in item 1 (rows[0])."]}
    assert nothing_written(before)


def test_an_empty_batch_is_refused():
    programme, _, _, issuer = awarding_setup()
    with pytest.raises(InvalidInput, match="no rows"):
        award_batch_create(actor=issuer, programme=programme, rows=[])
    assert AwardBatch.objects.count() == 0


def test_a_batch_is_refused_without_an_endorsement_in_force():
    programme, app, cast, issuer = awarding_setup()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Checking")
    before = StatusAllocation.objects.count()
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows(2),
                                       format="json")
    assert response.status_code == 409 and "suspended" in response.json()["detail"]
    assert nothing_written(before)


def test_an_editor_may_not_send_a_batch_and_another_organisation_gets_404():
    programme, _, cast, _ = awarding_setup()
    with pytest.raises(NotPermitted):
        award_batch_create(actor=cast.editor, programme=programme, rows=rows_from_json(rows(1)))
    stranger = staff(OrganisationFactory(), Role.ISSUER)
    response = api_client(stranger).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows(1),
                                         format="json")
    assert response.status_code == 404
    assert AwardBatch.objects.count() == 0


# --- issuing --------------------------------------------------------------------------------------
def test_a_good_batch_is_issued_in_full_and_its_progress_reaches_100_percent(django_capture_on_commit_callbacks,
                                                                            monkeypatch):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 2)
    programme, _, cast, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                                           rows(5, evidence=False), format="json")
    assert response.status_code == 201
    assert response.json()["total"] == 5
    assert len(enqueued(callbacks, issue_award_batch_chunk)) == 3  # 2 + 2 + 1 rows
    batch = AwardBatch.objects.get()
    awards = list(Award.objects.filter(batch=batch).order_by("batch_row"))
    assert [a.batch_row for a in awards] == [0, 1, 2, 3, 4]
    assert [a.recipient_email for a in awards] == [f"learner{i}@example.org" for i in range(5)]
    progress = api_client(cast.editor).get(f"/api/v1/award-batches/{batch.public_id}").json()
    assert progress["state"] == "done" and progress["issued"] == 5 and progress["progress"] == 1.0
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    assert all(vc.verify(a.credential, resolver).verified for a in awards)
    assert len({a.status.index for a in awards}) == 5
    # The chunks published the status list the new entries are on.
    assert StatusList.objects.get(pk=awards[0].status.status_list_id).credential is not None


def test_running_a_chunk_task_twice_issues_nothing_twice():
    programme, _, _, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows(3)))
    assert issue_award_batch_chunk(batch.pk, 0, 3) == 3
    assert issue_award_batch_chunk(batch.pk, 0, 3) == 0
    assert Award.objects.filter(batch=batch).count() == 3
    batch.refresh_from_db()
    assert (batch.state, batch.issued) == ("done", 3)


def test_a_chunk_records_each_evidence_links_first_fetch_made_before_signing(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    data = rows(3)
    del data[1]["evidence_url"]
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(data))
    with django_capture_on_commit_callbacks() as callbacks:
        award_batch_issue_chunk(batch.pk, 0, 3)
    checks = EvidenceCheck.objects.filter(award__batch=batch).order_by("award__batch_row")
    # lms.example.org does not answer here (the tests reach no network): gone, fetched once already.
    assert [(c.award.batch_row, c.url, c.standing) for c in checks] == [
        (0, "https://lms.example.org/work/0", "gone"), (2, "https://lms.example.org/work/2", "gone")]
    assert all(c.last_checked_at is not None for c in checks)
    # Nothing left to fetch after commit.
    assert not enqueued(callbacks, fetch_evidence_group)


def test_progress_counts_the_chunks_done_so_far():
    programme, _, cast, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows(5)))
    award_batch_issue_chunk(batch.pk, 0, 2)
    response = api_client(cast.editor).get(f"/api/v1/award-batches/{batch.public_id}").json()
    assert (response["state"], response["issued"], response["progress"]) == ("running", 2, 0.4)
    award_batch_issue_chunk(batch.pk, 2, 5)
    batch.refresh_from_db()
    assert (batch.state, batch.issued) == ("done", 5)


def test_a_chunk_racing_another_skips_the_rows_the_other_saved_first():
    # Two workers ran the same chunk: both signed, the first saved. The second's insert meets the
    # unique (batch, row) and saves only what is still missing.
    programme, app, _, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows(3)))
    award_batch_issue_chunk(batch.pk, 0, 2)
    from badges.awards import AwardSigner, Recipient

    signer = AwardSigner(programme, app.endorsement, issuer)
    allocations = status_allocate_many(programme.organisation, "revocation", 3)
    stored = batch_rows_data(batch.pk)
    late = [signer.award(Recipient.from_row(stored[i]), allocations[i], batch_id=batch.pk, batch_row=i)
            for i in range(3)]
    saved = award_insert(late)
    assert [a.batch_row for a in saved] == [2]
    assert Award.objects.filter(batch=batch).count() == 3


def test_a_batch_stops_when_the_endorsement_is_suspended_and_restarts_after_reinstatement():
    programme, app, cast, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows(4)))
    award_batch_issue_chunk(batch.pk, 0, 2)
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Checking")
    assert award_batch_issue_chunk(batch.pk, 2, 4) == 0
    batch.refresh_from_db()
    assert batch.state == "failed" and "no longer in force" in batch.error
    assert Award.objects.filter(batch=batch).count() == 2
    with pytest.raises(WrongState):
        batches.award_batch_restart(actor=issuer, batch=batch)  # still suspended
    services.endorsement_reinstate(actor=cast.manager, endorsement=app.endorsement)
    batches.award_batch_restart(actor=issuer, batch=batch)
    for start in range(0, 4, batches.CHUNK_SIZE):
        award_batch_issue_chunk(batch.pk, start, start + batches.CHUNK_SIZE)
    batch.refresh_from_db()
    assert (batch.state, batch.issued, batch.error) == ("done", 4, "")


def test_a_batch_of_another_organisation_answers_404():
    programme, _, _, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows(1)))
    stranger = staff(OrganisationFactory(), Role.OWNER)
    assert api_client(stranger).get(f"/api/v1/award-batches/{batch.public_id}").status_code == 404


def test_a_csv_upload_through_the_api_is_accepted_and_issued(django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    content = "\ufeffEmail,Name,Evidence_URL,evidence_narrative\nhanako@example.org,山田花子,,合格\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(issuer).post(
            f"/api/v1/programmes/{programme.public_id}/award-batches",
            {"file": SimpleUploadedFile("batch.csv", content.encode("utf-8"))}, format="multipart")
    assert response.status_code == 201
    award = Award.objects.get()
    assert award.recipient_name == "山田花子"
    assert award.credential["credentialSubject"]["identifier"][1]["identityHash"] == "山田花子"


# --- status allocation in bulk ---------------------------------------------------------------------
def test_allocating_many_entries_draws_distinct_indices_and_opens_a_new_list_when_half_full():
    organisation = OrganisationFactory()
    StatusList.objects.create(organisation=organisation, purpose="revocation", number=1, size=8)
    allocations = status_allocate_many(organisation, "revocation", 7)
    by_list = {}
    for allocation in allocations:
        by_list.setdefault(allocation.status_list.number, []).append(allocation.index)
    assert len(by_list[1]) == 4 and len(set(by_list[1])) == 4  # half of 8
    assert len(by_list[2]) == 3
    assert StatusAllocation.objects.filter(status_list__organisation=organisation).count() == 7


def test_single_and_bulk_allocations_never_share_an_index():
    programme, _, _, issuer = awarding_setup()
    single = award_issue(actor=issuer, programme=programme, recipient_email="one@example.org")
    status_list = single.status.status_list
    StatusList.objects.filter(pk=status_list.pk).update(size=4)
    bulk = status_allocate_many(programme.organisation, "revocation", 3)
    on_first = [a.index for a in bulk if a.status_list_id == status_list.pk]
    assert single.status.index not in on_first
    assert len(on_first) == 1  # 2 of 4 fill the list: the rest go to a new one
