"""The API of renewals and changes: POST /api/v1/endorsements/{id}/renew, POST
/api/v1/applications/{id}/review-depth, and what applications and endorsements say about them."""

from __future__ import annotations

import pytest

from badges.services import programme_update
from endorsement import renewals, services
from endorsement.models import Application, ApplicationState, Endorsement
from institutions.models import Role
from tests.endorsement.renewal_walk import counts, ends_in, walk
from tests.factories import OrganisationFactory, api_client, application_in, staff

pytestmark = pytest.mark.django_db
S = ApplicationState


@pytest.fixture
def endorsed():
    application, cast = application_in(S.PUBLISHED)
    return ends_in(Endorsement.objects.get(application=application), 60), cast


def renew(client, endorsement):
    return client.post(f"/api/v1/endorsements/{endorsement.pk}/renew", format="json")


def test_an_editor_opens_the_renewal_and_gets_the_draft_application(endorsed):
    endorsement, cast = endorsed
    response = renew(api_client(cast.editor), endorsement)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["kind"], body["renews"], body["revises"]) == ("draft", "renewal", endorsement.pk, None)
    assert Application.objects.get(pk=body["id"]).renews == endorsement


def test_the_endorsement_says_when_renewal_opens_and_why_not_yet(endorsed, settings):
    endorsement, cast = endorsed
    body = api_client(cast.editor).get(f"/api/v1/endorsements/{endorsement.pk}").json()
    assert body["renewal_refused_because"] is None and body["renewal_opens_at"]
    assert (body["version"], body["predecessor"], body["successor"]) == (1, None, None)
    assert body["achievement"].endswith(f"/achievements/{endorsement.programme.public_id}")
    settings.RENEWAL_WINDOW_DAYS = 30
    body = api_client(cast.editor).get(f"/api/v1/endorsements/{endorsement.pk}").json()
    assert "A renewal can be opened from" in body["renewal_refused_because"]


def test_renew_refusals_answer_the_documented_errors_and_write_nothing(endorsed, settings):
    endorsement, cast = endorsed
    before = counts()
    assert renew(api_client(staff(cast.organisation, Role.ISSUER)), endorsement).status_code == 403
    assert renew(api_client(staff(OrganisationFactory(), Role.OWNER)), endorsement).status_code == 404
    assert renew(api_client(), endorsement).status_code in (401, 403)
    settings.RENEWAL_WINDOW_DAYS = 30
    early = renew(api_client(cast.editor), endorsement)
    assert early.status_code == 409 and "A renewal can be opened from" in early.json()["detail"]
    assert counts() == before


def test_the_renewal_shows_reviewers_the_changes_and_the_previous_judgements(endorsed):
    endorsement, cast = endorsed
    application = renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    programme_update(actor=cast.editor, programme=endorsement.programme, data={"level": "Level 8"})
    application = walk(application, cast, to=S.IN_REVIEW)
    mine = api_client(cast.reviewer).get(f"/api/v1/applications/{application.pk}").json()
    assert [(c["name"], c["after"]) for c in mine["changes_since_endorsed"]] == [("level", "Level 8")]
    code = next(iter(mine["previous_judgements"]))
    assert mine["previous_judgements"][code][0]["verdict"] == "met"
    theirs = api_client(cast.editor).get(f"/api/v1/applications/{application.pk}").json()
    assert theirs["changes_since_endorsed"] == mine["changes_since_endorsed"]
    assert theirs["previous_judgements"] == {}  # reviewers' names and verdicts are the body's


def test_a_new_application_has_no_changes_to_show():
    application, cast = application_in(S.SUBMITTED)
    body = api_client(cast.manager).get(f"/api/v1/applications/{application.pk}").json()
    assert (body["kind"], body["changes_since_endorsed"], body["previous_judgements"]) == ("new", None, {})


def test_a_manager_marks_a_change_minor_through_the_api(endorsed):
    endorsement, cast = endorsed
    change = services.application_create(actor=cast.editor, programme=endorsement.programme)
    change = walk(change, cast, to=S.SUBMITTED)
    url = f"/api/v1/applications/{change.pk}/review-depth"
    before = counts()
    assert api_client(cast.editor).post(url, {"depth": "minor", "comment": "x"}, format="json").status_code == 403
    missing = api_client(cast.manager).post(url, {"depth": "minor"}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()["errors"]
    unknown = api_client(cast.manager).post(url, {"depth": "deep"}, format="json")
    assert unknown.status_code == 400 and "depth" in unknown.json()["errors"]
    assert counts() == before
    done = api_client(cast.manager).post(url, {"depth": "minor", "comment": "Typo fixes."}, format="json")
    assert done.status_code == 200 and done.json()["review_depth"] == "minor"
    again = api_client(cast.manager).post(url, {"depth": "minor", "comment": "Typo fixes."}, format="json")
    assert again.status_code == 409
