from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Every audit event is looked at when it is written, in its own transaction: the events of
        # the trail that a webhook reports (an award issued, an application's new state, ...) write
        # their deliveries there (webhooks.events). endorsement.audit knows nothing of webhooks.
        from django.db.models.signals import post_save

        from endorsement.models import AuditEvent
        from webhooks.events import on_audit_event

        post_save.connect(on_audit_event, sender=AuditEvent, dispatch_uid="webhooks.on_audit_event")
