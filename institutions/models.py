"""Who takes part: member organisations, the certification body, their staff and declared conflicts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from config.fsm import condition

UserLike = AbstractBaseUser | AnonymousUser


def _manager(instance: models.Model, user) -> bool:
    return is_manager(user)


def _owner_or_manager(instance: Organisation, user) -> bool:
    staff = staff_of(user)
    own = bool(staff and staff.organisation_id == instance.pk and staff.role == Role.OWNER)
    return own or is_manager(user)


class OrganisationKind(models.TextChoices):
    UNIVERSITY = "university", _("University")
    COLLEGE = "college", _("College")
    COMPANY = "company", _("Company")
    TRAINING_PROVIDER = "training_provider", _("Training provider")
    PUBLIC_BODY = "public_body", _("Public body")
    OTHER = "other", _("Other")


class MembershipState(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RecipientNames(models.TextChoices):
    """How the learner's name appears in the badges an organisation signs, which anyone holding the
    badge's link can read (docs/credentials.md, "The learner's name")."""

    INCLUDE = "include", _("Written in the badge")
    HASH = "hash", _("Hashed (salted SHA-256): checkable, not readable")
    OMIT = "omit", _("Left out")


class Organisation(FSMModelMixin, models.Model):
    """A member organisation, or (exactly one row) the certification body itself."""

    name = models.CharField(_("name"), max_length=200)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    membership = FSMField(
        _("membership"), max_length=16, choices=MembershipState.choices,
        default=MembershipState.APPLIED, protected=True,
    )
    is_certification_body = models.BooleanField(_("is the certification body"), default=False, editable=False)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    # A PNG or a cleaned SVG (badges.images), set through institutions.services.organisation_set_logo;
    # served at /registry/organisations/<slug>/logo and named as logo_uri in the OpenID Federation statements.
    logo = models.FileField(_("logo"), upload_to="organisations/", blank=True, help_text=_(
        "A PNG or SVG of at most 256 KB, shown as the organisation's logo_uri in the OpenID Federation statements. "
        "An SVG with scripts or outside references is refused."))
    country = models.CharField(_("country or region"), max_length=64, default="JP")
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    recipient_names = models.CharField(
        _("learners' names in badges"), max_length=8, choices=RecipientNames.choices,
        default=RecipientNames.INCLUDE,
        help_text=_("Badges are public to whoever has their link. A hashed name can be checked by someone "
                    "who types it, but not read."),
    )
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    membership_changed_at = models.DateTimeField(_("membership changed at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["is_certification_body"], condition=Q(is_certification_body=True),
                name="only_one_certification_body",
            )
        ]

    def __str__(self) -> str:
        """The Japanese name for a reader in Japanese when the organisation gave one."""
        if self.name_ja and (get_language() or "").startswith("ja"):
            return self.name_ja
        return self.name

    @property
    def is_active_member(self) -> bool:
        return self.membership == MembershipState.ACTIVE

    @condition(_("The certification body's own membership does not change."))
    def is_member(self) -> bool:
        return not self.is_certification_body

    # Transitions only change the field in memory; institutions.services saves and audits.
    @transition(field=membership, source=MembershipState.APPLIED, target=MembershipState.ACTIVE,
                permission=_manager)
    def approve(self) -> None:
        pass

    @transition(field=membership, source=MembershipState.APPLIED, target=MembershipState.REJECTED,
                permission=_manager)
    def reject(self) -> None:
        pass

    @transition(field=membership, source=MembershipState.ACTIVE, target=MembershipState.SUSPENDED,
                conditions=[is_member],
                permission=_manager)
    def suspend(self) -> None:
        pass

    @transition(field=membership, source=MembershipState.SUSPENDED, target=MembershipState.ACTIVE,
                conditions=[is_member],
                permission=_manager)
    def reinstate(self) -> None:
        pass

    @transition(
        field=membership,
        source=[MembershipState.APPLIED, MembershipState.ACTIVE, MembershipState.SUSPENDED],
        target=MembershipState.WITHDRAWN,
        conditions=[is_member],
        permission=_owner_or_manager,
    )
    def withdraw(self) -> None:
        pass


class Role(models.TextChoices):
    # Staff of a member organisation
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    ISSUER = "issuer", _("Issuer")
    # Staff of the certification body
    REVIEWER = "reviewer", _("Reviewer")
    MANAGER = "manager", _("Manager")


MEMBER_ROLES = {Role.OWNER, Role.EDITOR, Role.ISSUER}
BODY_ROLES = {Role.REVIEWER, Role.MANAGER}
# What each member role may do with its organisation's programmes and applications.
CAN_EDIT = {Role.OWNER, Role.EDITOR}
CAN_ISSUE = {Role.OWNER, Role.ISSUER}


