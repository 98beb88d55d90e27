"""Settings shared by every environment, read from environment variables (see README, "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_int_list, env_list, env_str
from config.evidence_storage import evidence_storage_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must be an absolute http(s) URL.")
if _site.path not in {"", "/"}:
    raise ImproperlyConfigured("SITE_URL must not contain a path: DIDs and ids are derived from its host.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [_site.hostname, "localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "corsheaders",
    "django_countries",  # ISO 3166 country names in English and Japanese for the programme form
    "oauth2_provider",  # django-oauth-toolkit: the OAuth 2.0 server of the OB 3.0 API (docs/api.md)
    "institutions",
    "badges",
    "pathways",
    "endorsement",
    "learners",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before CommonMiddleware: answers CORS preflights (OPTIONS) for CORS_URLS_REGEX before any view.
    # (config.cors: django-cors-headers' own, with the Open Badges 3.0 API's wider methods and headers)
    "config.cors.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Oversized bodies, NUL characters and absurdly nested JSON are refused here, before anything
    # reads the body (config/request_guard.py).
    "config.request_guard.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by the lockout (django-axes) into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# CORS (django-cors-headers): the public documents a browser wallet or verifier on another site reads
# (DID documents, status lists, achievements, endorsement credentials, badges and their baked images,
# the registry's open data, the Open Badges 2.0 mirror) may be read from any origin, without credentials;
# nothing else may.
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = (
    r"^/(?:\.well-known/did\.json|organisations/[^/]+/did\.json|status/[^/]+/[^/]+/\d+"
    r"|achievements/[0-9a-f-]+(?:\.json)?|credentials/endorsements/[0-9a-f-]+"
    r"|badges/[0-9a-f-]+(?:\.json|\.png|\.svg)?|registry\.(?:json|csv)"
    r"|\.well-known/openid-federation|federation/(?:fetch|list)|registry/trust-list\.json"
    # The Open Badges 2.0 mirror (badges.ob2).
    r"|ob2/(?:issuers/[^/]+(?:/revocations)?|badgeclasses/[0-9a-f-]+(?:/v\d+|/image\.png)?"
    r"|endorsements/[0-9a-f-]+|assertions/[0-9a-f-]+(?:\.png)?)"
    # The Open Badges 3.0 API (learners.wallet_urls) but its authorization page: OB_API_CORS_URLS_REGEX.
    r"|ims/ob/v3p0/(?:discovery|oauth/(?:register|token|revoke)|credentials|profile))$"
)
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "accept-language", "if-none-match", "if-modified-since"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Content-Language"]
CORS_PREFLIGHT_MAX_AGE = 86400
# The Open Badges 3.0 API, called by browser-based wallets on other origins (config.cors): the same
# origins (any) and no credentials (bearer tokens only, never cookies), but POST and PUT (answered 405
# with the spec's status info on the resources, so a wallet can read why), the Authorization and
# Content-Type headers, and the paging and authentication headers exposed to the wallet's script.
OB_API_CORS_URLS_REGEX = r"^/ims/ob/v3p0/(?:discovery|oauth/(?:register|token|revoke)|credentials|profile)$"
OB_API_CORS_ALLOW_METHODS = ["GET", "HEAD", "POST", "PUT", "OPTIONS"]
OB_API_CORS_ALLOW_HEADERS = ["accept", "accept-language", "authorization", "content-type", "if-none-match"]
OB_API_CORS_EXPOSE_HEADERS = ["Content-Language", "Link", "X-Total-Count", "WWW-Authenticate", "Retry-After"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
            "libraries": {"bilingual": "config.i18n", "codes": "badges.codes", "audit": "endorsement.audit_labels",
                          "phrases": "config.phrases", "tables": "config.tables"},
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses any authentication attempt while the username or the client address
# is locked out, whichever way in (login page, admin login, API token) called `authenticate`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice (django.views.i18n.set_language) is remembered in the language cookie for a
# year; without the cookie, LocaleMiddleware follows the browser's Accept-Language.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Our Japanese date and time formats (config/formats/ja/formats.py: 2026年12月1日 5:52).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Programme images: PNG up to this size, or sanitised SVG (badges/images.py).
MAX_IMAGE_BYTES = env_int("MAX_IMAGE_BYTES", 1024 * 1024)
# An organisation's logo (institutions.services.organisation_set_logo): smaller than a badge image.
MAX_LOGO_BYTES = env_int("MAX_LOGO_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Endorsement rules -------------------------------------------------------------------------
ENDORSEMENT_VALIDITY_DAYS = env_int("ENDORSEMENT_VALIDITY_DAYS", 3 * 365)
# A renewal may be opened this many days before an endorsement ends (and at any time after it ended).
RENEWAL_WINDOW_DAYS = env_int("RENEWAL_WINDOW_DAYS", 180)
# The organisation and the managers are reminded this many days before an endorsement ends, once
# per threshold (comma-separated whole numbers).
RENEWAL_REMINDER_DAYS = sorted(set(env_int_list("RENEWAL_REMINDER_DAYS", [180, 60, 14])), reverse=True)
# Reviewers a full review needs before endorse (a change marked minor needs one).
ENDORSEMENT_MIN_REVIEWERS = env_int("ENDORSEMENT_MIN_REVIEWERS", 1)
# Whether an organisation whose application is sent back reads its reviewers' names beside their
# comments (false: "Reviewer 1", "Reviewer 2"). endorsement.transparency
REVIEWER_NAMES_SHOWN = env_bool("REVIEWER_NAMES_SHOWN", True)
# How long the link of an invitation to join an organisation's staff stays valid.
STAFF_INVITATION_DAYS = env_int("STAFF_INVITATION_DAYS", 7)
# Secret that encrypts issuers' private signing keys at rest; defaults to SECRET_KEY.
KEY_ENCRYPTION_SECRET = env_str("KEY_ENCRYPTION_SECRET", SECRET_KEY)

# --- E-mail ------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A mail server that stops answering must not hold a worker (and the outbox row it locks) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "endorsement@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ------------------------------------------------------------------------------------
# No broker configured: tasks run eagerly in-process (the zero-setup default). The code path that
# enqueues them (transaction.on_commit) is the same either way.
_BROKER = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not _BROKER
# Eager tasks never touch the broker; "memory://" only keeps Celery from guessing an AMQP host.
CELERY_BROKER_URL = _BROKER or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
# What happens to a task whose worker dies (docs/operations.md, "Failure modes"). Every task is
# idempotent, so each is acknowledged only when it has finished (acks_late): a task cut short is
# delivered again rather than lost.
CELERY_TASK_ACKS_LATE = True
# A pool process killed under a task (SIGKILL, the kernel's OOM killer) requeues the message instead
# of recording it as failed and acknowledging it (Celery's default), so learners' mails and batch
# chunks in that process are not dropped.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = "UTC"
# With Redis, a message delivered to a worker that then vanishes whole (SIGKILL, a lost machine) is
# handed out again once it has been unacknowledged for `visibility_timeout` seconds (kombu's default
# is an hour: a batch stalled that long). It must exceed the longest task (a batch chunk or an
# evidence group: well under a minute; a chunk whose 100 links all time out, about 2 minutes) and
# the longest retry countdown (retry_backoff_max, 600 s),
# or a slow or waiting task would be delivered twice (harmless, but wasted work). Every worker scans
# for such messages each `unacked_restore_interval` seconds (kombu's default is once per 10 x 10 s).
# The socket timeouts keep a request from hanging on a broker that vanished without closing the
# connection.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(60, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
    "socket_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", 5),
    "socket_connect_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", 5),
}
# Publishing while the broker is down gives up after a few quick retries (the request answers, the
# recovery sweeps below send the work later) instead of Celery's default of retrying without end.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                    "interval_max": 0.5}
# A worker started while Redis is down waits for it; a worker that loses Redis lets the task it is
# running finish (its transaction commits; the redelivered message then finds its rows done).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# The recovery sweeps (beat, every RECOVERY_SWEEP_SECONDS): a batch with no progress for
# BATCH_STALL_SECONDS is resumed; a learner's or an audit event's mail still pending
# OUTBOX_GRACE_SECONDS after it was written is sent; an evidence link never fetched, a status list
# never published, are done. See badges.recovery and endorsement.outbox.
RECOVERY_SWEEP_SECONDS = env_int("RECOVERY_SWEEP_SECONDS", 60)
BATCH_STALL_SECONDS = env_int("BATCH_STALL_SECONDS", 300)
OUTBOX_GRACE_SECONDS = env_int("OUTBOX_GRACE_SECONDS", 120)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)
# How long the mails a batch chunk claimed (endorsement.outbox.notifications_deliver_many) are left
# to it: a run killed mid-way leaves its unsent mails to the sweep after this. Longer than a
# chunk's mails take to send over one connection.
OUTBOX_CLAIM_SECONDS = env_int("OUTBOX_CLAIM_SECONDS", 600)
# While a batch is issuing, each of its status lists is re-published at most once per this many
# seconds (a list the batch opened, never signed, at once), and once more when the batch is done;
# a revocation publishes at once (badges.status_publish, docs/operations.md).
STATUS_PUBLISH_DELAY_SECONDS = env_int("STATUS_PUBLISH_DELAY_SECONDS", 5)
# How long an Idempotency-Key of the awards API is remembered.
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)

CELERY_BEAT_SCHEDULE = {
    "expire-endorsements": {
        "task": "endorsement.tasks.expire_endorsements",
        "schedule": crontab(minute=5),
    },
    "remind-expiring-endorsements": {
        "task": "endorsement.tasks.remind_expiring_endorsements",
        "schedule": crontab(minute=45, hour=6),
    },
    "recheck-pathway-credentials": {
        "task": "pathways.completion_tasks.recheck_pathway_credentials",
        "schedule": crontab(minute=25),
    },
    "recheck-evidence": {
        "task": "badges.tasks.recheck_evidence",
        "schedule": crontab(minute=35),
    },
    "recover-badge-work": {
        "task": "badges.tasks.recover_stalled_work",
        "schedule": timedelta(seconds=RECOVERY_SWEEP_SECONDS),
    },
    "send-pending-mail": {
        "task": "endorsement.tasks.send_pending_notifications",
        "schedule": timedelta(seconds=RECOVERY_SWEEP_SECONDS),
    },
    "deliver-due-webhooks": {
        "task": "webhooks.tasks.deliver_due_webhooks",
        "schedule": timedelta(seconds=RECOVERY_SWEEP_SECONDS),
    },
    "remind-issuance-reports": {
        "task": "endorsement.tasks.remind_issuance_reports",
        "schedule": crontab(hour=6, minute=15),
    },
    "audit-checkpoint": {
        "task": "endorsement.tasks.make_audit_checkpoint",
        "schedule": crontab(minute=50),
    },
    "sign-trust-list": {  # re-signs the list of endorsed issuers when it changed or is a day old
        "task": "endorsement.tasks.sign_trust_list",
        "schedule": crontab(minute=10),
    },
    "evidence-retention": {
        "task": "badges.tasks.remove_expired_evidence",
        "schedule": crontab(hour=3, minute=25),
    },
    # Changes refresh only their own registry entries; this full rebuild repairs anything missed.
    "rebuild-registry": {
        "task": "endorsement.tasks.rebuild_registry",
        "schedule": crontab(hour=3, minute=40),
    },
}
# Open-data bodies of the registry (registry.json, .csv, the feed, the sitemap, and their gzip),
# written once per registry version and served from files, so no worker holds them.
REGISTRY_CACHE_DIR = Path(env_str("REGISTRY_CACHE_DIR", str(MEDIA_ROOT / ".registry-cache")))
# Concerns from a programme's registry page: at most this many per client address in the window.
# The learner's side (docs/learners.md): a badge's claim link lasts this many days; a sign-in or
# address-check link this many minutes; at most LEARNER_LINK_LIMIT links are sent per address and
# per client within LEARNER_LINK_WINDOW.
CLAIM_LINK_DAYS = env_int("CLAIM_LINK_DAYS", 90)
LEARNER_LINK_MINUTES = env_int("LEARNER_LINK_MINUTES", 30)
LEARNER_LINK_LIMIT = env_int("LEARNER_LINK_LIMIT", 5)
LEARNER_LINK_WINDOW = timedelta(minutes=env_int("LEARNER_LINK_WINDOW_MINUTES", 60))
# The 1EdTech Open Badges 3.0 API as a host (learners.wallets, docs/api.md): django-oauth-toolkit's
# authorization code grant with PKCE (S256 only, learners.wallet_views), the spec's scopes as far as
# we serve them, the client's registered scopes as the ceiling (learners.wallet_scopes).
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "SCOPES_BACKEND_CLASS": "learners.wallet_scopes.RegisteredScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("WALLET_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("WALLET_REFRESH_TOKEN_DAYS", 180) * 86400,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REQUEST_APPROVAL_PROMPT": "force",  # the learner sees the consent page every time
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http only for loopback: checked at registration
    "ALLOWED_GRANT_TYPES": ["authorization_code", "refresh_token"],
    "OIDC_ENABLED": False,
    # RFC 9700 (OAuth 2.0 Security BCP), as the toolkit's deploy checks ask: no implicit or password
    # grant, no PKCE "plain", no token in a query string, the RFC 9207 `iss` in authorization answers,
    # tokens kept hashed, a replayed refresh token revokes its family.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "OIDC_ISS_ENDPOINT": SITE_URL,  # the issuer identifier in the `iss` parameter
}
# The toolkit warns (W008) that "http" redirect URIs are allowed: they are, only on a loopback address
# (RFC 8252 §7.3, RFC 9700 §2.1 allows it), which learners.wallets checks at registration.
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]
# The toolkit's application model by its swappable setting: the migrations of its models and ours name it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The privacy policy and terms the discovery document names (x-imssf-privacyPolicyUrl, termsOfService);
# empty: the learner sign-in page and the home page.
WALLET_PRIVACY_POLICY_URL = env_str("WALLET_PRIVACY_POLICY_URL", "")
WALLET_TERMS_URL = env_str("WALLET_TERMS_URL", "")
# Dynamic client registrations accepted per client address within an hour.
WALLET_REGISTRATION_LIMIT = env_int("WALLET_REGISTRATION_LIMIT", 20)
CONCERN_LIMIT = env_int("CONCERN_LIMIT", 5)
CONCERN_WINDOW = timedelta(minutes=env_int("CONCERN_WINDOW_MINUTES", 60))
# Days after a reporting period ends before its organisation is reminded of a missing report.
ISSUANCE_REPORT_GRACE_DAYS = env_int("ISSUANCE_REPORT_GRACE_DAYS", 14)

# --- Verification of presented credentials (badges.verification) --------------------------------
# Fetches of other issuers' DID documents and status lists: https only, public addresses only.
VERIFY_FETCH_TIMEOUT = env_int("VERIFY_FETCH_TIMEOUT_SECONDS", 3)
VERIFY_FETCH_MAX_BYTES = env_int("VERIFY_FETCH_MAX_BYTES", 2 * 1024 * 1024)
VERIFY_MAX_UPLOAD_BYTES = env_int("VERIFY_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
# The verifier's two statements of this registry's records are prepared on PostgreSQL (planned once per
# connection; badges.verification_data.prepared_cursor). Off behind a pooler in transaction mode that
# does not keep prepared statements (PgBouncer before 1.21).
VERIFY_PREPARED_STATEMENTS = env_bool("VERIFY_PREPARED_STATEMENTS", True)
# The largest multipart request (a file upload): the largest file any view takes (a badge to verify, a
# CSV batch of 5 MB, a programme image) plus room for the envelope. Larger requests answer 413 unread;
# any other body is limited by DATA_UPLOAD_MAX_MEMORY_SIZE (config/request_guard.py).
MAX_UPLOAD_REQUEST_BYTES = max(VERIFY_MAX_UPLOAD_BYTES, MAX_IMAGE_BYTES, 5 * 1024 * 1024,
                               env_int("EVIDENCE_AWARD_MAX_BYTES", 10 * 1024 * 1024),
                               env_int("EVIDENCE_BATCH_ZIP_MAX_BYTES", 50 * 1024 * 1024)) + 64 * 1024
# Outbound fetches (DID documents, status lists, evidence links) running at once in one process; the
# others wait for a slot within their own deadline (badges/fetch.py).
FETCH_CONCURRENCY = env_int("FETCH_CONCURRENCY", 8)
# Tests only: allow plain http to loopback addresses (a DID document served by the test itself).
VERIFY_ALLOW_LOOPBACK = False

# --- Evidence links of awards (badges.evidence) -------------------------------------------------
EVIDENCE_FETCH_TIMEOUT = env_int("EVIDENCE_FETCH_TIMEOUT_SECONDS", 10)
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
EVIDENCE_RECHECK_INTERVAL = timedelta(days=env_int("EVIDENCE_RECHECK_DAYS", 7))
EVIDENCE_RECHECK_BATCH = env_int("EVIDENCE_RECHECK_BATCH", 200)
# Tests only: allow fetching evidence from loopback addresses.
EVIDENCE_ALLOW_LOOPBACK = False

# --- Webhooks to members' and the body's own systems (webhooks/, docs/api.md) --------------------
# One POST per delivery attempt, under the address rules of badges/fetch.py (public addresses only).
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# A failed delivery is tried again after WEBHOOK_RETRY_BASE_SECONDS, doubling each time up to
# WEBHOOK_RETRY_MAX_SECONDS, for WEBHOOK_RETRY_HOURS after it was written (or replayed).
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 4 * 3600)
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24)
# An endpoint with no successful delivery for this many days while failing is disabled; its owners are told.
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3)
# Endpoints per organisation.
WEBHOOK_MAX_ENDPOINTS = env_int("WEBHOOK_MAX_ENDPOINTS", 10)
# An endpoint's owners may send it at most this many test events in any hour (429 beyond).
WEBHOOK_TEST_EVENTS_PER_HOUR = env_int("WEBHOOK_TEST_EVENTS_PER_HOUR", 5)
# Tests and the demo only: allow endpoints on loopback addresses (plain http to them too).
WEBHOOK_ALLOW_LOOPBACK = False
# The demo only (`make run`, DEBUG): /demo/webhook-receiver/ receives and checks the demo's own deliveries.
WEBHOOK_DEMO_RECEIVER = False
WEBHOOK_DEMO_LOG = BASE_DIR / "demo-webhooks.jsonl"

# --- The evidence archive (badges.archive, docs/evidence.md) ------------------------------------
# Uploaded files and fetched pages (as WARC records) are kept content-addressed through the storage
# alias "evidence": the filesystem under EVIDENCE_ROOT by default, any S3-compatible store with
# EVIDENCE_STORAGE_BACKEND=storages.backends.s3.S3Storage (django-storages, docs/evidence.md).
EVIDENCE_ROOT = Path(env_str("EVIDENCE_ROOT", str(BASE_DIR / "evidence-archive")))
EVIDENCE_STORAGE_BACKEND = env_str("EVIDENCE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
EVIDENCE_UPLOAD_MAX_BYTES = env_int("EVIDENCE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
EVIDENCE_AWARD_MAX_BYTES = env_int("EVIDENCE_AWARD_MAX_BYTES", 10 * 1024 * 1024)
EVIDENCE_AWARD_MAX_FILES = env_int("EVIDENCE_AWARD_MAX_FILES", 10)
# A batch's zip (the CSV or JSON sheet and the evidence files it names): its size as uploaded, how
# many entries it may list, and how many bytes its named files may come to once decompressed (each
# file also within EVIDENCE_UPLOAD_MAX_BYTES, each row's within EVIDENCE_AWARD_MAX_BYTES).
EVIDENCE_BATCH_ZIP_MAX_BYTES = env_int("EVIDENCE_BATCH_ZIP_MAX_BYTES", 50 * 1024 * 1024)
EVIDENCE_BATCH_ZIP_MAX_ENTRIES = env_int("EVIDENCE_BATCH_ZIP_MAX_ENTRIES", 20_000)
EVIDENCE_BATCH_FILES_MAX_BYTES = env_int("EVIDENCE_BATCH_FILES_MAX_BYTES", 500 * 1024 * 1024)
# How long the badge page trusts the last hash of an archived copy (the stored size is compared at
# every view); the daily beat task re-hashes every copy (badges.archive.blob_verify).
EVIDENCE_COPY_CHECK_SECONDS = env_int("EVIDENCE_COPY_CHECK_SECONDS", 3600)
# Days after which a file uploaded ahead of a batch and not named by any badge is removed.
EVIDENCE_UPLOAD_KEEP_DAYS = env_int("EVIDENCE_UPLOAD_KEEP_DAYS", 30)
# Days after a badge's validUntil (or its revocation) after which its archived copies are removed.
EVIDENCE_RETENTION_DAYS = env_int("EVIDENCE_RETENTION_DAYS", 365)
# The filesystem default takes its folder; S3 (django-storages) takes EVIDENCE_S3_* (evidence_storage_options).
_EVIDENCE_OPTIONS = evidence_storage_options(EVIDENCE_STORAGE_BACKEND, root=EVIDENCE_ROOT)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "evidence": {"BACKEND": EVIDENCE_STORAGE_BACKEND, "OPTIONS": _EVIDENCE_OPTIONS},
}

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "10/min"), "anon": "120/min"},
    # DRF reads X-Forwarded-For this many hops from the right (our throttles use the same helper).
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Micro-credential endorsement API",
    "DESCRIPTION": "Programmes, certification applications, reviews and decisions. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents its error answers (400, 401, 403, 404, 409, 413, 429) in one shape.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.document_errors"],
    # One name for each choice set that appears under several fields, or shares a field name with another:
    # the webhook event types; an organisation's "kind" and a pathway rule's.
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "webhooks.models.WebhookEvent",
        "OrganisationKindEnum": "institutions.models.OrganisationKind",
        "PathwayRuleKindEnum": "pathways.models.RuleKind",
    },
}

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# One lockout policy for every way in (/accounts/login/, /admin/login/, POST /api/v1/auth/token),
# kept by django-axes in the database: after LOGIN_FAILURE_LIMIT failed attempts for one username, or
# from one client address, within LOGIN_FAILURE_WINDOW, every attempt (a correct password too) is
# refused with 429 until the window has passed. See docs/operations.md, "Login lockout".
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = timedelta(minutes=env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15))
# How many reverse proxies in front of the app append to X-Forwarded-For (0: trust no header).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = "config.lockout.failure_limit"  # callables: they follow the two settings above
AXES_COOLOFF_TIME = "config.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_CLIENT_IP_CALLABLE = "config.auth_views.lockout_address"  # the same address as every throttle
AXES_USERNAME_CALLABLE = "config.lockout.username"  # case-insensitive, as the usernames are
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False  # a known password must not reset the budget for guessing others
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the window runs from the first failure
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not logged by axes; failures are (AccessAttempt)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if not env_str("CACHE_URL", "")
        else "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_URL", "") or "endorse-default",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- The certification body (created by a data migration; editable in the admin afterwards) -----
BODY_NAME = env_str("BODY_NAME", "Micro-credential Certification Body")
BODY_SLUG = env_str("BODY_SLUG", "body")
BODY_EMAIL = env_str("BODY_EMAIL", DEFAULT_FROM_EMAIL)
