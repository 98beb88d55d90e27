import pytest

from endorsement import services
from endorsement.audit import audit_for
from endorsement.models import CriteriaTable, Endorsement
from tests.factories import api_client, application_in, default_table, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted():
    app, cast = application_in("published")
    return Endorsement.objects.get(application=app), cast


def url(endorsement, action=""):
    return f"/api/v1/endorsements/{endorsement.pk}" + (f"/{action}" if action else "")


def test_the_organisation_sees_its_endorsement_and_not_anothers(granted):
    endorsement, cast = granted
    other, _ = application_in("endorsed")
    client = api_client(cast.editor)
    listed = client.get("/api/v1/endorsements").json()["results"]
    assert [e["id"] for e in listed] == [endorsement.pk]
    body = client.get(url(endorsement)).json()
    assert body["state"] == "active"
    assert body["credential"]["type"][-1] == "EndorsementCredential"
    assert body["transitions"] == []
    assert client.get(url(other.endorsement)).status_code == 404


def test_a_manager_sees_every_endorsement_and_a_reviewer_those_they_reviewed(granted):
    endorsement, cast = granted
    other, _ = application_in("endorsed")
    assert {e["id"] for e in api_client(cast.manager).get("/api/v1/endorsements").json()["results"]} == {
        endorsement.pk, other.endorsement.pk}
    assert [e["id"] for e in api_client(cast.reviewer).get("/api/v1/endorsements").json()["results"]] == [
        endorsement.pk]
    assert api_client(reviewer()).get(url(endorsement)).status_code == 404


def test_a_manager_suspends_reinstates_and_revokes(granted):
    endorsement, cast = granted
    client = api_client(cast.manager)
    assert client.get(url(endorsement)).json()["transitions"] == ["suspend", "revoke"]
    response = client.post(url(endorsement, "suspend"), {"comment": "Assessment under investigation."},
                           format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "suspended"
    assert response.json()["transitions"] == ["reinstate", "revoke"]
    assert client.post(url(endorsement, "reinstate"), {}, format="json").json()["state"] == "active"
    response = client.post(url(endorsement, "revoke"), {"comment": "Programme closed."}, format="json")
    assert response.json()["state"] == "revoked"
    assert [e["action"] for e in response.json()["audit"]][-3:] == [
        "endorsement.suspended", "endorsement.reinstated", "endorsement.revoked"]


@pytest.mark.parametrize("action", ["suspend", "revoke"])
@pytest.mark.parametrize("payload", [{}, {"comment": " "}])
def test_suspending_or_revoking_needs_a_reason_and_changes_nothing_without_one(granted, action, payload):
    endorsement, cast = granted
    events = audit_for(endorsement).count()
    response = api_client(cast.manager).post(url(endorsement, action), payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["comment"] == ["This field is required."]
    endorsement.refresh_from_db()
    assert endorsement.state == "active"
    assert audit_for(endorsement).count() == events


@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke"])
def test_the_organisation_and_reviewers_may_not_change_an_endorsement(granted, action):
    endorsement, cast = granted
    for actor in (cast.editor, cast.reviewer):
        response = api_client(actor).post(url(endorsement, action), {"comment": "Because."}, format="json")
        assert response.status_code in {403, 409}
        assert response.json()["detail"]
    endorsement.refresh_from_db()
    assert endorsement.state == "active"


def test_the_organisation_is_refused_with_403_when_the_state_allows_the_action(granted):
    endorsement, cast = granted
    response = api_client(cast.editor).post(url(endorsement, "suspend"), {"comment": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You may not suspend this endorsement."


@pytest.mark.parametrize(("action", "payload"), [("reinstate", {}), ("suspend", {"comment": "Again."})])
def test_a_revoked_endorsement_stays_revoked(granted, action, payload):
    endorsement, cast = granted
    services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Closed.")
    response = api_client(cast.manager).post(url(endorsement, action), payload, format="json")
    assert response.status_code == 409
    endorsement.refresh_from_db()
    assert endorsement.state == "revoked"


def test_another_organisations_endorsement_cannot_be_acted_on(granted):
    endorsement, _ = granted
    _other_app, other_cast = application_in("draft")
    response = api_client(other_cast.editor).post(url(endorsement, "suspend"), {"comment": "x"}, format="json")
    assert response.status_code == 404
    endorsement.refresh_from_db()
    assert endorsement.state == "active"


# --- Criteria tables ------------------------------------------------------------------------------
def test_any_signed_in_user_reads_the_published_criteria_table():
    _app, cast = application_in("draft")
    table = default_table()
    client = api_client(cast.editor)
    listed = client.get("/api/v1/criteria-tables").json()["results"]
    pathway_table = CriteriaTable.objects.get(code="pathway", status="published")
    assert [(t["id"], t["subject"]) for t in listed] == [(table.pk, "programme"), (pathway_table.pk, "pathway")]
    body = client.get(f"/api/v1/criteria-tables/{table.pk}").json()
    assert body["status"] == "published"
    assert [c["code"] for c in body["criteria"]] == list(table.criteria.values_list("code", flat=True))


def test_draft_criteria_tables_are_not_shown_and_retired_ones_are():
    manager_user = application_in("draft")[1].manager
    old = default_table()
    draft = services.criteria_table_new_version(actor=manager_user, table=old)
    client = api_client(manager_user)
    assert client.get(f"/api/v1/criteria-tables/{draft.pk}").status_code == 404
    services.criteria_table_publish(actor=manager_user, table=draft)
    statuses = {t["id"]: t["status"] for t in client.get("/api/v1/criteria-tables").json()["results"]
                if t["code"] == "default"}
    assert statuses == {draft.pk: "published", old.pk: "retired"}
    assert CriteriaTable.objects.filter(code="default").count() == 2


def test_criteria_tables_need_a_signed_in_user():
    assert api_client().get("/api/v1/criteria-tables").status_code == 401


def test_criteria_tables_are_read_only():
    _app, cast = application_in("draft")
    response = api_client(cast.manager).post("/api/v1/criteria-tables", {"code": "x"}, format="json")
    assert response.status_code == 405
    assert CriteriaTable.objects.filter(code="default").count() == 1
