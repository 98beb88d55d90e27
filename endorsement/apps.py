from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EndorsementConfig(AppConfig):
    name = "endorsement"
    verbose_name = _("Endorsement")

    def ready(self) -> None:
        from badges.models import StatusPurpose
        from badges.status import register_set_bits
        from endorsement.credentials import suspended_endorsement_indices

        register_set_bits(StatusPurpose.SUSPENSION, suspended_endorsement_indices)
