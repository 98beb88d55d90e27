"""Unknown API paths answer the documented JSON error; a trailing slash on a real endpoint
redirects to it, keeping the method (308)."""

from __future__ import annotations

import pytest

from institutions.models import Role
from tests.factories import OrganisationFactory, api_client, staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/nothing", "/api/v1/nothing/", "/api/v1/programmes/x/y/z"])
def test_an_unknown_api_path_answers_json_404(path):
    response = api_client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "No API endpoint" in response.json()["detail"]


def test_a_trailing_slash_redirects_to_the_endpoint_keeping_the_method():
    owner = staff(OrganisationFactory(), Role.OWNER)
    client = api_client(owner)
    response = client.get("/api/v1/staff/?x=1")
    assert (response.status_code, response["Location"]) == (308, "/api/v1/staff?x=1")
    assert client.get("/api/v1/staff/", follow=True).status_code == 200
    posted = client.post("/api/v1/staff-invitations/", {"email": "a@example.org", "role": "editor"}, format="json",
                         follow=True)
    assert posted.status_code == 201


def test_known_errors_keep_their_shape():
    response = api_client().get("/api/v1/me")
    assert response.status_code in {401, 403} and "detail" in response.json()
