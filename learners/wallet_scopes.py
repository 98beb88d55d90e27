"""The scopes of the Open Badges 3.0 API that this host serves (docs/api.md), as django-oauth-toolkit's
scopes backend: every scope we know, and per application the scopes it registered (RFC 7591) as the
ceiling of what it may ask the learner for. The spec's write scopes (credential.upsert,
profile.update) are not among them: this host keeps only what its members issued."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from oauth2_provider.scopes import BaseScopes

OB_SCOPE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ = OB_SCOPE + "credential.readonly"
CREDENTIAL_UPSERT = OB_SCOPE + "credential.upsert"
PROFILE_READ = OB_SCOPE + "profile.readonly"
PROFILE_UPDATE = OB_SCOPE + "profile.update"
OFFLINE = "offline_access"
SERVED = (CREDENTIAL_READ, PROFILE_READ, OFFLINE)
NOT_SERVED = (CREDENTIAL_UPSERT, PROFILE_UPDATE)


def scope_descriptions() -> dict[str, str]:
    """What each served scope lets an application read, in the active language (the consent page)."""
    return {
        CREDENTIAL_READ: _("Read every badge issued to your addresses on this server, as signed credentials "
                           "(including those whose page you made private)."),
        PROFILE_READ: _("Read your learner profile: its identifier and your e-mail addresses."),
        OFFLINE: _("Keep this access when you are not signed in here, until you revoke it."),
    }


class RegisteredScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return scope_descriptions()

    def get_available_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
                             ) -> list[str]:
        client = getattr(application, "wallet_client", None) if application is not None else None
        if client is None:
            return []  # only applications registered through our endpoint get any scope
        return [scope for scope in client.scopes if scope in SERVED]

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
                           ) -> list[str]:
        return [s for s in self.get_available_scopes(application, request) if s == CREDENTIAL_READ]
