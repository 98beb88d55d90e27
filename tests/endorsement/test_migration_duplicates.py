"""The migration that adds "one active endorsement per programme": a database from before it may
hold two active endorsements of one programme (the bug it fixes). The older one ends as superseded,
linked to the newer, with an audit event that keeps the chain whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from endorsement.audit import audit_verify
from endorsement.models import ApplicationState, AuditEvent, Endorsement
from tests.factories import application_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
BEFORE = [("endorsement", "0006_audit_checkpoint")]
AFTER = [("endorsement", "0007_renewals_changes_superseded_scheduled")]


def test_two_active_endorsements_of_one_programme_are_made_one_chain():
    first_app, cast = application_in(ApplicationState.PUBLISHED)
    first = Endorsement.objects.get(application=first_app)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old_apps = executor.loader.project_state(BEFORE).apps
        OldEndorsement = old_apps.get_model("endorsement", "Endorsement")
        OldApplication = old_apps.get_model("endorsement", "Application")
        template = OldApplication.objects.get(pk=first_app.pk)
        second_app = OldApplication.objects.create(
            programme_id=template.programme_id, organisation_id=template.organisation_id, state="published",
            created_by_id=template.created_by_id, snapshot=template.snapshot,
            snapshot_sha256=template.snapshot_sha256, criteria_table_id=template.criteria_table_id)
        later = timezone.now() + timedelta(days=1)
        second_pk = OldEndorsement.objects.create(
            application_id=second_app.pk, programme_id=template.programme_id,
            organisation_id=template.organisation_id, state="active", valid_from=later,
            valid_until=later + timedelta(days=1095), decided_by_id=cast.manager.pk).pk
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    first.refresh_from_db()
    second = Endorsement.objects.get(pk=second_pk)
    assert (first.state, second.state, second.predecessor_id) == ("superseded", "active", first.pk)
    assert first.state_changed_at == second.valid_from
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.subject_id, event.to_state) == ("endorsement.superseded", str(first.pk), "superseded")
    assert audit_verify().ok
