"""A batch chunk fetches its rows' evidence links before signing, each link once, and each
credential names its link's WARC copy with its digest; a link that does not answer is issued with
its evidence entry and no copy. The group task (`fetch_evidence_group`, for links never fetched:
the recovery sweep's, or awards saved without a fetch before signing) fetches every link once, a
task run again fetches nothing twice, and one link that breaks does not keep the others from being
fetched."""

from __future__ import annotations

import hashlib

import pytest

from badges import awards, batches, evidence, tasks
from badges.archive import copy_url
from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_json
from badges.models import ArchivedEvidence, Award, EvidenceCheck
from config.tasking import enqueued
from tests.badges.http_stand_in import serve
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db
PAGE = b"<html><body>Assessed coursework</body></html>"


def grouped_fetches(callbacks) -> list[list[int]]:
    """The award ids of each `fetch_evidence_group` task the on-commit callbacks would send."""
    return [callback.args[0] for callback in enqueued(callbacks, tasks.fetch_evidence_group)]


def issued_chunk(rows, django_capture_on_commit_callbacks, *, fetch_first: bool = True):
    """A batch's one chunk issued; `fetch_first=False`: as if its links were not fetched before signing."""
    programme, _app, _cast, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
    with pytest.MonkeyPatch.context() as patch:
        if not fetch_first:
            patch.setattr(batches, "links_snapshot", lambda urls: {})
        with django_capture_on_commit_callbacks() as callbacks:
            award_batch_issue_chunk(batch.pk, 0, len(rows))
    return batch, callbacks


def test_a_chunk_fetches_each_link_once_before_signing_and_sends_no_fetch_after(django_capture_on_commit_callbacks):
    with serve() as server:
        server.route("/shared", PAGE, content_type="text/html")
        rows = [{"email": f"learner{i}@example.org", "evidence_narrative": "Passed.",
                 **({"evidence_url": server.route(f"/work/{i}", PAGE + str(i).encode(), content_type="text/html")}
                    if i % 7 else {})} for i in range(30)]
        rows += [{"email": f"same{i}@example.org", "evidence_url": server.url("/shared")} for i in range(3)]
        rows.append({"email": "gone@example.org", "evidence_url": server.route("/gone", b"no", status=404)})
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks)
        assert sorted(server.hits) == sorted([f"/work/{i}" for i in range(30) if i % 7] + ["/shared", "/gone"])
    assert not grouped_fetches(callbacks) and not enqueued(callbacks, tasks.fetch_evidence)
    checks = EvidenceCheck.objects.filter(award__batch=batch).select_related("award")
    assert checks.count() == 25 + 3 + 1 and all(c.last_checked_at is not None for c in checks)
    for check in checks:
        credential = check.award.credential
        copies = list(ArchivedEvidence.objects.filter(award=check.award))
        if check.url.endswith("/gone"):
            assert check.standing == "gone" and copies == [] and "relatedResource" not in credential
            assert credential["evidence"] == [{"id": check.url, "type": ["Evidence"]}]
            continue
        body = PAGE + check.url.rsplit("/", 1)[1].encode() if "/work/" in check.url else PAGE
        assert check.standing == "reachable" and check.sha256 == hashlib.sha256(body).hexdigest()
        (copy,) = copies
        assert copy.kind == "web" and copy.in_credential and copy.original_url == check.url
        assert credential["relatedResource"] == [{"id": copy_url(copy.token), "digestSRI": copy.digest_sri,
                                                  "mediaType": "application/warc"}]
    # The three rows with the same link: one fetch, three copies with their own URLs, one blob.
    shared = ArchivedEvidence.objects.filter(award__batch=batch, original_url__endswith="/shared")
    assert shared.count() == 3 and len({c.token for c in shared}) == 3 and len({c.blob_id for c in shared}) == 1


def test_awards_saved_without_a_fetch_before_signing_send_their_links_in_groups(django_capture_on_commit_callbacks):
    rows = [{"email": f"learner{i}@example.org", "evidence_narrative": "Passed.",
             **({"evidence_url": f"https://lms.example.org/work/{i}"} if i % 7 else {})} for i in range(60)]
    batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks, fetch_first=False)
    groups = grouped_fetches(callbacks)
    linked = list(Award.objects.filter(batch=batch).exclude(evidence_url="").order_by("pk")
                  .values_list("pk", flat=True))
    assert len(linked) == 51
    assert [len(group) for group in groups] == [awards.EVIDENCE_GROUP, awards.EVIDENCE_GROUP, 1]
    assert sorted(pk for group in groups for pk in group) == linked
    assert not enqueued(callbacks, tasks.fetch_evidence)


