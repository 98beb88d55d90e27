"""With a real Redis broker and a real Celery worker process: an award issued here enqueues its
webhook after commit, the worker (not this process) signs and POSTs it to a receiver on loopback,
and a replay goes through the worker with the same webhook-id."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from badges.awards import award_issue
from institutions.models import Role
from tests.factories import awarding_setup, staff
from tests.integration.test_celery_worker import broker, worker  # noqa: F401 - the fixtures
from tests.webhooks.receiver import receiver
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]
WAIT_SECONDS = 30


def _wait(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text(errors='replace')}"
        time.sleep(0.2)


def test_the_worker_delivers_a_signed_webhook_and_replays_it(worker: Path):  # noqa: F811
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        _endpoint, secret = services.endpoint_create(actor=owner, organisation=cast.organisation, url=ours.url(),
                                                     events=["award.issued"])
        award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
        _wait(lambda: len(ours.received) == 1, "the worker did not deliver the webhook", worker)
        payload = ours.verified(secret)[0]
        assert payload["type"] == "award.issued" and payload["data"]["award"]["id"] == str(award.public_id)
        delivery = WebhookDelivery.objects.get()
        _wait(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, state="delivered").exists(),
              "the delivery was not marked delivered", worker)

        services.delivery_replay(actor=owner, delivery=delivery)
        _wait(lambda: len(ours.received) == 2, "the worker did not replay the webhook", worker)
        assert ours.ids() == [delivery.webhook_id] * 2
        assert "Task webhooks.tasks.deliver_webhook[" in worker.read_text(errors="replace")
