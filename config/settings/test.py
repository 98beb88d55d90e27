"""Tests: fast hashing, in-memory e-mail. DATABASE_URL and CELERY_BROKER_URL still apply when set."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
EVIDENCE_ROOT = BASE_DIR / ".test-media" / "evidence"  # noqa: F405
STORAGES = {**STORAGES, "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage",  # noqa: F405
                                     "OPTIONS": {"location": str(EVIDENCE_ROOT)}}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "1000/min", "anon": "10000/min"}}  # noqa: F405
VERIFY_ALLOW_LOOPBACK = True  # the DID and status-list tests serve documents from 127.0.0.1
EVIDENCE_ALLOW_LOOPBACK = True  # the evidence tests serve pages from 127.0.0.1
WEBHOOK_ALLOW_LOOPBACK = True  # the webhook tests run their receivers on 127.0.0.1
