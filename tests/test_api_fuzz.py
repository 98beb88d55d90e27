"""A fuzz run of the whole OpenAPI schema (schemathesis, bounded examples) as an owner of a member
organisation and as a manager of the body: no answer is a server error, and none contradicts the
schema (its status code, content type and body are all documented). Runs in CI with the suite;
MAX_EXAMPLES keeps it to a couple of minutes on two cores."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from endorsement.models import ApplicationState
from institutions.models import Role
from tests.factories import application_in, staff

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the WSGI handler, whose request_started/finished signals close database
    connections that look unusable, as the test's open transaction does on PostgreSQL. Django's own
    test client disconnects them for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    # A draft application (no criteria table yet) for the ids the fuzzer tries first.
    _app, cast = application_in(ApplicationState.DRAFT)
    owner = staff(cast.organisation, Role.OWNER)
    boss = cast.manager
    return {role: Token.objects.get_or_create(user=user)[0].key for role, user in (("owner", owner), ("manager", boss))}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "manager"])
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented(case, tokens, role):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)


@pytest.mark.django_db
def test_a_draft_applications_null_criteria_table_is_what_the_schema_says(tokens):
    from endorsement.models import Application

    app = Application.objects.get()
    case = schema["/api/v1/applications/{id}"]["GET"].Case(path_parameters={"id": app.pk})
    response = case.call(headers={"Authorization": f"Token {tokens['owner']}"})
    assert response.status_code == 200 and response.json()["criteria_table"] is None
    case.validate_response(response, checks=CHECKS)
