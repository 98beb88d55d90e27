"""A pathway goes through the programmes' review machinery: its own criteria table, the same
states, conflict rules, snapshot and audit; endorsed, the body signs an EndorsementCredential about
the pathway's Achievement, with the same standing lifecycle and status entry."""

from __future__ import annotations

import json

import jsonschema
import pytest
from django.urls import reverse

from badges import credentials as vc
from config.errors import InvalidInput, WrongState
from endorsement import services
from endorsement.models import Application, AuditEvent, Endorsement
from endorsement.registry import registry_refresh
from institutions.keys import did_document
from institutions.models import Organisation
from pathways.achievements import pathway_achievement, pathway_achievement_id
from pathways.models import Pathway
from tests.factories import Cast, ProgrammeFactory, body, manager, reviewer
from tests.pathways.helpers import EXTERNAL, endorsed_programmes, pathway_in

pytestmark = pytest.mark.django_db


def verify(credential):
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    return vc.verify(credential, resolver)


def test_submission_pins_the_pathway_table_and_freezes_components_and_rules():
    app, _cast, _pathway = pathway_in("submitted")
    assert app.criteria_table.code == "pathway"
    assert [c.code for c in app.criteria_table.criteria.all()] == [
        "COHERENCE", "PROGRESSION", "HOURS", "EXTERNAL_QA", "WHOLE", "STACKING"]
    assert app.snapshot["kind"] == "pathway"
    assert [c["code"] for c in app.snapshot["components"]] == ["literacy", "stats", "project"]
    assert app.snapshot["components"][1]["external"]["achievement_url"] == EXTERNAL
    assert app.snapshot["rules"][1] == {"kind": "at_least_hours", "position": 1, "n": None, "hours": "10.0",
                                        "components": ["stats"]}
    assert len(app.snapshot_sha256) == 64
    assert AuditEvent.objects.filter(action="application.submitted", subject_id=str(app.pk)).exists()


def test_a_programme_application_still_pins_the_programme_table():
    from tests.factories import application_in

    app, _ = application_in("submitted")
    assert app.criteria_table.code == "default"


def test_the_pathway_cannot_be_changed_while_under_review():
    from pathways.services import pathway_update

    _app, cast, pathway = pathway_in("submitted")
    with pytest.raises(WrongState, match="under review"):
        pathway_update(actor=cast.editor, pathway=pathway, data={"name_en": "Other"})
    pathway.refresh_from_db()
    assert pathway.name_en == "Data analyst pathway"


def test_staff_of_the_applying_organisation_may_not_review_it():
    app, cast, _ = pathway_in("submitted")
    from institutions.models import Role
    from tests.factories import staff

    insider = staff(cast.organisation, Role.EDITOR)
    with pytest.raises(InvalidInput):
        services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=insider)
    assert app.reviews.count() == 0


def test_a_second_open_application_for_the_pathway_is_refused():
    _app, cast, pathway = pathway_in("draft")
    with pytest.raises(WrongState, match="already has an open application"):
        services.pathway_application_create(actor=cast.editor, pathway=pathway)
    assert Application.objects.filter(pathway=pathway).count() == 1


def test_endorsed_pathway_gets_a_signed_endorsement_credential_about_its_achievement():
    app, _cast, pathway = pathway_in("endorsed")
    endorsement = app.endorsement
    credential = endorsement.credential
    assert endorsement.pathway_id == pathway.pk and endorsement.programme_id is None
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["credentialSubject"]["id"] == pathway_achievement_id(pathway)
    assert credential["credentialSubject"]["id"].endswith(f"/achievements/pathways/{pathway.public_id}")
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"
    assert endorsement.status is not None
    assert verify(credential).verified is True


