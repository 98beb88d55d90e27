"""Who may do what: one place that answers role questions for services, views and the admin."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from institutions.models import BODY_ROLES, CAN_EDIT, CAN_ISSUE, Organisation, Role, StaffMember

UserLike = AbstractBaseUser | AnonymousUser


def staff_of(user: UserLike) -> StaffMember | None:
    """The user's staff membership, or None. Cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_staff_cache"):
        user._staff_cache = StaffMember.objects.select_related("organisation").filter(user=user).first()
    return user._staff_cache


def organisation_of(user: UserLike) -> Organisation | None:
    staff = staff_of(user)
    return staff.organisation if staff else None


def is_manager(user: UserLike) -> bool:
    """A manager of the certification body (or a superuser): assigns reviewers and decides."""
    if getattr(user, "is_superuser", False):
        return True
    staff = staff_of(user)
    return bool(staff and staff.organisation.is_certification_body and staff.role == Role.MANAGER)


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


def may_manage_staff(user: UserLike, organisation: Organisation) -> bool:
    """May invite, change the role of and remove this organisation's staff: its owners for a
    member organisation; the body's managers (and superusers) for the body's reviewers and managers."""
    if organisation.is_certification_body:
        return is_manager(user)
    staff = staff_of(user)
    return bool(staff and staff.organisation_id == organisation.pk and staff.role == Role.OWNER)
