"""Tests: fast hashing, in-memory e-mail. DATABASE_URL and CELERY_BROKER_URL still apply when set."""

import os

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# One folder per pytest-xdist worker ("gw0", "gw1"; docs/testing.md), so that a test emptying its
# media or evidence folder never takes another worker's files.
MEDIA_ROOT = BASE_DIR / ".test-media" / os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
EVIDENCE_ROOT = MEDIA_ROOT / "evidence"
STORAGES = {**STORAGES, "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage",  # noqa: F405
                                     "OPTIONS": {"location": str(EVIDENCE_ROOT)}}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "1000/min", "anon": "10000/min"}}  # noqa: F405
VERIFY_ALLOW_LOOPBACK = True  # the DID and status-list tests serve documents from 127.0.0.1
EVIDENCE_ALLOW_LOOPBACK = True  # the evidence tests serve pages from 127.0.0.1
WEBHOOK_ALLOW_LOOPBACK = True  # the webhook tests run their receivers on 127.0.0.1
