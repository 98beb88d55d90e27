"""Writes for an organisation's staff: invitations by e-mail, accepting one, changing roles, removing.

Who: a member organisation's owners manage its staff (owner, editor, issuer); the body's managers
manage the body's staff (reviewer, manager). Every operation locks the organisation's row first, so
the rule "an organisation keeps at least one owner (the body: one manager)" is checked against the
staff as it is once the concurrent operations before this one have committed: two owners demoting
each other at the same moment cannot both succeed.

One login belongs to one organisation (docs/architecture.md): accepting an invitation creates a new
login. Removing a member deletes the staff row and deactivates the login (its API token too); the
login itself is kept, so what it did (awards, decisions, the audit trail) still names it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from config.fsm import check_transition
from config.tasking import enqueue_on_commit
from institutions.models import (
    BODY_ROLES,
    MEMBER_ROLES,
    InvitationState,
    Organisation,
    Role,
    StaffInvitation,
    StaffMember,
)
from institutions.permissions import may_manage_staff


def token_digest(token: str) -> str:
    """What is stored of an invitation's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.SITE_URL}/invitations/{token}/"


def roles_for(organisation: Organisation) -> list[str]:
    """The roles staff of this organisation may have, highest first."""
    order = [Role.MANAGER, Role.REVIEWER] if organisation.is_certification_body else [
        Role.OWNER, Role.EDITOR, Role.ISSUER]
    return [r.value for r in order]


def top_role(organisation: Organisation) -> str:
    """The role an organisation must always keep one of: owner (a member), manager (the body)."""
    return Role.MANAGER if organisation.is_certification_body else Role.OWNER


def _audit(**kwargs: Any) -> Any:
    from endorsement.audit import audit_record

    return audit_record(**kwargs)


def _actions() -> Any:
    from endorsement.audit import AuditAction

    return AuditAction


def _lock_organisation(organisation: Organisation) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation.pk)


def _check_manager(actor: Any, organisation: Organisation) -> None:
    if not may_manage_staff(actor, organisation):
        if organisation.is_certification_body:
            raise NotPermitted(_("Only the body's managers manage its reviewers and managers."))
        raise NotPermitted(_("Only the organisation's owners manage its staff."))


def _check_role(organisation: Organisation, role: str) -> None:
    allowed = roles_for(organisation)
    if role not in allowed:
        labels = ", ".join(str(Role(r).label) for r in allowed)
        message = _("Choose one of: %(roles)s.") % {"roles": labels}
        raise InvalidInput(_("This role does not exist in this organisation."), field_errors={"role": [message]})


def _keeps_top_role(member: StaffMember, *, new_role: str | None) -> None:
    """Refuse to demote or remove the organisation's last owner (the body's last manager). The
    caller holds the organisation's row lock, so the count cannot change under us."""
    top = top_role(member.organisation)
    if member.role != top or new_role == top:
        return
    others = StaffMember.objects.filter(organisation=member.organisation, role=top, user__is_active=True) \
        .exclude(pk=member.pk).exists()
    if not others:
        if top == Role.OWNER:
            raise WrongState(_("The organisation must keep at least one owner: make someone else an owner first."))
        raise WrongState(_("The body must keep at least one manager: make someone else a manager first."))


def _member_in(organisation: Organisation, member_id: int) -> StaffMember:
    member = (StaffMember.objects.select_for_update(of=("self",)).select_related("user", "organisation")
              .filter(pk=member_id, organisation=organisation).first())
    if member is None:
        raise NotFound(_("No such staff member."))
    return member


# --- Invitations ----------------------------------------------------------------------------------
@transaction.atomic
def staff_invite(*, actor: Any, organisation: Organisation, email: str, role: str) -> tuple[StaffInvitation, str]:
    """Invite `email` to join the organisation's staff in `role`. Returns the invitation and its
    token (the only moment the token exists outside the e-mail). The e-mail with the link is sent
    after commit. A pending invitation to the same address is refused; an expired one is closed."""
    organisation = _lock_organisation(organisation)
    _check_manager(actor, organisation)
    _check_role(organisation, role)
    email = (email or "").strip()
    if not email:
        raise InvalidInput(_("Give the e-mail address."), field_errors={"email": [_("This field is required.")]})
    if not (organisation.is_certification_body or organisation.is_active_member):
        raise WrongState(_("Only an active member organisation can invite staff."))
    if StaffMember.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        message = _("Someone with this e-mail address is already on the staff.")
        raise InvalidInput(message, field_errors={"email": [message]})
    pending = StaffInvitation.objects.select_for_update().filter(
        organisation=organisation, email__iexact=email, state=InvitationState.PENDING).first()
    if pending is not None:
        if not pending.has_expired:
            message = _("This address already has a pending invitation: revoke it to send a new one.")
            raise InvalidInput(message, field_errors={"email": [message]})
        _close_expired(pending)
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation.objects.create(
        organisation=organisation, email=email, role=role, token_sha256=token_digest(token),
        invited_by=actor if getattr(actor, "pk", None) else None,
        expires_at=timezone.now() + timedelta(days=settings.STAFF_INVITATION_DAYS),
    )
    _audit(actor=actor, action=_actions().STAFF_INVITED, subject=invitation, to_state=invitation.state,
           data={"organisation": organisation.slug, "email": email, "role": role,
                 "expires_at": invitation.expires_at.isoformat()})
    # The token travels only to the mail task; the database keeps its hash.
    enqueue_on_commit("institutions.tasks.send_staff_invitation", invitation.pk, token)
    return invitation, token


