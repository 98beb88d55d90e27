import pytest
from rest_framework.authtoken.models import Token

from institutions.models import Role
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, api_client, manager, staff

pytestmark = pytest.mark.django_db


def test_a_token_is_given_for_the_right_password_and_opens_the_api():
    user = staff(OrganisationFactory(), Role.EDITOR)
    response = api_client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                                 format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token

    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me").json()["username"] == user.username


def test_a_wrong_password_answers_400_and_creates_no_token():
    user = UserFactory()
    response = api_client().post("/api/v1/auth/token", {"username": user.username, "password": "nope"},
                                 format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["errors"]["non_field_errors"][0]
    assert not Token.objects.exists()


def test_an_inactive_login_gets_no_token():
    user = UserFactory(is_active=False)
    response = api_client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                                 format="json")
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_a_token_request_without_a_password_names_the_missing_field():
    response = api_client().post("/api/v1/auth/token", {"username": "someone"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["password"] == ["This field is required."]
    assert not Token.objects.exists()


def test_token_requests_are_throttled_by_the_login_scope(monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    cache.clear()
    try:
        codes = [api_client().post("/api/v1/auth/token", {"username": "x", "password": "y"}, format="json").status_code
                 for _ in range(3)]
    finally:
        cache.clear()
    assert codes == [400, 400, 429]


def test_me_tells_the_user_their_organisation_and_role():
    organisation = OrganisationFactory()
    user = staff(organisation, Role.OWNER)
    body = api_client(user).get("/api/v1/me").json()
    assert body["organisation"]["slug"] == organisation.slug
    assert body["role"] == "owner"


def test_me_for_a_body_manager_names_the_certification_body():
    body = api_client(manager()).get("/api/v1/me").json()
    assert body["organisation"]["is_certification_body"] is True
    assert body["role"] == "manager"


def test_me_without_credentials_is_refused():
    assert api_client().get("/api/v1/me").status_code == 401


def test_session_auth_works_and_a_session_write_needs_the_csrf_token():
    from django.test import Client

    user = staff(OrganisationFactory(), Role.EDITOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me").json()["username"] == user.username
    response = client.post("/api/v1/programmes", {"name_en": "Via the session"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    from badges.models import Programme

    assert not Programme.objects.exists()
