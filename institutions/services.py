"""Writes for organisations: the public membership application and the body's decisions on it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.errors import InvalidInput
from config.fsm import check_transition
from institutions.models import MembershipState, Organisation, Role, StaffMember
from institutions.staff import staff_add  # noqa: F401  (the demo data adds staff through here)

ORGANISATION_FIELDS = [
    "name", "name_ja", "kind", "description", "website", "country", "contact_name", "contact_email",
    "contact_phone",
]


def _unique_slug(base: str) -> str:
    base = slugify(base)[:70] or "organisation"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def organisation_apply(*, data: dict[str, Any], owner: dict[str, str] | None = None) -> Organisation:
    """Anyone applies for membership. Creates the organisation (state `applied`) and, if given, its
    first owner's login (inactive until the body approves). Managers are told."""
    from endorsement.audit import AuditAction, audit_record
    from endorsement.services import notify

    organisation = Organisation(**{k: v for k, v in data.items() if k in ORGANISATION_FIELDS})
    organisation.slug = _unique_slug(data.get("slug") or organisation.name)
    organisation.save()
    if owner:
        user_model = get_user_model()
        if user_model.objects.filter(username=owner["username"]).exists():
            raise InvalidInput(_("That username is taken."), field_errors={"username": [_("That username is taken.")]})
        user = user_model.objects.create_user(
            username=owner["username"], email=owner.get("email", organisation.contact_email),
            password=owner["password"], is_active=False,
        )
        StaffMember.objects.create(user=user, organisation=organisation, role=Role.OWNER)
    event = audit_record(actor=None, action=AuditAction.ORGANISATION_APPLIED, subject=organisation,
                         to_state=organisation.membership)
    notify(event)
    return organisation


def _membership_transition(
    organisation: Organisation, name: str, *, actor: Any, comment: str, action: Any
) -> Organisation:
    from endorsement.registry import registry_refresh_on_commit
    from endorsement.services import locked, run_transition

    organisation = locked(Organisation, organisation.pk)
    check_transition(organisation, name, actor)
    organisation.membership_changed_at = timezone.now()
    run_transition(organisation, name, actor=actor, action=action, comment=comment, field="membership")
    # Approval activates the logins created with the application; any other change leaves them.
    if organisation.membership == MembershipState.ACTIVE:
        get_user_model().objects.filter(staff__organisation=organisation).update(is_active=True)
    registry_refresh_on_commit()  # the registry shows each member's standing
    return organisation


@transaction.atomic
def organisation_approve(*, actor: Any, organisation: Organisation, comment: str = "") -> Organisation:
    from endorsement.audit import AuditAction

    return _membership_transition(organisation, "approve", actor=actor, comment=comment,
                                  action=AuditAction.ORGANISATION_APPROVED)


@transaction.atomic
def organisation_reject(*, actor: Any, organisation: Organisation, comment: str) -> Organisation:
    from endorsement.audit import AuditAction

    if not comment.strip():
        raise InvalidInput(_("Give the reason."), field_errors={"comment": [_("This field is required.")]})
    return _membership_transition(organisation, "reject", actor=actor, comment=comment,
                                  action=AuditAction.ORGANISATION_REJECTED)


@transaction.atomic
def organisation_suspend(*, actor: Any, organisation: Organisation, comment: str) -> Organisation:
    from endorsement.audit import AuditAction

    if not comment.strip():
        raise InvalidInput(_("Give the reason."), field_errors={"comment": [_("This field is required.")]})
    return _membership_transition(organisation, "suspend", actor=actor, comment=comment,
                                  action=AuditAction.ORGANISATION_SUSPENDED)


@transaction.atomic
def organisation_reinstate(*, actor: Any, organisation: Organisation, comment: str = "") -> Organisation:
    from endorsement.audit import AuditAction

    return _membership_transition(organisation, "reinstate", actor=actor, comment=comment,
                                  action=AuditAction.ORGANISATION_REINSTATED)


@transaction.atomic
def organisation_withdraw(*, actor: Any, organisation: Organisation, comment: str = "") -> Organisation:
    from endorsement.audit import AuditAction

    return _membership_transition(organisation, "withdraw", actor=actor, comment=comment,
                                  action=AuditAction.ORGANISATION_WITHDRAWN)


def login_refusal_reason(username: str, password: str) -> str | None:
    """Why a correct username and password still cannot log in, when the reason is the
    organisation's membership (the logins of an application wait for the body's approval). None
    for a wrong password, an unknown user or any other reason: those get the usual message, so a
    guesser learns nothing."""
    user = get_user_model().objects.filter(username=username, is_active=False).first()
    if user is None or not user.check_password(password):
        return None
    staff = StaffMember.objects.select_related("organisation").filter(user=user).first()
    if staff is None:
        return None
    if staff.organisation.membership == MembershipState.APPLIED:
        return _("Your organisation's membership application is still waiting for the body's decision. "
                 "You can log in once it is approved; you will be told by e-mail.")
    if staff.organisation.membership == MembershipState.REJECTED:
        return _("Your organisation's membership application was rejected, so its logins cannot be used.")
    return None
