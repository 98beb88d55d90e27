from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("Organisations and membership")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created

        from config.fsm_history import historical_fsm_fields_quiet
        from config.postgres import fast_list_dumper

        historical_fsm_fields_quiet()
        connection_created.connect(fast_list_dumper, dispatch_uid="config.postgres.fast_list_dumper")

        user_logged_in.connect(_note_sign_in_language, dispatch_uid="institutions.sign_in_language")


def _note_sign_in_language(sender, request, user, **kwargs) -> None:
    """Every sign-in (the portal's, the admin's) remembers its language for the person's mails."""
    from institutions.staff import staff_sign_in_language_note

    if request is not None:
        staff_sign_in_language_note(user, getattr(request, "LANGUAGE_CODE", None))
