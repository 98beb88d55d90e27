"""The words people read for the audit trail's codes: the event's action (`application.submitted` →
"Application submitted" / 「申請を提出」) and the states it moved between (`in_review` → "In review").

The codes stay in the chain (they are hashed), in the API and in every machine output (JSON, CSV);
only pages for people show these words. The action words live beside the codes, as the labels of
`endorsement.audit.AuditAction`; the state words are the labels of each subject's own state choices.
An unknown code (a newer version's event read by an older one) is shown as it is.

In templates (`{% load audit %}`, registered in settings TEMPLATES "libraries"):

    {{ event.action|audit_action }}                      Application submitted
    {{ event|audit_state:"from" }} → {{ event|audit_state:"to" }}
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from endorsement.audit import AuditAction
from endorsement.models import (
    ApplicationState,
    ConcernState,
    EndorsementState,
    QualityReviewState,
    ReportStatus,
    TableStatus,
)
from institutions.models import InvitationState, MembershipState, Role

register = template.Library()

# The state choices of each subject type the trail records (AuditEvent.subject_type is the model name).
STATES: dict[str, type[models.Choices]] = {
    "application": ApplicationState,
    "endorsement": EndorsementState,
    "organisation": MembershipState,
    "staffmember": Role,
    "staffinvitation": InvitationState,
    "criteriatable": TableStatus,
    "issuancereport": ReportStatus,
    "qualityreview": QualityReviewState,
    "concern": ConcernState,
}


def action_label(code: str) -> str:
    """The words for an event code in the active language; the code itself if it is unknown."""
    if code in AuditAction.values:
        return str(AuditAction(code).label)
    return code


def state_label(subject_type: str, code: str) -> str:
    """The words for a state an event of `subject_type` recorded; the value itself if it is not a
    state of that subject (a few events record a role or a cycle there)."""
    choices = STATES.get(subject_type)
    if choices is not None and code in choices.values:
        return str(choices(code).label)
    return code


@register.filter
def audit_action(code: Any) -> str:
    return action_label(str(code or ""))


@register.filter
def audit_state(event: Any, which: str = "to") -> str:
    """`event|audit_state:"from"` or `event|audit_state:"to"`: the words for that state ("" if none)."""
    value = event.from_state if which == "from" else event.to_state
    return state_label(event.subject_type, value) if value else ""


@register.filter
def endorsement_state(code: Any) -> str:
    """`active` → "Active" / 「有効」: an endorsement's standing in words (the registry's pathway page)."""
    return state_label("endorsement", str(code or ""))
