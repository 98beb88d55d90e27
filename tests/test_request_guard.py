"""Hostile requests (config/request_guard.py): oversized bodies, NUL characters in any field or
filter, JSON nested a thousand deep. Every endpoint, the anonymous ones included, answers the
documented JSON error (400 or 413) and writes nothing."""

from __future__ import annotations

import json

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from badges.models import Award, Programme
from endorsement.models import ApplicationState, AuditEvent, Review
from institutions.models import Organisation
from tests.factories import COMPLETE_PROGRAMME, PASSWORD, api_client, application_in

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000  # 2 KB
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _counts() -> dict[str, int]:
    return {"users": get_user_model().objects.count(), "tokens": Token.objects.count(),
            "organisations": Organisation.objects.count(), "programmes": Programme.objects.count(),
            "awards": Award.objects.count(), "reviews": Review.objects.count(), "audit": AuditEvent.objects.count(),
            "attempts": AccessAttempt.objects.count()}


@pytest.fixture
def world():
    app, cast = application_in(ApplicationState.SUBMITTED)
    return app, cast


def _endpoints(app, cast):
    """(client, path) for anonymous and signed-in writes across the apps."""
    anonymous = APIClient(raise_request_exception=False)
    editor = api_client(cast.editor)
    manager = api_client(cast.manager)
    return [
        (anonymous, "/api/v1/auth/token"),
        (anonymous, "/api/v1/organisations/apply"),
        (anonymous, "/api/v1/verify"),
        (editor, "/api/v1/programmes"),
        (editor, f"/api/v1/programmes/{app.programme.public_id}/awards"),
        (editor, f"/api/v1/applications/{app.pk}/withdraw"),
        (manager, f"/api/v1/applications/{app.pk}/assign-reviewer"),
        (manager, f"/api/v1/applications/{app.pk}/request-changes"),
    ]


def _assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] and body["errors"]
    return body


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_a_thousand_deep_is_refused_everywhere_and_writes_nothing(world, body):
    app, cast = world
    endpoints = _endpoints(app, cast)
    before = _counts()
    for client, path in endpoints:
        client.raise_request_exception = False
        response = client.post(path, data=body, content_type="application/json")
        errors = _assert_json_error(response, 400)["errors"]
        assert any("nested more than 64 levels" in m for ms in errors.values() for m in ms), (path, errors)
    assert _counts() == before
    app.refresh_from_db()
    assert app.state == ApplicationState.SUBMITTED


def test_json_nested_just_within_the_bound_is_read_as_usual(world):
    _app, cast = world
    shallow = {"username": cast.editor.username, "password": PASSWORD, "extra": [[[[[["deep enough"]]]]]]}
    response = APIClient().post("/api/v1/auth/token", shallow, format="json")
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.parametrize(("path_of", "payload", "field"), [
    (lambda app: "/api/v1/auth/token", {"username": "editor\x00", "password": "x"}, "username"),
    (lambda app: f"/api/v1/applications/{app.pk}/assign-reviewer", {"reviewer": "rev\x00iewer"}, "reviewer"),
    (lambda app: f"/api/v1/applications/{app.pk}/request-changes", {"message": "fix\x00this"}, "message"),
    (lambda app: "/api/v1/programmes", {**COMPLETE_PROGRAMME, "learning_outcomes": ["a", "b\x00"]},
     "learning_outcomes[1]"),
    (lambda app: "/api/v1/organisations/apply", {"name\x00": "x"}, "non_field_errors"),
])
def test_a_nul_character_in_any_json_field_is_refused_with_its_field_and_writes_nothing(world, path_of, payload,
                                                                                          field):
    app, cast = world
    client = api_client(cast.manager if "applications" in path_of(app) else cast.editor)
    before = _counts()
    response = client.post(path_of(app), data=json.dumps(payload), content_type="application/json")
    body = _assert_json_error(response, 400)
    assert body["errors"] == {field: ["Null characters are not allowed."]}
    assert _counts() == before
    app.refresh_from_db()
    assert app.state == ApplicationState.SUBMITTED


@pytest.mark.parametrize("query", ["limit=1%00", "offset=%00", "q=abc%00def", "a%00b=1"])
def test_a_nul_character_in_a_filter_is_refused(world, query):
    _app, cast = world
    response = api_client(cast.editor).get(f"/api/v1/programmes?{query}")
    body = _assert_json_error(response, 400)
    assert list(body["errors"].values()) == [["Null characters are not allowed."]]


def test_a_nul_character_in_a_page_filter_or_form_gets_a_page_not_a_server_error(client):
    response = client.get("/registry/?q=%00")
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    before = _counts()
    response = client.post("/accounts/login/", {"username": "x\x00", "password": "y"})
    assert response.status_code == 400
    assert _counts() == before


def test_a_body_over_the_limit_is_refused_with_413_unread_on_anonymous_endpoints(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = _counts()
    for path in ["/api/v1/auth/token", "/api/v1/organisations/apply", "/api/v1/verify"]:
        response = APIClient().post(path, data=b'{"username": "' + b"x" * 2000 + b'"}',
                                    content_type="application/json")
        body = _assert_json_error(response, 413)
        assert "larger than the 1,000 bytes allowed" in body["detail"]
    assert _counts() == before


def test_a_form_body_over_the_limit_gets_413_even_where_csrf_reads_it(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/accounts/login/", {"username": "x" * 2000, "password": "y"})
    assert response.status_code == 413
    assert "larger than the 1,000 bytes allowed" in response.content.decode()


def test_a_multipart_upload_over_the_upload_limit_is_refused_with_413(world, settings):
    app, cast = world
    settings.MAX_UPLOAD_REQUEST_BYTES = 10_000
    editor = api_client(cast.editor)
    before = _counts()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = editor.post(
        f"/api/v1/programmes/{app.programme.pk}/image",
        {"image": SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 20_000, content_type="image/png")},
        format="multipart")
    _assert_json_error(response, 413)
    assert _counts() == before
    app.programme.refresh_from_db()
    assert not app.programme.image


def test_a_content_length_that_is_not_a_number_is_refused():
    response = APIClient().post("/api/v1/auth/token", data=b"{}", content_type="application/json",
                                CONTENT_LENGTH="12abc")
    _assert_json_error(response, 400)


def test_a_credential_nested_too_deep_inside_a_multipart_upload_is_refused_on_its_field():
    nested = '{"@context": ["https://www.w3.org/ns/credentials/v2"], "x": ' + '{"a":' * 200 + "1" + "}" * 200 + "}"
    response = APIClient().post("/api/v1/verify", {"credential": nested}, format="multipart")
    body = _assert_json_error(response, 400)
    assert "nested more than 64 levels" in body["errors"]["credential"][0]


def test_a_post_to_a_path_no_api_route_matches_answers_the_json_404_not_a_csrf_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/v1/applications/0.5/withdraw", data="{}",
                                                     content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
