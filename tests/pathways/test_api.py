"""/api/v1/pathways: create, change, apply; bad input answers 400 with field messages and writes nothing."""

from __future__ import annotations

import pytest

from endorsement.models import Application, AuditEvent
from institutions.models import Role
from pathways.models import Pathway, PathwayComponent
from tests.factories import Cast, ProgrammeFactory, api_client, staff
from tests.pathways.helpers import pathway_data

pytestmark = pytest.mark.django_db


def test_an_editor_creates_a_pathway_applies_and_submits():
    cast = Cast()
    first, second = ProgrammeFactory(), ProgrammeFactory()
    client = api_client(cast.editor)
    response = client.post("/api/v1/pathways", pathway_data(first, second), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [c["code"] for c in body["components"]] == ["literacy", "stats", "project"]
    assert body["components"][0]["programme"] == str(first.public_id)
    assert body["components"][0]["effective_hours"] == "30.0"
    assert body["rules"][2] == {"kind": "order", "position": 2, "n": None, "hours": None,
                                "components": ["literacy", "project"]}
    assert body["problems"] == []
    assert body["achievement"].endswith(f"/achievements/pathways/{body['public_id']}")
    applied = client.post(f"/api/v1/pathways/{body['public_id']}/apply")
    assert applied.status_code == 201
    assert applied.json()["pathway"]["public_id"] == body["public_id"]
    assert applied.json()["programme"] is None
    submitted = client.post(f"/api/v1/applications/{applied.json()['id']}/submit")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["criteria_table"]["code"] == "pathway"


def test_an_unsound_structure_is_refused_with_messages_and_nothing_is_written():
    cast = Cast()
    data = pathway_data(ProgrammeFactory(), ProgrammeFactory())
    data["rules"] = [{"kind": "at_least_n", "components": ["literacy", "stats"], "n": 3},
                     {"kind": "all", "components": ["ghost"]}]
    response = api_client(cast.editor).post("/api/v1/pathways", data, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "Unknown components: ghost." in str(errors)
    assert Pathway.objects.count() == 0 and PathwayComponent.objects.count() == 0
    assert not AuditEvent.objects.filter(action="pathway.created").exists()


def test_an_external_component_needs_its_issuer_and_what_it_certifies():
    cast = Cast()
    data = pathway_data(ProgrammeFactory(), ProgrammeFactory())
    data["components"][1].update(issuer_id="", description_en="", description_ja="")
    response = api_client(cast.editor).post("/api/v1/pathways", data, format="json")
    assert response.status_code == 400
    text = str(response.json())
    assert "Give the issuer's DID or URL." in text
    assert "Say what the external achievement certifies." in text
    assert Pathway.objects.count() == 0


def test_double_counted_hours_are_refused():
    cast = Cast()
    data = pathway_data(ProgrammeFactory(), ProgrammeFactory())
    data["rules"].append({"kind": "at_least_hours", "components": ["stats", "literacy"], "hours": "5"})
    response = api_client(cast.editor).post("/api/v1/pathways", data, format="json")
    assert response.status_code == 400
    assert "its hours would be counted twice" in str(response.json())
    assert Pathway.objects.count() == 0


def test_an_issuer_may_not_create_and_others_do_not_see_it():
    cast = Cast()
    viewer = staff(cast.organisation, Role.ISSUER)
    data = pathway_data(ProgrammeFactory(), ProgrammeFactory())
    assert api_client(viewer).post("/api/v1/pathways", data, format="json").status_code == 403
    created = api_client(cast.editor).post("/api/v1/pathways", data, format="json").json()
    stranger = Cast()
    assert api_client(stranger.editor).get(f"/api/v1/pathways/{created['public_id']}").status_code == 404
    assert api_client(cast.manager).get(f"/api/v1/pathways/{created['public_id']}").status_code == 200


def test_editing_replaces_the_structure_and_is_refused_under_review():
    cast = Cast()
    client = api_client(cast.editor)
    created = client.post("/api/v1/pathways", pathway_data(ProgrammeFactory(), ProgrammeFactory()),
                          format="json").json()
    url = f"/api/v1/pathways/{created['public_id']}"
    changed = client.patch(url, {"name_en": "Analyst pathway"}, format="json")
    assert changed.status_code == 200 and changed.json()["name_en"] == "Analyst pathway"
    assert len(changed.json()["components"]) == 3  # untouched when not given
    app = client.post(url + "/apply").json()
    client.post(f"/api/v1/applications/{app['id']}/submit")
    refused = client.patch(url, {"name_en": "Again"}, format="json")
    assert refused.status_code == 409
    assert Pathway.objects.get(public_id=created["public_id"]).name_en == "Analyst pathway"
    assert Application.objects.filter(pathway__public_id=created["public_id"]).count() == 1


def test_a_draft_without_structure_is_saved_but_cannot_be_submitted():
    cast = Cast()
    client = api_client(cast.editor)
    created = client.post("/api/v1/pathways", {"name_en": "Draft pathway"}, format="json")
    assert created.status_code == 201
    assert created.json()["problems"] == ["description", "learning_outcomes", "learning_hours",
                                          "assessment_of_whole", "responsible_person", "components", "rules"]
    app = client.post(f"/api/v1/pathways/{created.json()['public_id']}/apply").json()
    refused = client.post(f"/api/v1/applications/{app['id']}/submit")
    assert refused.status_code == 409
    assert Application.objects.get(pk=app["id"]).state == "draft"
