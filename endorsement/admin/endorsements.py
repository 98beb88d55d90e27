"""Endorsements: read-only, with suspend / reinstate / revoke buttons for managers (services, audited)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from endorsement import quality, renewals, services
from endorsement.models import Endorsement
from endorsement.models import EndorsementState as E
from institutions.admin import BodyAdmin, Button, ButtonsAdminMixin
from institutions.permissions import is_manager


@admin.register(Endorsement)
class EndorsementAdmin(ButtonsAdminMixin, BodyAdmin):
    list_display = ("subject_name", "organisation", "state", "version", "valid_from", "valid_until", "published_at",
                    "signed")
    list_filter = ("state", "organisation")
    search_fields = ("programme__name_en", "programme__name_ja", "pathway__name_en", "pathway__name_ja",
                     "organisation__name", "organisation__name_ja")
    list_select_related = ("programme", "pathway", "organisation")
    date_hierarchy = "valid_from"
    fields = ("programme", "pathway", "organisation", "application", "state", "version", "valid_from", "valid_until",
              "predecessor", "successor_link", "comment", "decided_by", "published_at", "state_changed_at",
              "signed_at", "credential")
    readonly_fields = fields

    @admin.display(description=_("programme or pathway"), ordering="programme__name_en")
    def subject_name(self, endorsement: Endorsement) -> str:
        return str(endorsement.subject)

    buttons = (
        Button("renew", _("Open the renewal"), shown=lambda user, e: is_manager(user)
               and renewals.renewal_refusal(e) is None, open_result=True,
               done=_("The renewal application was opened; the organisation completes and submits it."),
               run=lambda actor, e, text: renewals.endorsement_renew(actor=actor, endorsement=e)),
        Button("suspend", _("Suspend endorsement"), transition="suspend", text=_("Reason"), text_required=True,
               danger=True, done=_("Endorsement suspended."),
               run=lambda actor, e, text: services.endorsement_suspend(actor=actor, endorsement=e, comment=text)),
        Button("reinstate", _("Reinstate endorsement"), transition="reinstate", text=_("Comment (optional)"),
               done=_("Endorsement reinstated."),
               run=lambda actor, e, text: services.endorsement_reinstate(actor=actor, endorsement=e, comment=text)),
        Button("revoke", _("Revoke endorsement"), transition="revoke", text=_("Reason"), text_required=True,
               danger=True, done=_("Endorsement revoked."),
               run=lambda actor, e, text: services.endorsement_revoke(actor=actor, endorsement=e, comment=text)),
        Button("quality_review", _("Open a quality review"), text=_("Reason for the review"), text_required=True,
               shown=lambda user, e: is_manager(user) and e.state in (E.ACTIVE, E.SUSPENDED) and not e.pathway_id
               and quality.open_review_of(e) is None,
               open_result=True, done=_("A quality review of this endorsement is open."),
               run=lambda actor, e, text: quality.quality_review_open(actor=actor, endorsement=e, reason=text)),
    )

    @admin.display(description=_("followed by"))
    def successor_link(self, endorsement: Endorsement) -> str:
        successor = endorsement.successor
        return str(successor) if successor else "—"

    @admin.display(description=_("signed"), boolean=True)
    def signed(self, endorsement: Endorsement) -> bool:
        return endorsement.signed_at is not None
