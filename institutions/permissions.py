"""Who may do what: one place that answers role questions for services, views and the admin."""

from __future__ import annotations

from institutions.models import (  # noqa: F401 (re-exports the role questions)
    BODY_ROLES,
    CAN_EDIT,
    CAN_ISSUE,
    Organisation,
    Role,
    StaffMember,
    UserLike,
    is_manager,
    may_manage_staff,
    staff_of,
)


def organisation_of(user: UserLike) -> Organisation | None:
    staff = staff_of(user)
    return staff.organisation if staff else None


def is_body_staff(user: UserLike) -> bool:
    """Reviewers and managers of the certification body: the people who may be assigned reviews."""
    staff = staff_of(user)
    return bool(staff and staff.organisation.is_certification_body and staff.role in BODY_ROLES)


def can_edit_for(user: UserLike, organisation: Organisation) -> bool:
    """May draft, edit, submit and withdraw this organisation's programmes and applications."""
    staff = staff_of(user)
    return bool(staff and staff.organisation_id == organisation.pk and staff.role in CAN_EDIT)


def can_issue_for(user: UserLike, organisation: Organisation) -> bool:
    staff = staff_of(user)
    return bool(staff and staff.organisation_id == organisation.pk and staff.role in CAN_ISSUE)


def is_member_of(user: UserLike, organisation: Organisation) -> bool:
    staff = staff_of(user)
    return bool(staff and staff.organisation_id == organisation.pk)

