"""One lockout policy for every way in (django-axes, config/lockout.py): the login page, the
admin's login and the API's token endpoint share the counts, and all key on the real client address
(TRUSTED_PROXY_COUNT hops of X-Forwarded-For), whatever a client writes in that header."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.throttling import ScopedRateThrottle
from institutions.models import Role
from tests.factories import PASSWORD, OrganisationFactory, manager, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return staff(OrganisationFactory(), Role.EDITOR)


def page_login(client, username, password, address="10.0.0.1", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address,
                       **headers)


def admin_login(client, username, password, address="10.0.0.1", **headers):
    return client.post(reverse("admin:login"), {"username": username, "password": password,
                                                 "next": reverse("admin:index")}, REMOTE_ADDR=address, **headers)


def token_login(username, password, address="10.0.0.1", **headers):
    return APIClient().post(reverse("auth-token"), {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=address, **headers)


def test_the_token_endpoint_locks_a_username_out_and_issues_no_token(editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(2):
        assert token_login(editor.username, "guess", address=f"10.1.0.{n}").status_code == 400
    assert token_login(editor.username, "guess", address="10.1.0.9").status_code == 429
    locked = token_login(editor.username, PASSWORD, address="10.1.1.1")
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed attempts to log in")
    assert locked["Content-Type"] == "application/json"
    assert not Token.objects.filter(user=editor).exists()


def test_a_lockout_earned_on_the_login_page_holds_at_the_token_endpoint(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        page_login(client, editor.username, "guess", address=f"10.2.0.{n}")
    assert token_login(editor.username, PASSWORD, address="10.2.1.1").status_code == 429
    assert not Token.objects.filter(user=editor).exists()


def test_the_admin_login_is_locked_out_like_the_others(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    boss = manager()
    for n in range(3):
        admin_login(client, boss.username, "guess", address=f"10.3.0.{n}")
    response = admin_login(client, boss.username, PASSWORD, address="10.3.1.1")
    assert response.status_code == 429
    assert "Too many failed attempts to log in" in response.content.decode()
    assert SESSION_KEY not in client.session
    # ...and the API refuses the same username, whoever earned the lockout.
    assert token_login(boss.username, PASSWORD, address="10.3.2.2").status_code == 429


def test_the_admin_login_still_works_below_the_limit(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    boss = manager()
    admin_login(client, boss.username, "guess")
    response = admin_login(client, boss.username, PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(boss.pk)


def test_a_correct_token_login_below_the_limit_answers_a_token(editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    token_login(editor.username, "guess")
    response = token_login(editor.username, PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=editor).key


def test_a_spoofed_forwarded_for_does_not_escape_the_address_lockout_without_proxies(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):  # different usernames, a different header each time: one address
        token_login(f"someone{n}", "guess", address="203.0.113.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert token_login(editor.username, PASSWORD, address="203.0.113.5",
                       HTTP_X_FORWARDED_FOR="198.51.100.77").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_behind_one_proxy_the_address_the_proxy_saw_is_locked_not_the_spoofed_one(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(3):
        # The client forges the left part; the proxy (REMOTE_ADDR 10.9.9.9) appends what it saw.
        page_login(client, f"someone{n}", "guess", address="10.9.9.9",
                   HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.8")
    refused = page_login(client, editor.username, PASSWORD, address="10.9.9.9",
                         HTTP_X_FORWARDED_FOR="198.51.100.200, 203.0.113.8")
    assert refused.status_code == 429
    # Another client behind the same proxy is not locked out.
    accepted = page_login(client, editor.username, PASSWORD, address="10.9.9.9",
                          HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert accepted.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.8"}


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_token_throttle_keys_on_the_real_address_not_on_forwarded_for(editor, settings, monkeypatch, proxies):
    # Throttling (requests a minute) is separate from the lockout (failed logins): switch the
    # lockout off here so only the throttle can answer 429.
    settings.AXES_ENABLED = False
    cache.clear()  # the throttle's counts live in the cache
    settings.TRUSTED_PROXY_COUNT = proxies
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "10/min"})
    statuses = []
    for n in range(50):
        forwarded = f"198.51.100.{n}" if proxies == 0 else f"198.51.100.{n}, 203.0.113.7"
        statuses.append(token_login(editor.username, "guess", address="10.8.8.8",
                                    HTTP_X_FORWARDED_FOR=forwarded).status_code)
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429] * 40
    assert not Token.objects.filter(user=editor).exists()


def test_drf_reads_forwarded_for_as_the_trusted_proxy_count_says():
    from rest_framework.settings import api_settings

    from config.settings import base

    assert api_settings.NUM_PROXIES == base.TRUSTED_PROXY_COUNT


def test_a_failed_login_from_a_request_without_an_address_is_counted_not_a_server_error(editor, settings):
    # PostgreSQL refuses "unknown" in the lockout's IP address column: such attempts count by username.
    settings.LOGIN_FAILURE_LIMIT = 2
    client = APIClient(raise_request_exception=True)
    for _ in range(2):
        response = client.post(reverse("auth-token"), {"username": editor.username, "password": "guess"},
                               format="json", REMOTE_ADDR="")
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [None]
