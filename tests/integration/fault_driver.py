"""Run by the PostgreSQL-restart fault test in a process of its own, on the test's private
cluster: `python -m tests.integration.fault_driver ROWS EVIDENCE_BASE` walks a programme to a
published endorsement (tasks eager, in this process), then switches to the private broker and
uploads a batch of ROWS through the batch service; prints the batch's id. The worker does the rest."""

from __future__ import annotations

import os
import sys


def main() -> None:
    rows, evidence_base = int(sys.argv[1]), sys.argv[2]
    broker = os.environ.pop("CELERY_BROKER_URL")  # eager while setting up; the broker for the batch
    import django

    django.setup()
    from badges.batches import award_batch_create, rows_from_json
    from config.celery import app
    from tests.factories import awarding_setup

    programme, _application, _cast, issuer = awarding_setup()
    app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=os.environ["FAULT_QUEUE"])
    app._pool = None
    app.amqp._producer_pool = None
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json([
        {"email": f"learner{i}@example.org", "name": f"Learner {i}", "evidence_url": f"{evidence_base}/work/{i}"}
        for i in range(rows)]))
    print(batch.pk, flush=True)


if __name__ == "__main__":
    main()
