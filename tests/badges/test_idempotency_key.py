"""`Idempotency-Key` on award creation (badges.idempotency): a retry answers the first answer and
awards nothing more; the key on another request is refused with nothing written."""

import uuid

import pytest

from badges.models import Award, AwardBatch, IdempotencyKey
from endorsement.models import AuditEvent, Notification
from institutions.models import Role
from tests.factories import api_client, awarding_setup, staff

pytestmark = pytest.mark.django_db
BODY = {"recipient_email": "ada@example.org", "recipient_name": "Ada"}


@pytest.fixture
def issuing():
    programme, _application, cast, issuer = awarding_setup()
    return programme, cast, api_client(issuer)


def _url(programme):
    return f"/api/v1/programmes/{programme.public_id}/awards"


def _written():
    return (Award.objects.count(), AwardBatch.objects.count(), Notification.objects.count(),
            AuditEvent.objects.count(), IdempotencyKey.objects.count())


def test_a_retry_with_the_same_key_answers_the_first_award_and_awards_nothing_more(issuing):
    programme, _cast, client = issuing
    key = str(uuid.uuid4())
    first = client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    written = _written()

    again = client.post(_url(programme), {"recipient_name": "Ada", "recipient_email": "ada@example.org"},
                        format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _written() == written and Award.objects.count() == 1
    assert AuditEvent.objects.filter(action="award.issued").count() == 1


def test_the_same_key_on_a_different_request_is_refused_with_nothing_written(issuing):
    programme, _cast, client = issuing
    client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    written = _written()

    other = client.post(_url(programme), {**BODY, "recipient_email": "bob@example.org"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-1")

    assert other.status_code == 422
    assert "different request" in other.json()["detail"] and "Idempotency-Key" in other.json()["errors"]
    assert _written() == written
    assert not Award.objects.filter(recipient_email="bob@example.org").exists()


def test_a_key_is_per_organisation(issuing):
    programme, _cast, client = issuing
    other_programme, _a, _c, other_issuer = awarding_setup()
    assert client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    answer = api_client(other_issuer).post(_url(other_programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer
    assert Award.objects.count() == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "日本"])
def test_a_malformed_key_is_refused_by_field_with_nothing_written(issuing, key):
    programme, _cast, client = issuing
    written = _written()
    answer = client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["errors"]
    assert _written() == written


def test_a_refused_request_is_not_remembered_and_the_corrected_one_may_use_the_key(issuing):
    programme, _cast, client = issuing
    written = _written()
    bad = client.post(_url(programme), {"recipient_email": "not-an-address"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="fix-me")
    assert bad.status_code == 400 and _written() == written

    good = client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert good.status_code == 201 and Award.objects.count() == 1


def test_a_member_who_may_not_issue_gets_403_even_with_a_known_key(issuing):
    programme, cast, client = issuing
    client.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="mine")
    written = _written()
    editor = api_client(staff(cast.organisation, Role.EDITOR))
    assert editor.post(_url(programme), BODY, format="json", HTTP_IDEMPOTENCY_KEY="mine").status_code == 403
    assert _written() == written


def test_without_a_key_each_request_awards(issuing):
    programme, _cast, client = issuing
    assert client.post(_url(programme), BODY, format="json").status_code == 201
    assert client.post(_url(programme), BODY, format="json").status_code == 201
    assert Award.objects.count() == 2 and not IdempotencyKey.objects.exists()


def test_a_batch_retried_with_its_key_is_one_batch(issuing):
    programme, _cast, client = issuing
    url = f"/api/v1/programmes/{programme.public_id}/award-batches"
    rows = [{"email": f"l{i}@example.org"} for i in range(3)]
    first = client.post(url, rows, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = client.post(url, rows, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["public_id"] == first.json()["public_id"] and again["Idempotent-Replayed"] == "true"
    assert AwardBatch.objects.count() == 1
    other = client.post(url, rows[:2], format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert other.status_code == 422 and AwardBatch.objects.count() == 1


def test_the_schema_documents_the_header():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/programmes/{public_id}/awards", "/api/v1/programmes/{public_id}/award-batches"):
        post = schema["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
        assert "422" in post["responses"]
    assert "/api/v1/award-batches/{public_id}/restart" in schema["paths"]
