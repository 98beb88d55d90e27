"""Learner accounts (docs/learners.md): passwordless, signed in with a link mailed to one of their
verified addresses. A learner is no `auth.User`: the session holds the account's id under its own key
(learners.session), so a learner is never signed in to the portal or the admin."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LearnerAccount(models.Model):
    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_sign_in_at = models.DateTimeField(_("last signed in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("learner account")
        verbose_name_plural = _("learner accounts")

    def __str__(self) -> str:
        return str(self.public_id)


class LearnerEmail(models.Model):
    """An address of a learner, verified (the learner opened a link mailed to it). Stored case-folded;
    one account per address."""

    account = models.ForeignKey(LearnerAccount, verbose_name=_("learner account"), on_delete=models.CASCADE,
                                related_name="emails")
    email = models.EmailField(_("e-mail"), unique=True)
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)

    class Meta:
        verbose_name = _("learner's e-mail address")
        verbose_name_plural = _("learners' e-mail addresses")
        ordering = ["verified_at", "pk"]

    def __str__(self) -> str:
        return self.email


class LinkPurpose(models.TextChoices):
    SIGN_IN = "sign-in", _("Sign in")
    ADD_ADDRESS = "add-address", _("Add an address")


class LearnerLink(models.Model):
    """A link mailed to a learner: to sign in, or to verify an address added to an account. Only the
    SHA-256 of its token is stored; it works once, until `expires_at`."""

    purpose = models.CharField(_("purpose"), max_length=16, choices=LinkPurpose.choices)
    token_sha256 = models.CharField(_("token (SHA-256)"), max_length=64, unique=True)
    email = models.EmailField(_("e-mail"))
    account = models.ForeignKey(LearnerAccount, verbose_name=_("learner account"), on_delete=models.CASCADE,
                                null=True, blank=True, related_name="links")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("learner link")
        verbose_name_plural = _("learner links")

    def __str__(self) -> str:
        return f"{self.purpose} {self.email}"


class WalletHolder(models.Model):
    """The Django user standing for a learner account towards django-oauth-toolkit, which ties grants
    and tokens to users (docs/api.md, "Learners and OAuth"). It has no usable password, no staff flag
    and no membership: it is set on the request only by the authorization view, never logged in."""

    account = models.OneToOneField(LearnerAccount, verbose_name=_("learner account"), on_delete=models.CASCADE,
                                   related_name="wallet_holder")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="wallet_holder")

    class Meta:
        verbose_name = _("wallet holder")
        verbose_name_plural = _("wallet holders")

    def __str__(self) -> str:
        return str(self.account)


class WalletClient(models.Model):
    """What a wallet or backpack registered (RFC 7591) beside django-oauth-toolkit's application: the
    scopes it may ask for and its metadata as we accepted it."""

    application = models.OneToOneField("oauth2_provider.Application", verbose_name=_("application"),
                                       on_delete=models.CASCADE, related_name="wallet_client")
    scope = models.CharField(_("registered scopes"), max_length=1000)
    metadata = models.JSONField(_("registered metadata"), default=dict)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    registered_from = models.CharField(_("registered from (client address)"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("wallet client")
        verbose_name_plural = _("wallet clients")

    def __str__(self) -> str:
        return self.application.name

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class WalletAccess(models.Model):
    """A learner's consent to one application (docs/api.md, "The learner's side"): when it was given,
    the scopes, and when the application last read with it. django-oauth-toolkit's grants and tokens
    come and go (a code is spent, tokens expire and are refreshed); this row stays until the learner
    or the application revokes the access. Each consent and revocation is also in the audit trail."""

    account = models.ForeignKey(LearnerAccount, verbose_name=_("learner account"), on_delete=models.CASCADE,
                                related_name="wallet_access")
    application = models.ForeignKey("oauth2_provider.Application", verbose_name=_("application"),
                                    on_delete=models.CASCADE, related_name="learner_access")
    scope = models.CharField(_("scopes"), max_length=1000)
    granted_at = models.DateTimeField(_("granted at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wallet access")
        verbose_name_plural = _("wallet access")
        constraints = [models.UniqueConstraint(fields=["account", "application"], name="one_access_per_wallet")]

    def __str__(self) -> str:
        return f"{self.account} → {self.application_id}"
