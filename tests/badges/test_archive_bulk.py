"""A batch chunk's evidence copies are stored in bulk (badges.archive.blobs_store, copies_save_many):
statements per chunk that do not grow with its rows, each content stored once and referenced by every
copy of it, a storage write failing mid-chunk leaving nothing recorded and its retry completing, a
leftover file from a rolled-back write checked by its hash, and the retention sweep's deletion after
commit sparing bytes stored again meanwhile. The claim tokens of a chunk's mails go in with the
awards' insert."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges.archive import _storage_name, blob_store, blobs_store, copies_of_award, copy_read, copy_withdraw
from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_json
from badges.claims import award_for_claim
from badges.models import ArchivedEvidence, Award, EvidenceBlob, EvidenceCheck
from endorsement.models import Notification
from tests.badges.archive_store import archive_in, award_blobs, stored_files
from tests.badges.http_stand_in import serve
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db
PAGE = b"<html><body>Assessed coursework</body></html>"
CLAIM = re.compile(r"/learner/claim/([^\s/]+)/")


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    return archive_in(settings, tmp_path / "evidence")


def rows_for(server, count: int, tag: str) -> list[dict]:
    """`count` rows, each with a link of its own but every fifth, which share one page."""
    server.route(f"/{tag}/shared", PAGE, content_type="text/html")
    return [{"email": f"{tag}{i}@example.org", "evidence_narrative": "Passed.",
             "evidence_url": server.url(f"/{tag}/shared") if i % 5 == 0 else
             server.route(f"/{tag}/{i}", PAGE + f"{tag}{i}".encode(), content_type="text/html")}
            for i in range(count)]


def chunk_statements(programme, issuer, rows) -> tuple[int, object]:
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
    with CaptureQueriesContext(connection) as queries:
        assert award_batch_issue_chunk(batch.pk, 0, len(rows)) == len(rows)
    return len(queries.captured_queries), batch


def assert_copies_hold_their_bytes(batch) -> None:
    for award in Award.objects.filter(batch=batch):
        (copy,) = copies_of_award(award)
        data = copy_read(copy)
        assert data is not None and copy.blob.sha384 == hashlib.sha384(data).hexdigest()
        assert award.credential["relatedResource"][0]["digestSRI"] == copy.digest_sri


def test_a_chunks_statements_do_not_grow_with_its_rows_and_shared_content_is_stored_once(archive_root):
    programme, _app, _cast, issuer = awarding_setup()
    with serve() as server:
        award_batch_issue_chunk(award_batch_create(actor=issuer, programme=programme,
                                                   rows=rows_from_json(rows_for(server, 2, "warm"))).pk, 0, 2)
        small, _batch = chunk_statements(programme, issuer, rows_for(server, 5, "small"))
        large, batch = chunk_statements(programme, issuer, rows_for(server, 40, "large"))
    # The same statements for 5 rows as for 40 (before: five or six per row for the archive alone,
    # and one UPDATE of the claim tokens).
    assert large == small, (small, large)
    assert large <= 42, large  # 43 before the status list kept its organisation (status_allocate_many)
    copies = ArchivedEvidence.objects.filter(award__batch=batch)
    assert copies.count() == 40 and copies.values("token").distinct().count() == 40
    # Rows 0, 5, …, 35 share one page: one fetch, one WARC record, one blob referenced eight times.
    shared = copies.filter(original_url__endswith="/large/shared")
    assert shared.count() == 8 and shared.values("blob").distinct().count() == 1
    assert copies.values("blob").distinct().count() == 1 + 32
    assert_copies_hold_their_bytes(batch)
    # A retried chunk writes nothing twice.
    assert award_batch_issue_chunk(batch.pk, 0, 40) == 0
    assert copies.count() == 40 and Award.objects.filter(batch=batch).count() == 40
    assert Notification.objects.filter(key__startswith="award-issued:").count() == 2 + 5 + 40


def test_a_chunks_mails_carry_claim_links_saved_with_the_awards(archive_root):
    programme, _app, _cast, issuer = awarding_setup()
    with serve() as server:
        _count, batch = chunk_statements(programme, issuer, rows_for(server, 6, "mail"))
    for award in Award.objects.filter(batch=batch):
        mail = Notification.objects.get(key=f"award-issued:{award.public_id}")
        (token,) = CLAIM.findall(mail.body)
        assert award_for_claim(token) == award and award.claim_expires_at is not None


def test_a_storage_write_failing_mid_chunk_records_nothing_and_the_retry_completes(archive_root, monkeypatch):
    programme, _app, _cast, issuer = awarding_setup()
    real_save = FileSystemStorage.save
    writes = []

    def failing_save(self, name, content, max_length=None):
        writes.append(name)
        if len(writes) == 4:
            raise OSError(28, "No space left on device")
        return real_save(self, name, content, max_length=max_length)

    with serve() as server:
        rows = rows_for(server, 12, "fail")
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
        blobs_before = award_blobs()
        monkeypatch.setattr(FileSystemStorage, "save", failing_save)
        with pytest.raises(OSError):
            award_batch_issue_chunk(batch.pk, 0, 12)
        monkeypatch.setattr(FileSystemStorage, "save", real_save)
        # Nothing of the chunk is recorded: the write failed inside its transaction.
        assert len(writes) == 4 and not Award.objects.filter(batch=batch).exists()
        assert award_blobs() == blobs_before and not ArchivedEvidence.objects.filter(award__batch=batch).exists()
        assert not EvidenceCheck.objects.filter(award__batch=batch).exists()
        assert not Notification.objects.filter(key__startswith="award-issued:").exists()
        # The files written before the failure were removed again (new_files_removed_on_failure).
        assert stored_files(archive_root) == []
        assert award_batch_issue_chunk(batch.pk, 0, 12) == 12
    assert ArchivedEvidence.objects.filter(award__batch=batch).count() == 12
    assert Notification.objects.filter(key__startswith="award-issued:").count() == 12
    assert_copies_hold_their_bytes(batch)


def test_a_leftover_file_is_kept_when_it_holds_the_bytes_and_replaced_when_it_was_cut_short(archive_root):
    whole, cut = b"the whole record " * 100, b"another record " * 100
    for data, leftover in ((whole, whole), (cut, cut[:50])):
        path = archive_root / _storage_name(hashlib.sha384(data).hexdigest())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(leftover)  # written by a chunk whose transaction rolled back
        blob = blob_store(data, "text/plain")
        assert path.read_bytes() == data and blob.verified_intact and blob.size == len(data)
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no second name left


def test_one_content_given_twice_or_stored_before_is_one_blob_and_one_file(archive_root):
    first = blobs_store([(b"same bytes", "text/plain"), (b"same bytes", "text/plain"), (b"other", "text/plain")])
    again = blobs_store([(b"same bytes", "text/plain")], stored=[hashlib.sha384(b"other").hexdigest()])
    assert len(first) == 2 and {b.pk for b in again.values()} == {b.pk for b in first.values()}
    assert EvidenceBlob.objects.count() == 2 and len(stored_files(archive_root)) == 2


def test_a_blob_named_as_stored_before_that_is_gone_is_refused_and_nothing_is_written(archive_root):
    with pytest.raises(EvidenceBlob.DoesNotExist):
        blobs_store([(b"new bytes", "text/plain")], stored=["ab" * 48])
    assert stored_files(archive_root) == []


def test_bytes_stored_again_before_the_sweeps_deletion_runs_are_kept(archive_root, django_capture_on_commit_callbacks):
    programme, _app, _cast, issuer = awarding_setup()
    with serve() as server:
        _count, batch = chunk_statements(programme, issuer, rows_for(server, 1, "sweep"))
    copy = ArchivedEvidence.objects.select_related("award", "blob").get(award__batch=batch)
    data = copy_read(copy)
    with django_capture_on_commit_callbacks() as deletions:  # the sweep's deletion, not run yet
        copy_withdraw(actor=issuer, copy=copy)
    assert EvidenceBlob.objects.get(pk=copy.blob_id).removed_at is not None
    blob = blob_store(data, "application/warc")  # the same content stored again meanwhile
    assert blob.pk == copy.blob_id and blob.removed_at is None
    for deletion in deletions:
        deletion()
    path = archive_root / blob.storage_name
    assert path.read_bytes() == data
    # Without the new reference, the deletion goes ahead.
    EvidenceBlob.objects.filter(pk=blob.pk).update(removed_at=timezone.now())
    for deletion in deletions:
        deletion()
    assert not path.exists()


def test_after_a_failed_transaction_only_the_files_no_blob_names_are_removed(settings, tmp_path):
    from badges.archive import _orphans_remove, new_files_removed_on_failure

    root = archive_in(settings, tmp_path / "archive")
    kept = blob_store(b"stored by another transaction", "text/plain")  # committed: its row names its file
    with pytest.raises(RuntimeError), new_files_removed_on_failure(), transaction.atomic():
        blobs_store([(b"written, then rolled back", "text/plain")])
        raise RuntimeError("the transaction failed")
    lost = hashlib.sha384(b"written, then rolled back").hexdigest()
    # The rolled-back content's file is gone; the other is untouched, also when named as an orphan.
    assert not (root / _storage_name(lost)).exists()
    _orphans_remove([(kept.sha384, kept.storage_name)])
    assert (root / kept.storage_name).read_bytes() == b"stored by another transaction"
    assert list(EvidenceBlob.objects.values_list("sha384", flat=True)) == [kept.sha384]
    # Outside that block (or when it succeeds) nothing is removed.
    blobs_store([(b"kept on success", "text/plain")])
    with new_files_removed_on_failure(), transaction.atomic():
        blobs_store([(b"kept in the block", "text/plain")])
    assert len(stored_files(root)) == 3
