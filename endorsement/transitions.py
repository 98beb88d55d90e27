"""The lower pieces every endorsement service uses: lock a row, take one audited transition, and
register the notification and registry refresh it causes. `endorsement.services` and
`endorsement.renewals` both build on this module; it imports neither."""

from __future__ import annotations

from typing import Any

from django.db import models

from config.fsm import check_transition
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.models import Endorsement, RegistryChange


def locked(model: type[models.Model], pk: int) -> Any:
    return model.objects.select_for_update().get(pk=pk)


def run_transition(
    instance: models.Model,
    name: str,
    *,
    actor: Any,
    action: AuditAction,
    comment: str = "",
    data: dict[str, Any] | None = None,
    field: str = "state",
):
    """Check, take and record one transition on a row already locked by the caller."""
    check_transition(instance, name, actor)
    before = getattr(instance, field)
    getattr(instance, name)()
    instance.save()
    event = audit_record(
        actor=actor, action=action, subject=instance, from_state=before,
        to_state=getattr(instance, field), comment=comment, data=data,
    )
    notify(event)
    return event


def notify(event) -> None:
    """Write the mail the event causes in this transaction (the outbox) and send it after commit;
    if that send never happens, the outbox sweep does it."""
    from endorsement.notifications import notification_write_for

    if notification_write_for(event) is not None:
        enqueue_on_commit("endorsement.tasks.send_notification", event.pk)


def refresh_registry_on_commit(*endorsements: Endorsement) -> None:
    """Note the programmes of `endorsements` for the registry (endorsement.registry) and refresh it
    after commit: only their entries are rendered again. A pathway's endorsement notes nothing (the
    pathways are rendered on every refresh); with no endorsement named, everything is rendered."""
    if endorsements:
        RegistryChange.objects.bulk_create([RegistryChange(programme_id=pk) for pk in
                                            sorted({e.programme_id for e in endorsements if e.programme_id})])
    else:
        RegistryChange.objects.create(programme_id=None)
    enqueue_on_commit("endorsement.tasks.refresh_registry")
