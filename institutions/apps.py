from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("Organisations and membership")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from config.fsm_history import historical_fsm_fields_quiet

        historical_fsm_fields_quiet()

        user_logged_in.connect(_note_sign_in_language, dispatch_uid="institutions.sign_in_language")


def _note_sign_in_language(sender, request, user, **kwargs) -> None:
    """Every sign-in (the portal's, the admin's) remembers its language for the person's mails."""
    from institutions.staff import staff_sign_in_language_note

    if request is not None:
        staff_sign_in_language_note(user, getattr(request, "LANGUAGE_CODE", None))
