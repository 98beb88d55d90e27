from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = _("Badge programmes and awards")

    def ready(self) -> None:
        from badges import checks  # noqa: F401 - registers the deployment checks of SITE_URL