def test_the_pathway_achievement_is_schema_valid_and_links_its_components(shared_dir):
    app, _cast, pathway = pathway_in("published")
    achievement = pathway_achievement(pathway)
    assert achievement["id"] == pathway_achievement_id(pathway)
    assert achievement["achievementType"] == "LearningProgram"
    parts = [a for a in achievement["alignment"] if a.get("targetType") == "ext:PathwayComponent"]
    assert [a["targetCode"] for a in parts] == ["literacy", "stats", "project"]
    assert parts[1]["targetUrl"] == EXTERNAL
    assert parts[0]["targetUrl"].endswith(f"/achievements/{app.snapshot['components'][0]['programme']['public_id']}")
    assert achievement["endorsement"] == [app.endorsement.credential]
    narrative = achievement["criteria"]["narrative"]
    assert "Earn at least 10 hours from: Statistics 101 (10 h). Each component's hours count once." in narrative
    assert "Capstone, assessing the whole pathway:" in narrative
    japanese = pathway_achievement(pathway, "ja")
    assert japanese["id"] == pathway_achievement_id(pathway, language="ja")
    assert "次の構成要素から合計10時間以上を取得する：統計学入門（10時間）。" in japanese["criteria"]["narrative"]
    assert japanese["inLanguage"] == "ja"
    # In a credential, validated against 1EdTech's OB 3.0 schema.
    schema = json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())
    credential = {
        "@context": vc.ob_contexts(with_schema=False), "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": achievement["creator"],
        "validFrom": "2026-01-01T00:00:00Z", "name": achievement["name"],
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:learner", "achievement": achievement},
    }
    jsonschema.validate(credential, schema)
    jsonschema.validate({**credential, "credentialSubject": {**credential["credentialSubject"],
                                                            "achievement": japanese}}, schema)


def test_the_pathway_achievement_is_served_at_its_id(client):
    app, _cast, pathway = pathway_in("published")
    response = client.get(reverse("pathway-achievement-json", args=[pathway.public_id]))
    assert response.status_code == 200
    document = response.json()
    assert document["id"] == pathway_achievement_id(pathway)
    assert document["endorsement"][0]["id"] == app.endorsement.credential["id"]
    assert client.get(reverse("pathway-achievement-language-json", args=[pathway.public_id, "ja"])).status_code == 200
    html = client.get(reverse("pathway-achievement", args=[pathway.public_id]), HTTP_ACCEPT="text/html")
    assert html.status_code == 302 and html.url == reverse("registry:pathway", args=[pathway.public_id])


def test_an_unendorsed_pathway_has_no_public_achievement(client):
    _app, _cast, pathway = pathway_in("submitted")
    assert client.get(reverse("pathway-achievement-json", args=[pathway.public_id])).status_code == 404


def test_suspend_and_revoke_follow_the_programme_lifecycle():
    app, cast, _pathway = pathway_in("published")
    endorsement = services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Check")
    assert endorsement.state == "suspended"
    endorsement = services.endorsement_reinstate(actor=cast.manager, endorsement=endorsement)
    endorsement = services.endorsement_revoke(actor=cast.manager, endorsement=endorsement, comment="Gone")
    assert endorsement.state == "revoked"
    actions = list(AuditEvent.objects.filter(subject_type="endorsement", subject_id=str(endorsement.pk))
                   .values_list("action", flat=True))
    assert actions[-3:] == ["endorsement.suspended", "endorsement.reinstated", "endorsement.revoked"]


def test_a_component_losing_its_endorsement_flags_the_pathway():
    first, second = endorsed_programmes()
    _app, cast, pathway = pathway_in("published", programmes=(first, second))
    in_force = Endorsement.objects.get(programme=first, state="active")
    services.endorsement_suspend(actor=cast.manager, endorsement=in_force, comment="Complaint received")
    pathway.refresh_from_db()
    assert pathway.flagged_at is not None
    assert pathway.flag_reason.startswith(first.name)
    event = AuditEvent.objects.get(action="pathway.flagged", subject_id=str(pathway.pk))
    assert event.data["programme"] == str(first.public_id)
    from endorsement.notifications import message_for

    message = message_for(event)
    assert message is not None and cast.manager.email in message.recipients


