"""Writes for organisations: the public membership application and the body's decisions on it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.errors import InvalidInput, NotPermitted
from config.fsm import check_transition
from institutions.models import (
    MembershipState,
    Organisation,
    RecipientNames,
    Role,
    StaffMember,
    is_manager,
    may_manage_staff,
)
from institutions.slugs import SLUG_MAX, slug_from_name
from institutions.staff import staff_add  # noqa: F401  (the demo data adds staff through here)

ORGANISATION_FIELDS = [
    "name", "name_ja", "kind", "description", "website", "country", "contact_name", "contact_email",
    "contact_phone",
]


def _unique_slug(base: str) -> str:
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# An organisation in one of these states has applied or is a member: a second application under
# the same name is a duplicate. (Rejected or withdrawn, it may apply again.)
LIVE_MEMBERSHIPS = [MembershipState.APPLIED, MembershipState.ACTIVE, MembershipState.SUSPENDED]


def _check_not_duplicate(name: str, name_ja: str) -> None:
    live = Organisation.objects.filter(membership__in=LIVE_MEMBERSHIPS)
    for field, value in (("name", name), ("name_ja", name_ja)):
        value = (value or "").strip()
        if not value:
            continue
        existing = live.filter(**{f"{field}__iexact": value}).first()
        if existing is None and field == "name":
            existing = live.filter(name_ja__iexact=value).first()
        if existing is not None:
            if existing.membership == MembershipState.APPLIED:
                message = _("%(name)s has already applied; its application is waiting for the body's decision. "
                            "Ask the person who applied, or the body, rather than applying twice.")
            else:
                message = _("%(name)s is already a member. Ask its owners to invite you to its staff.")
            message = message % {"name": value}
            raise InvalidInput(message, field_errors={field: [message]})


def _chosen_slug(slug: str) -> str:
    """A slug the applicant typed: well-formed and free, or a 400 on `slug`."""
    if slug != slugify(slug) or len(slug) > SLUG_MAX:
        message = _("Use lower-case letters, digits and hyphens only (at most %(n)d).") % {"n": SLUG_MAX}
        raise InvalidInput(message, field_errors={"slug": [message]})
    if Organisation.objects.filter(slug=slug).exists():
        message = _("This short name is taken: choose another.")
        raise InvalidInput(message, field_errors={"slug": [message]})
    return slug


@transaction.atomic
def organisation_apply(*, data: dict[str, Any], owner: dict[str, str] | None = None) -> Organisation:
    """Anyone applies for membership. Creates the organisation (state `applied`) and, if given, its
    first owner's login (inactive until the body approves). Managers are told.

    `data["slug"]` names the organisation in its addresses and DID; when empty it is derived from
    the name (a Japanese name romanised). A second application of an organisation that has applied
    or is a member (same name, English or Japanese) is refused."""
    from endorsement.audit import AuditAction, audit_record
    from endorsement.services import notify

    # One application at a time: the duplicate check below then sees every earlier one.
    Organisation.objects.select_for_update().filter(is_certification_body=True).first()
    organisation = Organisation(**{k: v for k, v in data.items() if k in ORGANISATION_FIELDS})
    _check_not_duplicate(organisation.name, organisation.name_ja)
    chosen = (data.get("slug") or "").strip()
    organisation.slug = (_chosen_slug(chosen) if chosen
                         else _unique_slug(slug_from_name(organisation.name, organisation.name_ja)))
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
    registry_refresh_on_commit(organisation=organisation)  # the registry shows each member's standing
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


@transaction.atomic
def organisation_recipient_names_set(*, actor: Any, organisation: Organisation, value: str) -> Organisation:
    """The organisation's owners choose how learners' names appear in the badges it signs from now
    on (`RecipientNames`: include, the default; hash; omit). Badges signed before keep what they
    carry. Audited; refused with a field message (nothing written) for another value, or for anyone
    but its owners."""
    from endorsement.audit import AuditAction, audit_record

    if not may_manage_staff(actor, organisation) or organisation.is_certification_body:
        raise NotPermitted(_("Only the organisation's owners choose what its badges say about learners."))
    if value not in RecipientNames.values:
        message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(RecipientNames.values)}
        raise InvalidInput(message, field_errors={"recipient_names": [message]})
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = locked.recipient_names
    if before != value:
        locked.recipient_names = value
        locked.save(update_fields=["recipient_names"])
        audit_record(actor=actor, action=AuditAction.ORGANISATION_RECIPIENT_NAMES_SET, subject=locked,
                     data={"recipient_names": value, "before": before})
    organisation.recipient_names = value
    return locked


def organisation_logo_size_check(size: int) -> None:
    """InvalidInput on `logo` for a logo over MAX_LOGO_BYTES (an upload is refused before it is read)."""
    limit = settings.MAX_LOGO_BYTES
    if size > limit:
        message = _("The logo is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{size:,}", "limit": f"{limit:,}"}
        raise InvalidInput(_("The logo was refused."), field_errors={"logo": [message]})


def organisation_logo_checked(data: bytes) -> Any:
    """The logo as it will be stored: a PNG as sent, an SVG written back out from its parsed tree
    (badges.images: no scripts, event handlers or outside references, or it is refused), at most
    MAX_LOGO_BYTES. InvalidInput on the field `logo` otherwise."""
    from badges.images import ImageError, check_image

    organisation_logo_size_check(len(data))
    try:
        return check_image(data)
    except ImageError as error:
        raise InvalidInput(_("The logo was refused."), field_errors={"logo": [str(error)]}) from None


# What the public registry shows of an organisation besides its standing (its entries and its
# profile): a correction of one of these renders its entries again.
REGISTRY_DETAILS = frozenset({"name", "name_ja", "kind", "description", "website", "country"})


def organisation_details_corrected(*, organisation: Organisation, fields: Iterable[str]) -> bool:
    """The body's managers corrected `fields` of the organisation's details (the admin saves the row
    in this transaction). When the registry shows one of them, its entries are noted and rendered
    again once the transaction commits: the registry refreshes by change, and a rename is one.
    True when a refresh was asked for."""
    from endorsement.registry import registry_refresh_on_commit

    if not REGISTRY_DETAILS.intersection(fields):
        return False
    registry_refresh_on_commit(organisation=organisation)
    return True


@transaction.atomic
def organisation_set_logo(*, actor: Any, organisation: Organisation, data: bytes | None) -> Organisation:
    """Set (or, with None, remove) the organisation's logo. The body's managers, for any organisation;
    an organisation's owners, for their own. Audited with the stored file's SHA-256. Refused with a
    field message and nothing written for anything but a PNG or a safe SVG within MAX_LOGO_BYTES."""
    import hashlib

    from django.core.files.base import ContentFile

    from endorsement.audit import AuditAction, audit_record
    from endorsement.registry import registry_refresh_on_commit

    if not (is_manager(actor) or (may_manage_staff(actor, organisation) and not organisation.is_certification_body)):
        raise NotPermitted(_("Only the organisation's owners, or managers of the body, change its logo."))
    checked = organisation_logo_checked(data) if data is not None else None
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = locked.logo.name
    digest = hashlib.sha256(checked.content).hexdigest() if checked else ""
    if checked is not None:
        locked.logo.save(f"{locked.slug}-{digest[:16]}.{checked.extension}", ContentFile(checked.content), save=False)
    else:
        locked.logo = ""
    locked.save(update_fields=["logo"])
    audit_record(actor=actor, action=AuditAction.ORGANISATION_LOGO_SET, subject=locked,
                 data={"logo": locked.logo.name, "sha256": digest, "before": before})
    if not locked.is_certification_body:
        registry_refresh_on_commit(organisation=locked)  # its registry page shows the logo
    organisation.logo = locked.logo
    return locked


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
