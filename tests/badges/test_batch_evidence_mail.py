"""A batch's evidence links: one e-mail for the whole batch (not one per badge), worded as a first
fetch, not "checked again"; and with tasks eager, the batch answer reports the finished batch."""

from __future__ import annotations

import pytest
from django.utils import translation

from badges import awards, batches
from badges.evidence import evidence_notify_batch
from badges.models import AwardBatch, EvidenceCheck
from tests.badges.http_stand_in import serve
from tests.factories import api_client, awarding_setup

pytestmark = pytest.mark.django_db
PAGE = b"<html><body>Portfolio</body></html>"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def server():
    with serve() as stand_in:
        yield stand_in


def batch_rows(server, n: int, *, good: set[int] = frozenset()):
    rows = []
    for i in range(n):
        path = f"/work/{i}"
        if i in good:
            server.route(path, PAGE, content_type="text/html")
        else:
            server.route(path, b"missing", status=404, content_type="text/plain")
        rows.append({"email": f"learner{i}@example.org", "name": f"Learner {i}", "evidence_url": server.url(path)})
    return rows


def post_batch(issuer, programme, rows):
    return api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows, format="json")


def test_a_batch_sends_one_evidence_mail_for_all_its_broken_links(server, monkeypatch, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 3)
    monkeypatch.setattr(awards, "EVIDENCE_GROUP", 2)
    programme, _, _cast, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(issuer, programme, batch_rows(server, 7, good={2}))
    assert response.status_code == 201
    evidence_mails = [m for m in mailoutbox if "Evidence links" in m.subject]
    assert len(evidence_mails) == 1, [m.subject for m in evidence_mails]
    [mail] = evidence_mails
    assert "6 new badge(s) could not be retrieved" in mail.subject
    assert "checked again" not in mail.body and "→ Gone" not in mail.body
    assert "could not be retrieved when the badges were issued" in mail.body
    assert all(server.url(f"/work/{i}") in mail.body for i in (0, 1, 3, 4, 5, 6))
    assert server.url("/work/2") not in mail.body
    assert set(EvidenceCheck.objects.values_list("notified_standing", flat=True)) == {"gone", "reachable"}
    # Asked again, nothing more is sent.
    assert evidence_notify_batch(AwardBatch.objects.get().pk) == 0


def test_no_evidence_mail_before_the_batch_has_finished(server, mailoutbox, django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=False):
        post_batch(issuer, programme, batch_rows(server, 2))
    batch = AwardBatch.objects.get()
    assert evidence_notify_batch(batch.pk) == 0  # nothing issued or fetched yet
    assert not [m for m in mailoutbox if "Evidence links" in m.subject]


# Really committed, as `make run` does: the on-commit tasks run eagerly when the batch commits.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_in_eager_mode_the_batch_answer_reports_the_finished_state(monkeypatch):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 10)
    programme, _, _, issuer = awarding_setup()
    rows = [{"email": f"l{i}@example.org", "name": f"L {i}"} for i in range(50)]
    response = post_batch(issuer, programme, rows)
    body = response.json()
    assert response.status_code == 201
    assert (body["state"], body["issued"], body["total"], body["progress"]) == ("done", 50, 50, 1.0)
