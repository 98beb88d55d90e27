"""Settings of the fault tests' Celery workers: the test settings, with mail sent over SMTP to the
test's own server (FAULT_SMTP_PORT) and tasks on the test's own queue (FAULT_QUEUE). The recovery
timings come from the environment like any deployment's (CELERY_VISIBILITY_TIMEOUT_SECONDS,
BATCH_STALL_SECONDS, OUTBOX_GRACE_SECONDS, RECOVERY_SWEEP_SECONDS)."""

import os

from config.settings.test import *  # noqa: F403

if os.environ.get("FAULT_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(os.environ["FAULT_SMTP_PORT"])
    EMAIL_TIMEOUT = 20
if os.environ.get("FAULT_QUEUE"):
    CELERY_TASK_DEFAULT_QUEUE = os.environ["FAULT_QUEUE"]
