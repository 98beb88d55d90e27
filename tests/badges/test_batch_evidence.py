"""A batch chunk sends its evidence links' first fetches EVIDENCE_GROUP to a task (one task per
link cost more than issuing the badge): every link is fetched once, a task run again fetches
nothing twice, and one link that breaks does not keep the others from being fetched."""

from __future__ import annotations

import pytest

from badges import awards, evidence, tasks
from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_json
from badges.models import Award, EvidenceCheck
from config.tasking import enqueued
from tests.badges.http_stand_in import serve
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db
PAGE = b"<html><body>Assessed coursework</body></html>"


def grouped_fetches(callbacks) -> list[list[int]]:
    """The award ids of each `fetch_evidence_group` task the on-commit callbacks would send."""
    return [callback.args[0] for callback in enqueued(callbacks, tasks.fetch_evidence_group)]


def issued_chunk(rows, django_capture_on_commit_callbacks):
    programme, _app, _cast, issuer = awarding_setup()
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
    with django_capture_on_commit_callbacks() as callbacks:
        award_batch_issue_chunk(batch.pk, 0, len(rows))
    return batch, callbacks


def test_a_chunk_sends_its_links_in_groups_each_award_with_a_link_once(django_capture_on_commit_callbacks):
    rows = [{"email": f"learner{i}@example.org", "evidence_narrative": "Passed.",
             **({"evidence_url": f"https://lms.example.org/work/{i}"} if i % 7 else {})} for i in range(60)]
    batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks)
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
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks)
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
        batch, callbacks = issued_chunk(rows, django_capture_on_commit_callbacks)
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
