"""On PostgreSQL, with real concurrent requests: two POSTs with the same Idempotency-Key at the
same moment award one badge, and both answer it (the second waits on the first's key row)."""

from __future__ import annotations

import pytest

from badges.models import Award, IdempotencyKey
from tests.concurrency import run_together
from tests.factories import api_client, awarding_setup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_requests_with_one_key_at_once_award_one_badge_and_answer_it_twice(postgres):
    programme, _application, _cast, issuer = awarding_setup()
    url = f"/api/v1/programmes/{programme.public_id}/awards"
    body = {"recipient_email": "ada@example.org", "recipient_name": "Ada"}

    def post():
        return api_client(issuer).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="at-once")

    first, second = run_together(post, post, join_timeout=120)

    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert (first.status_code, second.status_code) == (201, 201), (first.content, second.content)
    assert first.json() == second.json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]
    assert Award.objects.filter(programme=programme).count() == 1
    assert IdempotencyKey.objects.get(key="at-once").response["public_id"] == first.json()["public_id"]
