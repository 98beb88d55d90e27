from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from institutions.models import Role
from tests.factories import PASSWORD, OrganisationFactory, manager, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return staff(OrganisationFactory(), Role.EDITOR)


def login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_login_page_renders_its_form(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html and 'name="password"' in html
    assert 'for="id_username"' in html


def test_a_correct_login_goes_to_the_portal_dashboard(client, editor):
    response = login(client, editor.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert client.session[SESSION_KEY] == str(editor.pk)


def test_a_wrong_password_is_refused_with_a_form_error_and_no_session(client, editor):
    response = login(client, editor.username, "wrong password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_logging_out_takes_a_post_and_ends_the_session(client, editor):
    client.force_login(editor)
    assert client.get(reverse("logout")).status_code == 405  # a link cannot log anyone out
    assert SESSION_KEY in client.session
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert SESSION_KEY not in client.session


def test_after_the_limit_of_failures_for_a_username_even_the_right_password_is_refused(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(2):  # from different addresses: the username's own count trips
        assert login(client, editor.username, "guess", address=f"10.0.1.{n}").status_code == 200
    locked = login(client, editor.username, "guess", address="10.0.1.9")
    assert locked.status_code == 429  # the failure that reaches the limit is answered as a lockout
    response = login(client, editor.username, PASSWORD, address="10.0.2.1")
    assert response.status_code == 429
    assert "Too many failed attempts to log in" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    assert SESSION_KEY not in client.session


def test_after_the_limit_of_failures_from_an_address_every_username_is_refused_there(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        login(client, f"someone{n}", "guess", address="10.0.3.3")
    refused = login(client, editor.username, PASSWORD, address="10.0.3.3")
    assert refused.status_code == 429
    assert "Too many failed attempts to log in" in refused.content.decode()
    assert SESSION_KEY not in client.session
    # The same user from another address is not affected by that address's failures.
    accepted = login(client, editor.username, PASSWORD, address="10.0.4.4")
    assert accepted.status_code == 302
    assert client.session[SESSION_KEY] == str(editor.pk)


def test_failures_below_the_limit_do_not_block(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    login(client, editor.username, "guess", address="10.0.5.1")
    login(client, editor.username, "guess", address="10.0.5.2")
    assert login(client, editor.username, PASSWORD, address="10.0.5.3").status_code == 302


def test_a_success_does_not_reset_the_count_of_failures(client, editor, settings):
    # A known password must not buy a guesser a fresh budget: failures age out with the window only.
    settings.LOGIN_FAILURE_LIMIT = 3
    login(client, "someone", "guess", address="10.0.5.1")
    login(client, "someone", "guess", address="10.0.5.1")
    assert login(client, editor.username, PASSWORD, address="10.0.5.1").status_code == 302
    client.logout()
    assert login(client, "someone", "guess", address="10.0.5.1").status_code == 429


def test_the_username_is_counted_whatever_its_case(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    login(client, editor.username.upper(), "guess", address="10.0.6.1")
    login(client, editor.username, "guess", address="10.0.6.2")
    response = login(client, editor.username, PASSWORD, address="10.0.6.3")
    assert response.status_code == 429
    assert "Too many failed attempts to log in" in response.content.decode()


def test_logging_in_works_again_once_the_window_has_passed(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        login(client, editor.username, "guess")
        login(client, editor.username, "guess")
        assert "Too many failed attempts" in login(client, editor.username, PASSWORD).content.decode()
        traveller.shift(timedelta(minutes=14, seconds=59))
        assert "Too many failed attempts" in login(client, editor.username, PASSWORD).content.decode()
        traveller.shift(timedelta(seconds=2))
        response = login(client, editor.username, PASSWORD)
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(editor.pk)


def test_a_refused_attempt_while_throttled_does_not_extend_or_reveal_anything(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    login(client, editor.username, "guess")
    wrong = login(client, editor.username, "another guess")
    right = login(client, editor.username, PASSWORD)
    # Right or wrong, a throttled attempt gets the same answer: it tells a guesser nothing.
    assert wrong.status_code == right.status_code == 429
    assert "Too many failed attempts" in wrong.content.decode()
    assert "Too many failed attempts" in right.content.decode()
    assert "Please enter a correct username" not in right.content.decode()


def test_the_lockout_page_is_in_japanese_for_a_japanese_browser(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    login(client, editor.username, "guess")
    response = client.post(reverse("login"), {"username": editor.username, "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.1", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 429
    assert "ログイン" in response.content.decode()
    assert "Too many failed attempts" not in response.content.decode()


def test_an_inactive_login_of_an_organisation_under_review_cannot_log_in(client):
    user = staff(OrganisationFactory(membership="applied"), Role.OWNER, is_active=False)
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_body_staff_logging_in_land_on_the_portal_which_points_them_to_the_admin(client):
    user = manager()
    response = login(client, user.username, PASSWORD)
    assert response["Location"] == reverse("portal:dashboard")
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("admin:index")}"' in page


def test_logging_in_returns_to_the_page_asked_for_but_never_to_another_site(client, editor):
    target = reverse("portal:programme_new")
    response = client.post(f"{reverse('login')}?next={target}",
                           {"username": editor.username, "password": PASSWORD, "next": target})
    assert response["Location"] == target
    client.logout()
    response = client.post(reverse("login"),
                           {"username": editor.username, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == reverse("portal:dashboard")