class StaffMember(models.Model):
    """A user working for one organisation in one role. A user belongs to at most one organisation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff",
                                verbose_name=_("user"))
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff",
                                     verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    # The language of the mails this person gets (endorsement.notifications): their own choice on the
    # portal's account page, else the language they last signed in with, else the site's.
    language = models.CharField(_("language of mails"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("Empty: the language of the last sign-in."))
    sign_in_language = models.CharField(_("language of the last sign-in"), max_length=8, blank=True,
                                        editable=False)

    class Meta:
        ordering = ["organisation", "user__username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"

    @property
    def mail_language(self) -> str:
        return self.language or self.sign_in_language or settings.LANGUAGE_CODE


class ConflictOfInterest(models.Model):
    """A reviewer's declaration that they must not review an organisation's applications."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts_of_interest",
        verbose_name=_("reviewer"),
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="conflicts",
                                     verbose_name=_("organisation"))
    reason = models.TextField(_("reason"))
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.UniqueConstraint(fields=["reviewer", "organisation"], name="one_declaration_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} ⟂ {self.organisation}"


class IssuerKey(models.Model):
    """An Ed25519 signing key of an organisation (or the body). The private half is encrypted at
    rest with settings.KEY_ENCRYPTION_SECRET; a retired key stays listed in the DID document so that
    credentials it signed keep verifying."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="keys",
                                     verbose_name=_("organisation"))
    fragment = models.CharField(_("key fragment"), max_length=40)
    public_key_multibase = models.CharField(_("public key (multibase)"), max_length=80, unique=True)
    private_key_encrypted = models.TextField(_("private key (encrypted)"), editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    # Set by `rotate_key --compromised`: the key is then in no part of the DID document, so nothing
    # it signs verifies (what it signed for us was re-signed with the next key).
    compromised_at = models.DateTimeField(_("withdrawn as compromised at"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "created_at", "id"]
        verbose_name = _("issuer key")
        verbose_name_plural = _("issuer keys")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fragment"], name="key_fragment_per_organisation"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(retired_at__isnull=True), name="one_active_key_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug}#{self.fragment}{' (retired)' if self.retired_at else ''}"


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


def _staff_manager(instance: StaffInvitation, user) -> bool:
    return may_manage_staff(user, instance.organisation)


class StaffInvitation(FSMModelMixin, models.Model):
    """An invitation to join an organisation's staff in a role, sent by e-mail as a single-use link.

    Only the SHA-256 of the link's token is stored: the token itself is known to the mail and to the
    person who received it. Accepting creates a new login (one login belongs to one organisation).
    """

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations",
                                     verbose_name=_("organisation"))
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    token_sha256 = models.CharField(_("token (SHA-256)"), max_length=64, unique=True, editable=False)
    state = FSMField(
        _("state"), max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING,
        protected=True,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("accepted or revoked at"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("login created"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"], condition=Q(state="pending"),
                name="one_pending_invitation_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.get_role_display()})"

    @property
    def has_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @condition(_("This invitation has expired: ask for a new one."))
    def is_unexpired(self) -> bool:
        return not self.has_expired

    @condition(_("The invitation has not expired yet."))
    def is_past_expiry(self) -> bool:
        return self.has_expired

    @condition(_("The organisation's membership is not active."))
    def organisation_is_active(self) -> bool:
        return self.organisation.is_certification_body or self.organisation.is_active_member

    @property
    def shown_state(self) -> str:
        """The state as people see it: a pending invitation past its expiry is expired."""
        if self.state == InvitationState.PENDING and self.has_expired:
            return InvitationState.EXPIRED
        return self.state

    # The person invited accepts with the link (no user yet: no permission to check).
    @transition(field=state, source=InvitationState.PENDING, target=InvitationState.ACCEPTED,
                conditions=[is_unexpired, organisation_is_active])
    def accept(self) -> None:
        pass

    @transition(field=state, source=InvitationState.PENDING, target=InvitationState.REVOKED,
                permission=_staff_manager)
    def revoke(self) -> None:
        pass

    @transition(field=state, source=InvitationState.PENDING, target=InvitationState.EXPIRED,
                conditions=[is_past_expiry])
    def expire(self) -> None:
        pass


# --- Role questions the transitions above ask (institutions.permissions re-exports them) ------------
def staff_of(user: UserLike) -> StaffMember | None:
    """The user's staff membership, or None. Cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_staff_cache"):
        user._staff_cache = StaffMember.objects.select_related("organisation").filter(user=user).first()
    return user._staff_cache


def is_manager(user: UserLike) -> bool:
    """A manager of the certification body (or a superuser): assigns reviewers and decides."""
    if getattr(user, "is_superuser", False):
        return True
    staff = staff_of(user)
    return bool(staff and staff.organisation.is_certification_body and staff.role == Role.MANAGER)


def may_manage_staff(user: UserLike, organisation: Organisation) -> bool:
    """May invite, change the role of and remove this organisation's staff: its owners for a
    member organisation; the body's managers (and superusers) for the body's reviewers and managers."""
    if organisation.is_certification_body:
        return is_manager(user)
    staff = staff_of(user)
    return bool(staff and staff.organisation_id == organisation.pk and staff.role == Role.OWNER)
