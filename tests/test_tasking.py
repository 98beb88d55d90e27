"""Sending a task after commit never fails what committed (config.tasking): with the broker
unreachable the award is made, the answer says so, and the work waits for the recovery sweeps."""

import logging

import pytest

from badges.models import Award, AwardBatch
from config.celery import app
from config.tasking import enqueue_on_commit
from endorsement.models import Notification
from tests.factories import api_client, awarding_setup
from tests.integration.faults import broker_of_this_process

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
# Nothing listens on port 1 of the loopback: every connection is refused at once.
UNREACHABLE = "redis://127.0.0.1:1/0"


def test_with_the_broker_unreachable_an_award_is_answered_201_and_its_mail_waits_in_the_outbox(caplog):
    programme, _application, _cast, issuer = awarding_setup()
    client = api_client(issuer)
    with broker_of_this_process(UNREACHABLE, "unreachable"), caplog.at_level(logging.ERROR, "config.tasking"):
        answer = client.post(f"/api/v1/programmes/{programme.public_id}/awards",
                             {"recipient_email": "ada@example.org"}, format="json")
        batch = client.post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                            [{"email": "bob@example.org"}], format="json")
    assert answer.status_code == 201, answer.content
    award = Award.objects.get(public_id=answer.json()["public_id"])
    assert Notification.objects.get(key=f"award-issued:{award.public_id}").state == Notification.State.PENDING
    assert batch.status_code == 201
    assert AwardBatch.objects.get(public_id=batch.json()["public_id"]).state == AwardBatch.State.PENDING
    assert "the recovery sweep will do it" in caplog.text


@app.task(name="tests.test_tasking.broken")
def broken() -> None:
    raise ValueError("broken task")


def test_with_no_broker_a_failing_task_still_shows_its_error():
    assert app.conf.task_always_eager
    from django.db import transaction

    with pytest.raises(ValueError, match="broken task"), transaction.atomic():
        enqueue_on_commit("tests.test_tasking.broken")