def test_the_group_task_fetches_every_link_once_and_a_second_run_fetches_nothing(
        django_capture_on_commit_callbacks):
    with serve() as server:
        rows = [{"email": f"learner{i}@example.org",
                 "evidence_url": server.route(f"/work/{i}", PAGE, content_type="text/html")} for i in range(4)]
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks, fetch_first=False)
        (group,) = grouped_fetches(callbacks)
        assert tasks.fetch_evidence_group(group) == 4
        assert sorted(server.hits) == [f"/work/{i}" for i in range(4)]
        assert tasks.fetch_evidence_group(group) == 4  # each check returned as it stands
        assert len(server.hits) == 4  # nothing fetched twice
    checks = EvidenceCheck.objects.filter(award__batch=batch)
    assert {c.standing for c in checks} == {EvidenceCheck.Standing.REACHABLE}
    assert all(c.sha256 for c in checks)


def test_a_link_whose_fetch_breaks_does_not_keep_the_others_from_being_fetched(
        django_capture_on_commit_callbacks, monkeypatch):
    with serve() as server:
        rows = [{"email": f"learner{i}@example.org",
                 "evidence_url": server.route(f"/work/{i}", PAGE, content_type="text/html")} for i in range(3)]
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks, fetch_first=False)
        (group,) = grouped_fetches(callbacks)
        real_fetch = evidence.evidence_fetch

        def breaking_on_the_second(award_id, **kwargs):
            if award_id == group[1]:
                raise ValueError("a fault injected into one fetch")
            return real_fetch(award_id, **kwargs)

        monkeypatch.setattr(tasks.evidence, "evidence_fetch", breaking_on_the_second)
        assert tasks.fetch_evidence_group(group) == 2
    standings = dict(EvidenceCheck.objects.filter(award__batch=batch).values_list("award_id", "standing"))
    assert standings == {group[0]: "reachable", group[1]: "pending", group[2]: "reachable"}


def test_a_fetch_before_signing_that_breaks_leaves_that_link_to_after_commit_and_the_others_go_on(
        django_capture_on_commit_callbacks, monkeypatch):
    with serve() as server:
        rows = [{"email": f"learner{i}@example.org",
                 "evidence_url": server.route(f"/work/{i}", PAGE, content_type="text/html")} for i in range(3)]
        real = evidence.evidence_retrieve

        def breaking_on_the_second(url, pool=None):
            if url.endswith("/work/1"):
                raise ValueError("a fault injected into one fetch")
            return real(url, pool)

        monkeypatch.setattr(evidence, "evidence_retrieve", breaking_on_the_second)
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks)
    awards_by_row = {a.batch_row: a for a in Award.objects.filter(batch=batch)}
    assert len(awards_by_row) == 3
    for row in (0, 2):
        assert awards_by_row[row].credential["relatedResource"][0]["mediaType"] == "application/warc"
    assert "relatedResource" not in awards_by_row[1].credential
    (group,) = grouped_fetches(callbacks)  # only the broken one is fetched after commit
    assert group == [awards_by_row[1].pk]
    assert EvidenceCheck.objects.get(award=awards_by_row[1]).last_checked_at is None


def test_a_chunk_that_fails_after_writing_its_copies_leaves_no_file_behind(
        django_capture_on_commit_callbacks, settings, tmp_path, monkeypatch):
    from tests.badges.archive_store import archive_in, award_blobs, stored_files

    root = archive_in(settings, tmp_path / "archive")
    with serve() as server:
        rows = [{"email": f"learner{i}@example.org",
                 "evidence_url": server.route(f"/work/{i}", PAGE + str(i).encode(), content_type="text/html")}
                for i in range(5)]
        programme, _app, _cast, issuer = awarding_setup()
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
        files_before = stored_files(root)

        def broken(*args, **kwargs):
            assert len(stored_files(root)) == len(files_before) + 5  # the copies' bytes were written
            raise RuntimeError("the follow-ups broke")

        with monkeypatch.context() as patch:
            patch.setattr(batches, "after_issue", broken)
            with pytest.raises(RuntimeError, match="follow-ups broke"):
                award_batch_issue_chunk(batch.pk, 0, 5)
        assert stored_files(root) == files_before and award_blobs() == 0
        assert not Award.objects.filter(batch=batch).exists()
        assert not ArchivedEvidence.objects.filter(award__batch=batch).exists()

        with django_capture_on_commit_callbacks(execute=False):  # the redelivered chunk
            assert award_batch_issue_chunk(batch.pk, 0, 5) == 5
    assert len(stored_files(root)) == len(files_before) + 5 and award_blobs() == 5
    for copy in ArchivedEvidence.objects.filter(award__batch=batch).select_related("blob"):
        assert (root / copy.blob.storage_name).is_file()
