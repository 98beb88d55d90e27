import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_is_served_and_lists_every_operation(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in [
        "/api/v1/auth/token", "/api/v1/me", "/api/v1/organisations/apply", "/api/v1/programmes",
        "/api/v1/programmes/{public_id}/image", "/api/v1/applications/{id}/assign-reviewer",
        "/api/v1/applications/{id}/request-changes", "/api/v1/applications/{id}/publish",
        "/api/v1/reviews/{id}/judgements", "/api/v1/reviews/{id}/complete", "/api/v1/endorsements/{id}/revoke",
        "/api/v1/criteria-tables/{id}", "/api/v1/conflicts",
        "/api/v1/staff", "/api/v1/staff/{id}", "/api/v1/staff-invitations",
        "/api/v1/staff-invitations/{public_id}/revoke",
        "/api/v1/staff-invitations/{token}/accept", "/api/v1/organisations/{slug}/approve",
        "/api/v1/organisations/{slug}/reject", "/api/v1/organisations/{slug}/suspend",
        "/api/v1/organisations/{slug}/reinstate",
    ]:
        assert expected in paths, expected


def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn raises CommandError on any warning; --validate checks against the OpenAPI spec.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "openapi:" in (tmp_path / "schema.yml").read_text()


def test_the_docs_page_renders_with_no_external_url(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    referenced = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
    assert referenced, "the page should load its script and style sheet"
    assert all(not re.match(r"^(https?:)?//", ref) for ref in referenced), referenced
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
