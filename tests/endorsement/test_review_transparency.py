"""Review transparency: a refused endorse names the unmet criteria and who judged them so (409, in
machine-readable form); managers read every judgement; an organisation whose application is sent
back reads which criteria were not met and the reviewers' comments (names hidden if the body says so)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from config.errors import WrongState
from endorsement import services
from endorsement.audit import AuditAction, audit_for
from endorsement.models import ApplicationState, AuditEvent, Endorsement
from institutions.models import Role
from tests.factories import Cast, api_client, application_in, judge_all, reviewer, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def judged(verdicts: dict[str, str] | None = None, *, second: bool = False):
    """An application in review judged by its reviewer: every criterion met but those in `verdicts`;
    with `second`, a second reviewer assigned who has not completed."""
    app, cast = application_in(ApplicationState.IN_REVIEW)
    judge_all(app, cast.reviewer, "met")
    review = app.reviews.get(reviewer=cast.reviewer)
    if verdicts:
        services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
            {"criterion": code, "verdict": verdict, "comment": f"{code} needs work"}
            for code, verdict in verdicts.items()])
    services.review_complete(actor=cast.reviewer, review=review, summary="Clear, but assessment is thin.")
    other = None
    if second:
        other = reviewer()
        services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=other)
    return app, cast, other


def required_codes(app) -> list[str]:
    return [c.code for c in app.criteria_table.criteria.all() if c.required]


def url(app, action=""):
    base = reverse("application-detail", args=[app.pk])
    return f"{base}/{action}" if action else base


def test_a_refused_endorse_names_each_unmet_criterion_and_its_reviewer():
    probe, _cast, _ = judged()
    code = required_codes(probe)[0]
    app, cast, other = judged({code: "not_met"}, second=True)
    events = AuditEvent.objects.count()
    response = api_client(cast.manager).post(url(app, "endorse"), {"comment": "Fine."}, format="json")
    assert response.status_code == 409
    body = response.json()
    name = cast.reviewer.get_username()
    assert body["unmet_criteria"] == [{"criterion": code, "reviewer": name, "verdict": "not_met",
                                       "comment": f"{code} needs work"}]
    assert body["incomplete_reviews"] == [other.get_username()]
    assert f"{name} judged required criterion {code}: not met." in body["detail"]
    assert f"{other.get_username()} has not completed the review." in body["detail"]
    app.refresh_from_db()
    assert app.state == ApplicationState.IN_REVIEW and not Endorsement.objects.filter(application=app).exists()
    assert AuditEvent.objects.count() == events


def test_the_service_refusal_carries_the_same_details():
    probe, _cast, _ = judged()
    code = required_codes(probe)[-1]
    app, cast, _ = judged({code: "partially_met"})
    with pytest.raises(WrongState) as refused:
        services.application_endorse(actor=cast.manager, application=app)
    assert refused.value.details["unmet_criteria"][0]["verdict"] == "partially_met"
    assert refused.value.details["incomplete_reviews"] == []
    assert not audit_for(app).filter(action=AuditAction.APPLICATION_ENDORSED).exists()


def test_a_refusal_for_another_reason_has_no_criteria_list():
    app, cast = application_in(ApplicationState.SUBMITTED)
    response = api_client(cast.manager).post(url(app, "endorse"), {}, format="json")
    assert response.status_code == 409 and "unmet_criteria" not in response.json()
    editor = api_client(cast.editor).post(url(app, "endorse"), {}, format="json")
    assert editor.status_code in (403, 409) and "unmet_criteria" not in editor.json()


def test_managers_read_every_judgement_and_others_none():
    app, cast, _ = judged()
    body = api_client(cast.manager).get(url(app)).json()
    assert len(body["judgements"]) == app.criteria_table.criteria.count()
    first = body["judgements"][0]
    assert first["reviewer"] == cast.reviewer.get_username() and first["review_complete"] is True
    assert set(first) >= {"criterion", "required", "verdict", "comment", "updated_at"}
    assert api_client(cast.editor).get(url(app)).json()["judgements"] == []
    assert api_client(cast.reviewer).get(url(app)).json()["judgements"] == []
    assert api_client(cast.editor).get(url(app)).json()["feedback"] is None  # not while in review


def test_when_changes_are_requested_the_member_reads_the_unmet_criteria_and_comments(client):
    probe, _cast, _ = judged()
    code = required_codes(probe)[0]
    app, cast, _ = judged({code: "not_met"})
    services.application_request_changes(actor=cast.manager, application=app, message="See the assessment.")
    feedback = api_client(cast.editor).get(url(app)).json()["feedback"]
    assert feedback["message"] == "See the assessment."
    assert [(u["criterion"], u["verdict"], u["comment"], u["reviewer"]) for u in feedback["unmet_criteria"]] == [
        (code, "not_met", f"{code} needs work", cast.reviewer.get_username())]
    assert feedback["reviews"] == [{"reviewer": cast.reviewer.get_username(),
                                    "summary": "Clear, but assessment is thin."}]
    client.force_login(cast.editor)
    html = client.get(reverse("portal:application", args=[app.pk])).content.decode()
    assert "What the reviewers found" in html and f"{code} needs work" in html
    assert cast.reviewer.get_username() in html and "Clear, but assessment is thin." in html
    # Another organisation still sees nothing of it.
    stranger = api_client(staff(Cast().organisation, Role.OWNER))
    assert stranger.get(url(app)).status_code == 404


def test_the_body_may_hide_reviewer_names(client, settings):
    settings.REVIEWER_NAMES_SHOWN = False
    probe, _cast, _ = judged()
    code = required_codes(probe)[0]
    app, cast, _ = judged({code: "not_met"})
    services.application_request_changes(actor=cast.manager, application=app, message="See below.")
    feedback = api_client(cast.editor).get(url(app)).json()["feedback"]
    assert feedback["reviewer_names_shown"] is False
    assert {u["reviewer"] for u in feedback["unmet_criteria"]} == {"Reviewer 1"}
    client.force_login(cast.editor)
    html = client.get(reverse("portal:application", args=[app.pk])).content.decode()
    assert "Reviewer 1" in html and cast.reviewer.get_username() not in html
    # Managers still read names.
    assert api_client(cast.manager).get(url(app)).json()["judgements"][0]["reviewer"] == cast.reviewer.get_username()
