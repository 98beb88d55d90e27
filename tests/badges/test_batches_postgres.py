"""On PostgreSQL, with real concurrent transactions: workers sharing a batch. The same chunk run by
two workers at once issues each row once; different chunks at once issue everything, with distinct
status entries, and the progress ends complete."""

from __future__ import annotations

import pytest

from badges.batches import award_batch_issue_chunk, rows_from_json, rows_validate
from badges.models import Award, AwardBatch
from tests.concurrency import run_together
from tests.factories import awarding_setup, stored_batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _batch(n: int) -> AwardBatch:
    """A checked batch stored as `award_batch_create` stores it, but not started: here the
    transactions commit, so the service's on-commit chunk tasks would run (eagerly) at once."""
    programme, _, _, issuer = awarding_setup()
    rows = rows_from_json([{"email": f"learner{i}@example.org", "name": f"Learner {i}"} for i in range(n)])
    recipients = rows_validate(rows)
    return stored_batch([r.as_row() for r in recipients], programme=programme, created_by=issuer, total=n)


def test_two_workers_running_the_same_chunk_issue_each_row_once(postgres):
    batch = _batch(6)
    results = run_together(lambda: award_batch_issue_chunk(batch.pk, 0, 6),
                           lambda: award_batch_issue_chunk(batch.pk, 0, 6), join_timeout=120)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert sorted(Award.objects.filter(batch=batch).values_list("batch_row", flat=True)) == list(range(6))
    batch.refresh_from_db()
    assert (batch.state, batch.issued) == ("done", 6)


def test_workers_sharing_a_batch_issue_all_of_it_with_distinct_status_entries(postgres):
    batch = _batch(9)
    results = run_together(*[lambda start=start: award_batch_issue_chunk(batch.pk, start, start + 3)
                             for start in (0, 3, 6)], join_timeout=120)
    assert results == [3, 3, 3], results
    awards = Award.objects.filter(batch=batch).select_related("status")
    assert len({(a.status.status_list_id, a.status.index) for a in awards}) == 9
    batch.refresh_from_db()
    assert (batch.state, batch.issued) == ("done", 9)
