from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PathwaysConfig(AppConfig):
    name = "pathways"
    verbose_name = _("Pathways")

    def ready(self) -> None:
        from badges.models import StatusPurpose
        from badges.status import register_set_bits
        from pathways.completion import revoked_completion_indices

        # Revoked pathway credentials are entries of their organisation's revocation lists (path2).
        register_set_bits(StatusPurpose.REVOCATION, revoked_completion_indices)
