from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = _("Badge programmes and awards")

    def ready(self) -> None:
        from badges import checks  # noqa: F401 - registers the deployment checks of SITE_URL
        from badges.awards import revoked_award_indices
        from badges.models import StatusPurpose
        from badges.status import register_set_bits

        register_set_bits(StatusPurpose.REVOCATION, revoked_award_indices)
