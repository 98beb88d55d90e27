"""Settings come from the environment and are parsed strictly: a bad value stops start-up. The
production settings pass `manage.py check --deploy` when given production-like values. Each case
runs in a fresh interpreter, since settings are read once, at import."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from urllib.parse import quote

import pytest

from tests.conftest import REPO_ROOT

CLEARED = ["DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS", "CELERY_BROKER_URL",
           "EMAIL_USE_TLS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "MAX_IMAGE_BYTES", "DATABASE_CONN_MAX_AGE",
           "DATABASE_URL", "DATABASE_PARALLEL_WORKERS"]
IMPORT_SETTINGS = "from django.conf import settings; print('DEBUG', settings.DEBUG)"
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "endorse.example.org",
    "SITE_URL": "https://endorse.example.org",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(env)
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=environment, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_misspelt_boolean_stops_start_up():
    result = run(["-c", IMPORT_SETTINGS], DEBUG="flase", DJANGO_SETTINGS_MODULE="config.settings.base")
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DEBUG='flase' is not a boolean" in result.stderr
    assert "DEBUG" not in result.stdout


@pytest.mark.parametrize(("value", "expected"), [("false", "False"), ("0", "False"), ("yes", "True"), ("On", "True")])
def test_a_well_spelt_boolean_is_read(value, expected):
    result = run(["-c", IMPORT_SETTINGS], DEBUG=value, DJANGO_SETTINGS_MODULE="config.settings.base")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"DEBUG {expected}"


@pytest.mark.parametrize(("env", "message"), [
    ({"MAX_IMAGE_BYTES": "1MB"}, "MAX_IMAGE_BYTES='1MB' is not a whole number"),
    ({"SITE_URL": "endorse.example.org"}, "must be an absolute http(s) URL"),
    ({"SITE_URL": "https://endorse.example.org/app"}, "must not contain a path"),
    ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS='maybe' is not a boolean"),
])
def test_other_bad_values_stop_start_up_with_the_variable_named(env, message):
    result = run(["-c", IMPORT_SETTINGS], DJANGO_SETTINGS_MODULE="config.settings.base", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run(["-c", IMPORT_SETTINGS], **env)
    assert result.returncode != 0
    assert "The environment variable SECRET_KEY must be set." in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    # One silenced: django-oauth-toolkit's W008, http redirect URIs (loopback only: config/settings/base.py).
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_the_deploy_checks_do_catch_a_weak_production_setting():
    # The same command fails when a setting is weak, so the test above can fail too.
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                 **{**PRODUCTION, "SECRET_KEY": "short", "SECURE_SSL_REDIRECT": "false"})
    assert result.returncode != 0
    assert "security.W009" in result.stderr and "security.W008" in result.stderr


def test_production_is_never_in_debug_mode_whatever_the_environment_says():
    result = run(["-c", IMPORT_SETTINGS], **PRODUCTION, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DEBUG False"


CONNECTION = ("from django.conf import settings; d = settings.DATABASES['default']; "
              "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])")


@pytest.mark.parametrize(("settings_module", "env", "expected"), [
    ("config.settings.production", PRODUCTION, "60 True"),  # persistent, checked before reuse
    ("config.settings.production", {**PRODUCTION, "DATABASE_CONN_MAX_AGE": "0"}, "0 True"),
    ("config.settings.base", {}, "0 False"),  # the zero-setup default: one connection a request
])
def test_database_connections_persist_in_production_unless_told_otherwise(settings_module, env, expected):
    result = run(["-c", CONNECTION], **{**env, "DJANGO_SETTINGS_MODULE": settings_module})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


PARALLEL = ("from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))")


@pytest.mark.parametrize(("env", "expected"), [
    ({"DATABASE_URL": "postgres://u@db.example:5432/endorse"}, "-c max_parallel_workers_per_gather=0"),
    ({"DATABASE_URL": "postgres://u@db.example:5432/endorse", "DATABASE_PARALLEL_WORKERS": "2"},
     "-c max_parallel_workers_per_gather=2"),
    ({"DATABASE_URL": "sqlite:///tmp/x.sqlite3"}, "None"),  # SQLite: nothing to ask
])
def test_production_asks_postgresql_for_no_parallel_workers_unless_told(env, expected):
    result = run(["-c", PARALLEL], **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


SHOW_PARALLEL = ("import django; django.setup(); from django.db import connection; c = connection.cursor(); "
                 "c.execute('SHOW max_parallel_workers_per_gather'); print(c.fetchone()[0])")


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_takes_the_option_on_a_production_connection(postgres):
    from django.db import connection

    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    result = run(["-c", SHOW_PARALLEL], **PRODUCTION, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_a_bad_connection_age_stops_start_up():
    result = run(["-c", CONNECTION], **PRODUCTION, DATABASE_CONN_MAX_AGE="1m")
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE='1m' is not a whole number" in result.stderr


@pytest.mark.parametrize(("site_url", "check_id"), [
    ("http://endorse.example.org", "badges.E001"),
    ("https://192.0.2.10", "badges.E002"),
    ("https://[2001:db8::1]:8443", "badges.E002"),
    ("http://127.0.0.1:8000", "badges.E001"),
])
def test_the_deploy_checks_fail_when_site_url_cannot_be_a_resolvable_did_web(site_url, check_id):
    result = run(["manage.py", "check", "--deploy"], **{**PRODUCTION, "SITE_URL": site_url, "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert check_id in result.stderr and "did:web" in result.stderr
    if site_url == "http://127.0.0.1:8000":
        assert "badges.E002" in result.stderr  # both: not https, and an IP address


def test_the_site_url_check_does_not_run_outside_deploy():
    result = run(["manage.py", "check"], **{**PRODUCTION, "SITE_URL": "http://127.0.0.1:8000",
                                            "ALLOWED_HOSTS": "*"})
    assert result.returncode == 0, result.stdout + result.stderr
