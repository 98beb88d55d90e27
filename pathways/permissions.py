"""Who may define and change a pathway: owners and editors of its organisation; for a pathway of
the certification body itself, the body's managers."""

from __future__ import annotations

from typing import Any

from institutions.models import Organisation
from institutions.permissions import can_edit_for, is_manager


def can_edit_pathway(user: Any, organisation: Organisation) -> bool:
    if organisation.is_certification_body:
        return is_manager(user)
    return can_edit_for(user, organisation)
