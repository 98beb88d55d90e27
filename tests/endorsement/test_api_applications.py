import pytest

from endorsement.audit import audit_for
from endorsement.models import Application, Endorsement, Review
from institutions.models import Role
from tests.factories import (
    Cast,
    OrganisationFactory,
    ProgrammeFactory,
    api_client,
    application_in,
    judge_all,
    manager,
    reviewer,
    staff,
)

pytestmark = pytest.mark.django_db


def url(app, action=""):
    return f"/api/v1/applications/{app.pk}" + (f"/{action}" if action else "")


# --- Create, list, retrieve, scoping --------------------------------------------------------------
def test_an_editor_opens_a_draft_application_for_their_programme():
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation)
    response = api_client(cast.editor).post("/api/v1/applications", {"programme": str(programme.public_id)},
        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft"
    assert body["programme"]["public_id"] == str(programme.public_id)
    assert body["transitions"] == ["submit", "withdraw"]
    assert [e["action"] for e in body["audit"]] == ["application.created"]


def test_an_application_for_another_organisations_programme_is_refused_and_not_written():
    cast = Cast()
    theirs = ProgrammeFactory()
    response = api_client(cast.editor).post("/api/v1/applications", {"programme": str(theirs.public_id)}, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"]["programme"][0]
    assert not Application.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"programme": "abc"}, {"programme": None}, {"programme": 1},
                                     {"programme": "00000000-0000-0000-0000-000000000000"}])
def test_an_application_without_a_valid_programme_names_the_field(payload):
    cast = Cast()
    response = api_client(cast.editor).post("/api/v1/applications", payload, format="json")
    assert response.status_code == 400
    assert "programme" in response.json()["errors"]
    assert not Application.objects.exists()


def test_a_second_open_application_for_one_programme_is_refused():
    app, cast = application_in("submitted")
    response = api_client(cast.editor).post("/api/v1/applications", {"programme": str(app.programme.public_id)},
        format="json")
    assert response.status_code == 409
    assert "already has an open application" in response.json()["detail"]
    assert Application.objects.count() == 1


