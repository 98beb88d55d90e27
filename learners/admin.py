"""Learners' consents to wallet applications in the body's admin, read-only: the body's staff see
which applications read a learner's badges, with which scopes, since when and how lately (to answer
a learner's question, or to judge a registered wallet). Only the learner revokes a consent, on their
account page (learners.wallets.access_revoke, audited)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from institutions.admin import BodyAdmin
from learners.models import WalletAccess


@admin.register(WalletAccess)
class WalletAccessAdmin(BodyAdmin):
    list_display = ("learner_emails", "application_name", "scope", "granted_at", "last_used_at")
    list_filter = ("granted_at", "last_used_at")
    search_fields = ("account__emails__email", "account__public_id", "application__name",
                     "application__client_id")
    date_hierarchy = "granted_at"
    ordering = ("-granted_at", "-pk")
    fields = ("account", "learner_emails", "application_name", "client_id", "scope", "granted_at",
              "last_used_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WalletAccess]:
        return super().get_queryset(request).select_related("account", "application").prefetch_related(
            "account__emails")

    @admin.display(description=_("learner's e-mail addresses"))
    def learner_emails(self, access: WalletAccess) -> str:
        return ", ".join(e.email for e in access.account.emails.all()) or "—"

    @admin.display(description=_("wallet application"), ordering="application__name")
    def application_name(self, access: WalletAccess) -> str:
        return access.application.name

    @admin.display(description=_("client ID"))
    def client_id(self, access: WalletAccess) -> str:
        return access.application.client_id