def _close_expired(invitation: StaffInvitation) -> None:
    check_transition(invitation, "expire", None)
    before = invitation.state
    invitation.expire()
    invitation.decided_at = timezone.now()
    invitation.save()
    _audit(actor=None, action=_actions().STAFF_INVITATION_EXPIRED, subject=invitation, from_state=before,
           to_state=invitation.state)


@transaction.atomic
def staff_invitation_revoke(*, actor: Any, invitation: StaffInvitation) -> StaffInvitation:
    """Withdraw a pending invitation: its link stops working."""
    _lock_organisation(invitation.organisation)
    invitation = StaffInvitation.objects.select_for_update().select_related("organisation").get(pk=invitation.pk)
    check_transition(invitation, "revoke", actor)
    before = invitation.state
    invitation.revoke()
    invitation.decided_at = timezone.now()
    invitation.save()
    _audit(actor=actor, action=_actions().STAFF_INVITATION_REVOKED, subject=invitation, from_state=before,
           to_state=invitation.state, data={"email": invitation.email})
    return invitation


def invitation_for_token(token: str) -> StaffInvitation:
    """The invitation a link's token names, in any state; NotFound for a token nobody issued."""
    invitation = (StaffInvitation.objects.select_related("organisation")
                  .filter(token_sha256=token_digest(token or "")).first())
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    return invitation


def invitation_problem(invitation: StaffInvitation) -> str | None:
    """Why this invitation cannot be accepted now, in words for the person holding the link."""
    if invitation.state == InvitationState.ACCEPTED:
        return _("This invitation has already been used. Log in with the login it created.")
    if invitation.state == InvitationState.REVOKED:
        return _("This invitation was withdrawn by the organisation.")
    if invitation.state == InvitationState.EXPIRED or invitation.has_expired:
        return _("This invitation has expired: ask for a new one.")
    if not invitation.organisation_is_active():
        return _("The organisation's membership is not active.")
    return None


@transaction.atomic
def staff_invitation_accept(*, token: str, username: str, password: str) -> StaffMember:
    """The person invited accepts: a new login (`username`, `password`) joins the organisation's
    staff in the invited role. Single use: the invitation is then `accepted`. Refused for an
    expired, revoked or used invitation (409), a taken username or a weak password (400)."""
    found = invitation_for_token(token)
    organisation = _lock_organisation(found.organisation)
    invitation = StaffInvitation.objects.select_for_update().get(pk=found.pk)
    invitation.organisation = organisation
    problem = invitation_problem(invitation)
    if problem:
        raise WrongState(problem)
    check_transition(invitation, "accept", None)
    user_model = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("This field is required.")]
    else:
        try:
            user_model.username_validator(username)
        except ValidationError as error:
            errors["username"] = list(error.messages)
        else:
            if user_model.objects.filter(username__iexact=username).exists():
                errors["username"] = [_("That username is taken.")]
    try:
        validate_password(password or "", user_model(username=username, email=invitation.email))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise InvalidInput(_("Invalid input."), field_errors=errors)
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username, email=invitation.email, password=password,
                is_staff=organisation.is_certification_body,
            )
    except IntegrityError:  # taken by a concurrent request since the check above
        raise InvalidInput(_("That username is taken."), field_errors={"username": [_("That username is taken.")]}) \
            from None
    member = StaffMember.objects.create(user=user, organisation=organisation, role=invitation.role)
    before = invitation.state
    invitation.accept()
    invitation.decided_at = timezone.now()
    invitation.accepted_user = user
    invitation.save()
    _audit(actor=user, action=_actions().STAFF_INVITATION_ACCEPTED, subject=invitation, from_state=before,
           to_state=invitation.state,
           data={"organisation": organisation.slug, "username": username, "role": invitation.role,
                 "staff_member": member.pk})
    return member