def test_an_issuer_may_not_open_an_application():
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation)
    issuer = staff(cast.organisation, Role.ISSUER)
    response = api_client(issuer).post("/api/v1/applications", {"programme": str(programme.public_id)}, format="json")
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_staff_see_only_their_organisations_applications():
    mine, cast = application_in("draft")
    theirs, _ = application_in("submitted")
    client = api_client(cast.editor)
    listed = client.get("/api/v1/applications").json()["results"]
    assert [a["id"] for a in listed] == [mine.pk]
    assert client.get(url(theirs)).status_code == 404
    response = client.post(url(theirs, "withdraw"), {}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "submitted"


def test_a_manager_sees_every_application_and_a_reviewer_only_their_assigned_ones():
    assigned, cast = application_in("in_review")
    other, _ = application_in("submitted")
    all_ids = {a["id"] for a in api_client(cast.manager).get("/api/v1/applications").json()["results"]}
    assert {assigned.pk, other.pk} <= all_ids
    client = api_client(cast.reviewer)
    assert [a["id"] for a in client.get("/api/v1/applications").json()["results"]] == [assigned.pk]
    assert client.get(url(other)).status_code == 404


def test_a_user_of_no_organisation_sees_nothing():
    from tests.factories import UserFactory

    app, _ = application_in("draft")
    client = api_client(UserFactory())
    assert client.get("/api/v1/applications").json()["results"] == []
    assert client.get(url(app)).status_code == 404


def test_the_detail_shows_snapshot_pinned_table_reviews_and_audit_trail():
    app, cast = application_in("in_review")
    body = api_client(cast.manager).get(url(app)).json()
    assert body["revision"] == 1
    assert body["snapshot"]["name_en"] == app.programme.name_en
    assert len(body["snapshot_sha256"]) == 64
    assert body["criteria_table"]["code"] == "default"
    assert body["criteria_table"]["version"] == app.criteria_table.version
    assert body["reviews"][0]["reviewer"] == cast.reviewer.username
    assert body["reviews"][0]["complete"] is False
    assert [e["action"] for e in body["audit"]] == [e.action for e in audit_for(app)]
    assert "data" in body["audit"][1]
    assert set(body["transitions"]) == {"request_changes", "reject"}


def test_applicants_see_the_review_progress_but_not_who_reviews():
    app, cast = application_in("in_review")
    body = api_client(cast.editor).get(url(app)).json()
    assert body["reviews"][0]["reviewer"] is None
    assert all("data" not in event for event in body["audit"])
    assert body["transitions"] == []


# --- Transitions: allowed and refused by role and state --------------------------------------------
# (state, action, who, expected status, state afterwards)
MATRIX = [
    ("draft", "submit", "editor", 200, "submitted"),
    ("draft", "submit", "manager", 403, "draft"),
    ("submitted", "submit", "editor", 409, "submitted"),
    ("draft", "withdraw", "editor", 200, "withdrawn"),
    ("submitted", "withdraw", "editor", 200, "withdrawn"),
    ("changes_requested", "withdraw", "editor", 200, "withdrawn"),
    ("in_review", "withdraw", "editor", 409, "in_review"),
    ("submitted", "withdraw", "manager", 403, "submitted"),
    ("changes_requested", "resubmit", "editor", 200, "submitted"),
    ("draft", "resubmit", "editor", 409, "draft"),
    ("changes_requested", "resubmit", "manager", 403, "changes_requested"),
    ("submitted", "start-review", "manager", 409, "submitted"),  # no reviewer assigned yet
    ("submitted", "start-review", "editor", 403, "submitted"),
    ("in_review", "start-review", "manager", 409, "in_review"),
    ("in_review", "request-changes", "manager", 200, "changes_requested"),
    ("in_review", "request-changes", "editor", 403, "in_review"),
    ("in_review", "request-changes", "reviewer", 403, "in_review"),
    ("submitted", "request-changes", "manager", 409, "submitted"),
    ("in_review", "endorse", "manager", 409, "in_review"),  # reviews not complete
    ("in_review", "endorse", "editor", 403, "in_review"),
    ("in_review", "endorse", "reviewer", 403, "in_review"),
    ("in_review", "reject", "manager", 200, "rejected"),
    ("in_review", "reject", "reviewer", 403, "in_review"),
    ("endorsed", "reject", "manager", 409, "endorsed"),
    ("endorsed", "publish", "manager", 200, "published"),
    ("endorsed", "publish", "editor", 403, "endorsed"),
    ("in_review", "publish", "manager", 409, "in_review"),
    ("published", "withdraw", "editor", 409, "published"),
    ("rejected", "resubmit", "editor", 409, "rejected"),
    ("withdrawn", "submit", "editor", 409, "withdrawn"),
]
PAYLOADS = {"request-changes": {"message": "State the weights."}, "reject": {"comment": "Out of scope."}}


@pytest.mark.parametrize(("state", "action", "who", "expected", "after"), MATRIX)
def test_transitions_through_the_api_by_role_and_state(state, action, who, expected, after):
    app, cast = application_in(state)
    events_before = audit_for(app).count()
    response = api_client(getattr(cast, who)).post(url(app, action), PAYLOADS.get(action, {}), format="json")
    assert response.status_code == expected, response.json()
    app.refresh_from_db()
    assert app.state == after
    if expected == 200:
        assert response.json()["state"] == after
        assert audit_for(app).count() == events_before + 1
    else:
        assert response.json()["detail"]
        assert audit_for(app).count() == events_before


def test_a_refused_start_review_says_why():
    app, cast = application_in("submitted")
    response = api_client(cast.manager).post(url(app, "start-review"), {}, format="json")
    assert response.json()["detail"] == "Assign at least one reviewer first."


def test_an_endorsement_before_every_review_is_complete_is_refused_with_the_reason():
    app, cast = application_in("in_review")
    response = api_client(cast.manager).post(url(app, "endorse"), {"comment": "Fine."}, format="json")
    assert response.status_code == 409
    assert "Every assigned review must be complete" in response.json()["detail"]
    assert not Endorsement.objects.filter(application=app).exists()


def test_an_editor_submits_and_the_snapshot_is_frozen():
    app, cast = application_in("draft")
    response = api_client(cast.editor).post(url(app, "submit"), format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 1
    assert body["snapshot"]["slug"] == app.programme.slug
    assert body["criteria_table"]["code"] == "default"
    assert body["transitions"] == ["withdraw"]


def test_submitting_an_incomplete_programme_is_refused_and_says_so():
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, assessment_method="")
    app, _ = application_in("draft", cast=cast, programme=programme)
    response = api_client(cast.editor).post(url(app, "submit"), format="json")
    assert response.status_code == 409
    assert "programme is incomplete" in response.json()["detail"]
    app.refresh_from_db()
    assert app.state == "draft" and app.snapshot is None


def test_a_suspended_member_may_not_submit():
    cast = Cast(OrganisationFactory(membership="suspended"))
    app, _ = application_in("draft", cast=cast)
    response = api_client(cast.editor).post(url(app, "submit"), format="json")
    assert response.status_code == 409
    assert "active member" in response.json()["detail"]


def test_resubmission_raises_the_revision_and_reopens_reviews():
    app, cast = application_in("changes_requested")
    response = api_client(cast.editor).post(url(app, "resubmit"), {"comment": "Weights stated."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2
    assert body["changes_message"] == "Please state the assessment weights."
    assert body["audit"][-1]["comment"] == "Weights stated."


@pytest.mark.parametrize(("action", "payload", "field"), [
    ("request-changes", {}, "message"),
    ("request-changes", {"message": "  "}, "message"),
    ("reject", {}, "comment"),
    ("reject", {"comment": ""}, "comment"),
])
def test_a_decision_without_its_text_is_refused_and_changes_nothing(action, payload, field):
    app, cast = application_in("in_review")
    events_before = audit_for(app).count()
    response = api_client(cast.manager).post(url(app, action), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][field] == ["This field is required."]
    app.refresh_from_db()
    assert app.state == "in_review"
    assert audit_for(app).count() == events_before


def test_a_manager_endorses_when_every_required_criterion_is_met(django_capture_on_commit_callbacks):
    app, cast = application_in("in_review")
    judge_all(app, cast.reviewer)
    review = app.reviews.get()
    client = api_client(cast.reviewer)
    assert client.post(f"/api/v1/reviews/{review.pk}/complete", {}, format="json").status_code == 200
    manager_client = api_client(cast.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url(app, "endorse"), {"comment": "Meets all."}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["state"] == "endorsed"
        assert body["decision_comment"] == "Meets all."
        assert body["endorsement"] is not None
        # The credential is signed after commit: until then publishing is not offered.
        assert body["transitions"] == []
    assert manager_client.get(url(app)).json()["transitions"] == ["publish"]


# --- Assigning reviewers --------------------------------------------------------------------------
def test_a_manager_assigns_a_reviewer_by_username():
    app, cast = application_in("submitted")
    response = api_client(cast.manager).post(url(app, "assign-reviewer"), {"reviewer": cast.reviewer.username},
                                             format="json")
    assert response.status_code == 200
    assert Review.objects.filter(application=app, reviewer=cast.reviewer).exists()
    assert "start_review" in response.json()["transitions"]


@pytest.mark.parametrize(("who_is_assigned", "status", "message"), [
    ("nobody-by-this-name", 400, "does not exist"),
    ("editor", 400, "is not a reviewer or manager of the certification body"),
])
def test_assigning_someone_who_cannot_review_is_refused(who_is_assigned, status, message):
    app, cast = application_in("submitted")
    user = getattr(cast, who_is_assigned, None)
    username = user.username if user else who_is_assigned
    response = api_client(cast.manager).post(url(app, "assign-reviewer"), {"reviewer": username}, format="json")
    assert response.status_code == status
    assert message in response.json()["errors"]["reviewer"][0]
    assert not Review.objects.filter(application=app).exists()


def test_a_reviewer_with_a_declared_conflict_cannot_be_assigned():
    from institutions.models import ConflictOfInterest

    app, cast = application_in("submitted")
    ConflictOfInterest.objects.create(reviewer=cast.reviewer, organisation=app.organisation, reason="Alumnus")
    response = api_client(cast.manager).post(url(app, "assign-reviewer"), {"reviewer": cast.reviewer.username},
                                             format="json")
    assert response.status_code == 400
    assert "conflict of interest" in response.json()["errors"]["reviewer"][0]
    assert not Review.objects.exists()


def test_assigning_the_same_reviewer_twice_is_refused():
    app, cast = application_in("in_review")
    response = api_client(cast.manager).post(url(app, "assign-reviewer"), {"reviewer": cast.reviewer.username},
                                             format="json")
    assert response.status_code == 409
    assert Review.objects.filter(application=app).count() == 1


def test_only_managers_assign_reviewers():
    app, cast = application_in("submitted")
    other_reviewer = reviewer()
    for actor in (cast.editor, other_reviewer):
        response = api_client(actor).post(url(app, "assign-reviewer"), {"reviewer": cast.reviewer.username},
                                          format="json")
        assert response.status_code in {403, 404}
    assert not Review.objects.exists()


def test_reviewers_cannot_be_assigned_to_a_draft():
    app, cast = application_in("draft")
    response = api_client(manager()).post(url(app, "assign-reviewer"), {"reviewer": cast.reviewer.username},
                                          format="json")
    assert response.status_code == 409
    assert not Review.objects.exists()
