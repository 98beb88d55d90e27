"""The Celery application. Broker from CELERY_BROKER_URL; unset means tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("endorse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# pathways.completion_tasks (a module of its own beside pathways.tasks).
app.autodiscover_tasks(related_name="completion_tasks")
