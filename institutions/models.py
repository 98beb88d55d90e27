"""Who takes part: member organisations, the certification body, their staff and declared conflicts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Q
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
    is_certification_body = models.BooleanField(default=False, editable=False)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(_("country or region"), max_length=64, default="JP")
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    membership_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_certification_body"], condition=Q(is_certification_body=True),
                name="only_one_certification_body",
            )
        ]

    def __str__(self) -> str:
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

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


class ConflictOfInterest(models.Model):
    """A reviewer's declaration that they must not review an organisation's applications."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts_of_interest"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="conflicts")
    reason = models.TextField(_("reason"))
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reviewer", "organisation"], name="one_declaration_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} ⟂ {self.organisation}"


class IssuerKey(models.Model):
    """An Ed25519 signing key of an organisation (or the body). The private half is encrypted at
    rest with settings.KEY_ENCRYPTION_SECRET; a retired key stays listed in the DID document so that
    credentials it signed keep verifying."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="keys")
    fragment = models.CharField(max_length=40)
    public_key_multibase = models.CharField(max_length=80, unique=True)
    private_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fragment"], name="key_fragment_per_organisation"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(retired_at__isnull=True), name="one_active_key_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug}#{self.fragment}{' (retired)' if self.retired_at else ''}"


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
