"""The migration that makes notifications an outbox marks every row written before it as sent
(those rows were written when their mail went out): the sweep must never mail them again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("endorsement", "0007_renewals_changes_superseded_scheduled")
AFTER = ("endorsement", "0008_notification_outbox")

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_rows_written_before_the_outbox_become_sent_and_the_sweep_leaves_them_alone():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps.get_model("endorsement", "Notification")
        sent_at = timezone.now() - timedelta(days=3)
        row = old.objects.create(key="audit:1", recipients=["a@example.org"], subject="Old mail")
        old.objects.filter(pk=row.pk).update(sent_at=sent_at)

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("endorsement", "Notification")
        migrated = new.objects.get(pk=row.pk)
        assert migrated.state == "sent" and migrated.sent_at == sent_at and migrated.created_at == sent_at
        assert new._meta.get_field("state").default == "pending"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    from endorsement.models import Notification
    from endorsement.outbox import notifications_send_pending

    assert notifications_send_pending(now=timezone.now() + timedelta(days=1)) == 0
    assert Notification.objects.get(key="audit:1").state == Notification.State.SENT
