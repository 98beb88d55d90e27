"""Stalled batches and lost follow-up work (badges.batches, badges.recovery): a batch whose chunk
messages were lost is resumed by the sweep or by its owner (API and portal); an evidence link never
fetched and a status list never published are done by the sweep. A lost message is simulated the
way it happens: the after-commit sends are captured and never run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges.batches import award_batch_create, rows_from_json
from badges.models import Award, AwardBatch, EvidenceCheck, IdempotencyKey, StatusList
from badges.recovery import recover_stalled_work
from endorsement.models import AuditEvent
from institutions.models import Role
from tests.badges.http_stand_in import serve
from tests.factories import api_client, awarding_setup, staff

pytestmark = pytest.mark.django_db


def _rows(n, evidence_base=None):
    return rows_from_json([{"email": f"learner{i}@example.org", "name": f"Learner {i}",
                            **({"evidence_url": f"{evidence_base}/work/{i}"} if evidence_base else {})}
                           for i in range(n)])


def lost_batch(django_capture_on_commit_callbacks, n=150, *, stalled=True):
    """A batch stored and committed whose chunk tasks were never delivered."""
    programme, _application, cast, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=False):
        batch = award_batch_create(actor=issuer, programme=programme, rows=_rows(n))
    if stalled:
        AwardBatch.objects.filter(pk=batch.pk).update(progressed_at=timezone.now() - timedelta(hours=1))
    return AwardBatch.objects.get(pk=batch.pk), issuer, cast


def test_the_sweep_resumes_a_stalled_batch_and_records_it(django_capture_on_commit_callbacks):
    batch, _issuer, _cast = lost_batch(django_capture_on_commit_callbacks)
    assert batch.stalled and batch.state == AwardBatch.State.PENDING and not Award.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        recovered = recover_stalled_work()

    batch.refresh_from_db()
    assert recovered.batches == 1
    assert batch.state == AwardBatch.State.DONE and batch.issued == 150 == Award.objects.filter(batch=batch).count()
    event = AuditEvent.objects.get(action="award_batch.resumed")
    assert event.actor is None and event.actor_repr == "system" and event.data["chunks"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert recover_stalled_work().batches == 0  # done: nothing to resume
    assert AuditEvent.objects.filter(action="award_batch.resumed").count() == 1


def test_the_sweep_resumes_only_the_chunks_with_missing_rows(django_capture_on_commit_callbacks):
    batch, _issuer, _cast = lost_batch(django_capture_on_commit_callbacks, n=250)
    from badges.batches import award_batch_issue_chunk

    award_batch_issue_chunk(batch.pk, 100, 200)  # one chunk was delivered and done
    AwardBatch.objects.filter(pk=batch.pk).update(progressed_at=timezone.now() - timedelta(hours=1))
    first_ids = set(Award.objects.filter(batch=batch).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        recover_stalled_work()

    batch.refresh_from_db()
    assert batch.state == AwardBatch.State.DONE and batch.issued == 250
    assert sorted(Award.objects.filter(batch=batch).values_list("batch_row", flat=True)) == list(range(250))
    assert first_ids <= set(Award.objects.filter(batch=batch).values_list("pk", flat=True))
    assert AuditEvent.objects.get(action="award_batch.resumed").data["chunks"] == 2


def test_a_batch_that_is_progressing_is_not_resumed(django_capture_on_commit_callbacks):
    batch, _issuer, _cast = lost_batch(django_capture_on_commit_callbacks, stalled=False)
    assert not batch.stalled
    assert recover_stalled_work().batches == 0
    batch.refresh_from_db()
    assert batch.state == AwardBatch.State.PENDING and not Award.objects.exists()
    assert not AuditEvent.objects.filter(action="award_batch.resumed").exists()


def test_its_owner_resumes_a_stalled_batch_through_the_api(django_capture_on_commit_callbacks):
    batch, issuer, _cast = lost_batch(django_capture_on_commit_callbacks)
    client = api_client(issuer)
    shown = client.get(f"/api/v1/award-batches/{batch.public_id}").json()
    assert shown["stalled"] is True and shown["state"] == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/award-batches/{batch.public_id}/restart")

    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "running" and answer.json()["stalled"] is False  # its chunks are enqueued
    batch.refresh_from_db()
    assert batch.state == AwardBatch.State.DONE and batch.issued == 150 == Award.objects.filter(batch=batch).count()
    event = AuditEvent.objects.get(action="award_batch.restarted")
    assert event.actor == issuer and event.from_state == "pending" and event.to_state == "running"


def test_a_batch_in_progress_or_done_cannot_be_restarted_and_nothing_is_written(django_capture_on_commit_callbacks):
    batch, issuer, _cast = lost_batch(django_capture_on_commit_callbacks, stalled=False)
    client = api_client(issuer)
    events = AuditEvent.objects.count()

    answer = client.post(f"/api/v1/award-batches/{batch.public_id}/restart")

    assert answer.status_code == 409 and "in progress" in answer.json()["detail"]
    assert AuditEvent.objects.count() == events and not Award.objects.exists()
    assert AwardBatch.objects.get(pk=batch.pk).state == AwardBatch.State.PENDING

    AwardBatch.objects.filter(pk=batch.pk).update(state=AwardBatch.State.DONE)
    done = client.post(f"/api/v1/award-batches/{batch.public_id}/restart")
    assert done.status_code == 409 and "complete" in done.json()["detail"]
    assert AuditEvent.objects.count() == events and not Award.objects.exists()


def test_only_an_issuer_may_resume_and_others_get_404(django_capture_on_commit_callbacks):
    batch, _issuer, cast = lost_batch(django_capture_on_commit_callbacks)
    editor = staff(cast.organisation, Role.EDITOR)
    _p, _a, _c, outsider = awarding_setup()
    events = AuditEvent.objects.count()
    assert api_client(editor).post(f"/api/v1/award-batches/{batch.public_id}/restart").status_code == 403
    assert api_client(outsider).post(f"/api/v1/award-batches/{batch.public_id}/restart").status_code == 404
    assert AuditEvent.objects.count() == events and not Award.objects.exists()


def test_the_batch_page_offers_to_resume_a_stalled_batch(client, django_capture_on_commit_callbacks):
    batch, issuer, _cast = lost_batch(django_capture_on_commit_callbacks)
    client.force_login(issuer)
    page = client.get(f"/portal/batches/{batch.public_id}/")
    assert page.status_code == 200
    assert "Resume the batch now" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/portal/batches/{batch.public_id}/restart/")

    assert answer.status_code == 302
    batch.refresh_from_db()
    assert batch.state == AwardBatch.State.DONE and batch.issued == 150
    assert "Resume the batch now" not in client.get(f"/portal/batches/{batch.public_id}/").content.decode()


def test_the_sweep_fetches_evidence_links_whose_fetch_was_never_sent(django_capture_on_commit_callbacks, monkeypatch):
    # Links are fetched before signing now; a check never fetched is one of an award saved without
    # that fetch (issued before the upgrade, or by a caller of after_issue without snapshots).
    from badges import batches

    monkeypatch.setattr(batches, "links_snapshot", lambda urls: {})
    programme, _application, _cast, issuer = awarding_setup()
    with serve() as site:
        site.route("/work/0", "<p>work</p>", content_type="text/html")
        site.route("/work/1", "<p>work</p>", content_type="text/html")
        with django_capture_on_commit_callbacks(execute=False):
            batch = award_batch_create(actor=issuer, programme=programme, rows=_rows(2, site.url("")))
        from badges.batches import award_batch_issue_chunk

        with django_capture_on_commit_callbacks(execute=False):
            award_batch_issue_chunk(batch.pk, 0, 2)  # the chunk ran; its follow-up sends were lost
        assert EvidenceCheck.objects.filter(last_checked_at__isnull=True).count() == 2

        assert recover_stalled_work().evidence_links == 0  # within the grace period: left to the task
        Award.objects.update(issued_at=timezone.now() - timedelta(hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert recover_stalled_work().evidence_links == 2

        assert set(EvidenceCheck.objects.values_list("standing", flat=True)) == {EvidenceCheck.Standing.REACHABLE}
        assert sorted(site.hits) == ["/work/0", "/work/1"]
        assert recover_stalled_work().evidence_links == 0
        assert len(site.hits) == 2


def test_the_sweep_publishes_a_status_list_never_signed_and_forgets_old_keys(django_capture_on_commit_callbacks):
    programme, _application, _cast, _issuer = awarding_setup()
    status_list = StatusList.objects.create(organisation=programme.organisation, purpose="revocation", number=9)
    IdempotencyKey.objects.create(organisation=programme.organisation, key="old", fingerprint="x", status_code=201,
                                  response={}, created_at=timezone.now() - timedelta(days=2))
    IdempotencyKey.objects.create(organisation=programme.organisation, key="new", fingerprint="x", status_code=201,
                                  response={})

    with django_capture_on_commit_callbacks(execute=True):
        recovered = recover_stalled_work()

    status_list.refresh_from_db()
    assert status_list.credential is not None and status_list.signed_at is not None
    assert recovered.keys_forgotten == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