# --- Staff ----------------------------------------------------------------------------------------
@transaction.atomic
def staff_add(*, actor: Any, organisation: Organisation, username: str, email: str, password: str,
              role: str) -> StaffMember:
    """An owner (or a manager) adds a login with a password they choose (the invitation is the
    usual way; this one serves the demo data and organisations that hand out logins themselves)."""
    from institutions.permissions import is_manager

    organisation = _lock_organisation(organisation)
    if not (may_manage_staff(actor, organisation) or is_manager(actor)):
        raise NotPermitted(_("Only the organisation's owners add staff."))
    allowed = {r.value for r in (BODY_ROLES if organisation.is_certification_body else MEMBER_ROLES)}
    if role not in allowed:
        choices = _("Choose one of: %(r)s.") % {"r": ", ".join(sorted(allowed))}
        raise InvalidInput(_("Unknown role."), field_errors={"role": [choices]})
    user_model = get_user_model()
    if not username or user_model.objects.filter(username__iexact=username).exists():
        raise InvalidInput(_("That username is taken."), field_errors={"username": [_("That username is taken.")]})
    try:
        validate_password(password or "", user_model(username=username, email=email))
    except ValidationError as error:
        raise InvalidInput(_("Invalid input."), field_errors={"password": list(error.messages)}) from None
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username, email=email, password=password,
                is_staff=organisation.is_certification_body,
                is_active=organisation.is_certification_body or organisation.is_active_member,
            )
    except IntegrityError:
        raise InvalidInput(_("That username is taken."), field_errors={"username": [_("That username is taken.")]}) \
            from None
    member = StaffMember.objects.create(user=user, organisation=organisation, role=role)
    _audit(actor=actor, action=_actions().STAFF_ADDED, subject=member, to_state=role,
           data={"organisation": organisation.slug, "username": username, "role": role})
    return member


@transaction.atomic
def staff_change_role(*, actor: Any, organisation: Organisation, member_id: int, role: str) -> StaffMember:
    """Give a staff member another role. The last owner (the body: manager) keeps theirs."""
    organisation = _lock_organisation(organisation)
    _check_manager(actor, organisation)
    member = _member_in(organisation, member_id)
    _check_role(organisation, role)
    if member.role == role:
        return member
    _keeps_top_role(member, new_role=role)
    before = member.role
    member.role = role
    member.save(update_fields=["role"])
    _audit(actor=actor, action=_actions().STAFF_ROLE_CHANGED, subject=member, from_state=before, to_state=role,
           data={"organisation": organisation.slug, "username": member.user.get_username()})
    return member


@transaction.atomic
def staff_remove(*, actor: Any, organisation: Organisation, member_id: int) -> None:
    """Take someone off the staff: the staff row goes, the login is deactivated and its API token
    deleted (the login stays, so that what it did keeps its name). Never the last owner."""
    from rest_framework.authtoken.models import Token

    organisation = _lock_organisation(organisation)
    _check_manager(actor, organisation)
    member = _member_in(organisation, member_id)
    _keeps_top_role(member, new_role=None)
    user = member.user
    _audit(actor=actor, action=_actions().STAFF_REMOVED, subject=member, from_state=member.role,
           data={"organisation": organisation.slug, "username": user.get_username(), "user_id": user.pk})
    member.delete()
    user.is_active = False
    user.save(update_fields=["is_active"])
    Token.objects.filter(user=user).delete()


# --- The language of a staff member's mails -------------------------------------------------------
def _language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def staff_language_set(*, actor: Any, language: str) -> StaffMember:
    """The caller chooses the language of the mails they get ("" for the language they sign in
    with). Refused with a field message (nothing written) for another value, or for a login with
    no staff membership."""
    if language not in ("", *_language_codes()):
        message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(_language_codes())}
        raise InvalidInput(message, field_errors={"language": [message]})
    member = StaffMember.objects.select_for_update().filter(user_id=getattr(actor, "pk", None)).first()
    if member is None:
        raise NotPermitted(_("Only staff of an organisation or of the body choose a language for mails here."))
    if member.language != language:
        member.language = language
        member.save(update_fields=["language"])
    return member


def staff_sign_in_language_note(user: Any, language: str | None) -> None:
    """At sign-in: remember its language for the mails of someone who chose none (a login with no
    staff membership, or an unknown language, is left alone)."""
    if language in _language_codes():
        StaffMember.objects.filter(user_id=getattr(user, "pk", None)).exclude(
            sign_in_language=language).update(sign_in_language=language)


def staff_mail_languages(emails: list[str]) -> dict[str, str]:
    """The mail language of each of these addresses that is a staff member's (case-folded address →
    code, one query); an address that is nobody's login (an organisation's contact address) is not
    in it. Two logins with one address: the language of the first."""
    folded = {e.strip().lower() for e in emails if e}
    found: dict[str, str] = {}
    rows = (StaffMember.objects.filter(user__email__in=[e for e in emails if e]).order_by("pk")
            .values_list("user__email", "language", "sign_in_language"))
    for email, chosen, signed_in in rows:
        found.setdefault(email.strip().lower(), chosen or signed_in or settings.LANGUAGE_CODE)
    return {k: v for k, v in found.items() if k in folded}


def staff_mail_groups(emails: Iterable[str]) -> list[tuple[str, list[str]]]:
    """These addresses grouped by the language their mails are written in (`staff_mail_languages`;
    an address that is nobody's login, the site's), the site's language first, each group sorted:
    one mail per group."""
    unique = sorted({e for e in emails if e})
    languages = staff_mail_languages(unique)
    groups: dict[str, list[str]] = {}
    for email in unique:
        groups.setdefault(languages.get(email.strip().lower(), settings.LANGUAGE_CODE), []).append(email)
    return [(code, groups[code]) for code in sorted(groups, key=lambda c: (c != settings.LANGUAGE_CODE, c))]
