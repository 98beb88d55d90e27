"""Production: everything secret comes from the environment; `manage.py check --deploy` is clean."""

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")  # no default: refuse to start without one
KEY_ENCRYPTION_SECRET = env_str("KEY_ENCRYPTION_SECRET", SECRET_KEY)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
# Persistent database connections by default (gunicorn's sync workers and Celery's prefork
# processes each keep one), checked before reuse: with 0 every request starts a PostgreSQL backend,
# which cost 5-9 ms of each registry page's latency in bench/registry.py (docs/performance.md).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
# No parallel workers for one query on PostgreSQL unless told otherwise: once ANALYZE had run, the
# planner served a registry search by a parallel walk of the newest entries, and starting the
# workers cost more than the query (distinct searches at 50,000 entries: p99 128 ms with them,
# 59 ms without; docs/performance.md). Web pages and tasks are short queries; reports that want
# them can have them (DATABASE_PARALLEL_WORKERS).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (  # noqa: F405
        f"-c max_parallel_workers_per_gather={env_int('DATABASE_PARALLEL_WORKERS', 0)}")
