"""Lists cannot take a worker down: every page is at most 1,000 rows whatever `limit` asks, and an
award list's memory does not grow with its batch's `rows` or its signed credentials (only the
columns the list shows are loaded)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges.models import Award
from tests.factories import api_client, awarding_setup, stored_batch

pytestmark = pytest.mark.django_db

BIG = "x" * 20_000  # each batch row and each credential carries this much


def _awarded(count: int):
    programme, app, cast, issuer = awarding_setup()
    batch = stored_batch([{"recipient_email": f"l{n}@example.org", "pad": BIG} for n in range(200)],
                         programme=programme, created_by=issuer, total=count)
    now = timezone.now()
    Award.objects.bulk_create(
        Award(programme=programme, organisation=cast.organisation, endorsement=app.endorsement, batch=batch,
              batch_row=n, recipient_email=f"l{n}@example.org", recipient_name=f"Learner {n}", issued_by=issuer,
              valid_from=now, credential={"pad": BIG}, identity={"pad": BIG})
        for n in range(count)
    )
    return programme, issuer


@pytest.fixture
def listed():
    return _awarded(1100)


@pytest.fixture
def few():
    return _awarded(3)


def _awards(user, programme, query: str):
    return api_client(user).get(f"/api/v1/programmes/{programme.public_id}/awards?{query}")


def test_a_limit_above_the_maximum_is_clamped_to_1000_rows(listed):
    programme, issuer = listed
    response = _awards(issuer, programme, "limit=5000")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1100
    assert len(body["results"]) == 1000
    assert "limit=1000" in body["next"]


def test_the_award_list_loads_neither_batch_rows_nor_credentials_and_queries_a_fixed_number_of_times(listed):
    programme, issuer = listed
    with CaptureQueriesContext(connection) as queries:
        response = _awards(issuer, programme, "limit=1000")
    assert response.status_code == 200 and len(response.json()["results"]) == 1000
    listing = [q["sql"] for q in queries.captured_queries if 'FROM "badges_award"' in q["sql"]]
    assert listing, "the award list query was not captured"
    for sql in listing:
        assert '"badges_awardbatch"."rows"' not in sql
        assert '"badges_award"."credential"' not in sql
        assert '"badges_award"."identity"' not in sql
    assert len(queries.captured_queries) <= 12  # no query per listed award
    first = response.json()["results"][0]
    assert first["batch"] and first["programme"] == str(programme.public_id)


@pytest.mark.parametrize("query", [
    "limit=18446744073709551617",  # above 2^64
    "limit=9223372036854775808",  # 2^63
    "offset=18446744073709551617",
    "limit=9223372036854775808&offset=9223372036854775808",
    "limit=-5", "limit=abc", "offset=-1",
])
def test_absurd_limits_and_offsets_answer_a_page_not_a_server_error(few, query):
    programme, issuer = few
    response = _awards(issuer, programme, query)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) <= 1000


@pytest.mark.parametrize("path", ["/api/v1/programmes", "/api/v1/applications", "/api/v1/endorsements",
                                  "/api/v1/reviews", "/api/v1/criteria-tables"])
def test_every_list_clamps_a_limit_beyond_any_integer(few, path):
    _programme, issuer = few
    response = api_client(issuer).get(f"{path}?limit=18446744073709551617")
    assert response.status_code == 200, (path, response.content)
    assert len(response.json()["results"]) <= 1000


def test_the_schema_documents_the_maximum_page_size(client):
    schema = client.get("/api/schema/?format=json").json()
    limit = next(p for p in schema["paths"]["/api/v1/programmes"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000
