"""A component programme losing its endorsement flags the pathways it belongs to for the managers.

Called by endorsement.services when a programme's endorsement is suspended, revoked or expires;
imports only the lower endorsement modules (audit, transitions), so that those services can call it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import NotPermitted, WrongState
from endorsement.audit import AuditAction, audit_record
from endorsement.transitions import notify
from institutions.permissions import is_manager
from pathways.models import Pathway


def flag_pathways_of(endorsement: Any, *, actor: Any = None) -> list[Pathway]:
    """Flag every pathway with the endorsement's programme as a component: set `flagged_at` and the
    reason, audit it and tell the managers and the pathway's organisation. A pathway already flagged
    gets the newer reason and one more event (each loss is worth knowing). Nothing for a pathway
    endorsement or a programme in no pathway."""
    if not getattr(endorsement, "programme_id", None):
        return []
    programme = endorsement.programme
    reason = f"{programme.name}: endorsement {endorsement.get_state_display()} ({endorsement.state})"
    flagged = []
    with transaction.atomic():
        ids = set(Pathway.objects.filter(components__programme_id=endorsement.programme_id)
                  .values_list("pk", flat=True))
        pathways = Pathway.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        for pathway in pathways:
            pathway.flagged_at = timezone.now()
            pathway.flag_reason = reason
            pathway.save(update_fields=["flagged_at", "flag_reason", "updated_at"])
            event = audit_record(actor=actor, action=AuditAction.PATHWAY_FLAGGED, subject=pathway, comment=reason,
                                 data={"programme": str(programme.public_id), "endorsement": str(endorsement.public_id),
                                       "state": endorsement.state})
            notify(event)
            flagged.append(pathway)
    return flagged


def pathway_clear_flag(*, actor: Any, pathway: Pathway, comment: str = "") -> Pathway:
    """A manager has looked at the flagged pathway: clear the flag (audited)."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body clear a pathway's flag."))
    with transaction.atomic():
        pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
        if pathway.flagged_at is None:
            raise WrongState(_("This pathway is not flagged."))
        previous = pathway.flag_reason
        pathway.flagged_at = None
        pathway.flag_reason = ""
        pathway.save(update_fields=["flagged_at", "flag_reason", "updated_at"])
        audit_record(actor=actor, action=AuditAction.PATHWAY_FLAG_CLEARED, subject=pathway, comment=comment,
                     data={"was": previous})
    return pathway