def test_the_registry_lists_the_pathway_with_its_credential(client):
    first, second = endorsed_programmes()
    app, _cast, pathway = pathway_in("published", programmes=(first, second))
    registry_refresh()
    data = client.get(reverse("registry:json")).json()
    entry = next(p for p in data["pathways"] if p["id"] == str(pathway.public_id))
    assert entry["url"].endswith(reverse("registry:pathway", args=[pathway.public_id]))
    assert entry["endorsement"]["endorsementCredential"].endswith(
        reverse("endorsement-credential", args=[app.endorsement.public_id]))
    assert [c["endorsement"]["state"] if c["endorsement"] else None for c in entry["pathway"]["components"]] == [
        "active", None, "active"]
    page = client.get(reverse("registry:pathway", args=[pathway.public_id]))
    assert page.status_code == 200
    text = page.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="pathway-diagram"' in text
    assert 'role="img"' in text and "<desc id=\"pw-desc\">" in text
    programme_page = client.get(reverse("registry:programme", args=[first.public_id])).content.decode()
    assert reverse("registry:pathway", args=[pathway.public_id]) in programme_page


def test_the_body_may_define_a_pathway_and_its_author_may_not_review_it():
    first, second = ProgrammeFactory(), ProgrammeFactory()
    author = manager()
    cast = Cast(body())
    cast.editor = author
    from pathways.services import pathway_create
    from tests.pathways.helpers import pathway_data

    pathway = pathway_create(actor=author, organisation=body(), data=pathway_data(first, second))
    app = services.pathway_application_create(actor=author, pathway=pathway)
    app = services.application_submit(actor=author, application=app)
    with pytest.raises(InvalidInput, match="wrote this pathway"):
        services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=author)
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=reviewer())
    assert app.reviews.count() == 1
    assert Pathway.objects.get(pk=pathway.pk).organisation.is_certification_body




def test_a_pathway_endorsement_has_no_quality_review_and_nothing_is_written():
    from endorsement.models import QualityReview
    from endorsement.quality import quality_review_open

    app, cast, _pathway = pathway_in("published")
    with pytest.raises(WrongState, match="no quality review"):
        quality_review_open(actor=cast.manager, endorsement=app.endorsement, reason="Concern")
    assert QualityReview.objects.count() == 0


def test_the_admin_lists_a_pathway_endorsement(client):
    app, cast, pathway = pathway_in("published")
    client.force_login(cast.manager)
    listed = client.get(reverse("admin:endorsement_endorsement_changelist")).content.decode()
    assert pathway.name_en in listed
    page = client.get(reverse("admin:endorsement_endorsement_change", args=[app.endorsement.pk]))
    assert page.status_code == 200
    assert "Open a quality review" not in page.content.decode()


def test_the_endorsed_structure_is_read_back_from_the_snapshot():
    from datetime import date
    from decimal import Decimal

    from pathways.rules import Presented, evaluate
    from pathways.snapshots import pathway_structure, structure_from_snapshot

    app, _cast, pathway = pathway_in("submitted")
    frozen = structure_from_snapshot(app.snapshot)
    assert frozen == pathway_structure(pathway)
    assert frozen.components == {"literacy": Decimal("30.0"), "stats": Decimal("10.0"), "project": Decimal("30.0")}
    assert frozen.capstone == "project"
    done = evaluate(frozen, [Presented("literacy", date(2026, 1, 1)), Presented("stats", date(2026, 1, 5)),
                             Presented("project", date(2026, 2, 1))])
    assert done.complete is True and done.total_hours == Decimal("70.0")
    early_project = evaluate(frozen, [Presented("literacy", date(2026, 3, 1)), Presented("stats", date(2026, 1, 5)),
                                      Presented("project", date(2026, 2, 1))])
    assert early_project.complete is False
    assert early_project.rules[2].out_of_order == (("literacy", "project"),)
