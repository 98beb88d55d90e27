"""A completed pathway: the pathway badge (with the body's pathway endorsement) and the ClrCredential
bundling the presented credentials are issued, verify, pass the 1EdTech schemas; a component revoked
later is found by the beat re-check, the organisation is told, and its decision is audited."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft201909Validator

from badges import credentials as vc
from badges.awards import award_revoke
from badges.status import status_list_publish
from badges.verification import credential_verify
from config.errors import InvalidInput, WrongState
from endorsement.models import AuditEvent, Notification
from pathways.completion import (
    completion_decide,
    completion_open,
    completions_recheck,
    credential_present,
)
from pathways.completion_models import CompletionState
from tests.conftest import SHARED_DIR, need
from tests.pathways.completion_setup import LEARNER, LEARNER_NAME, endorse_pathway, pathway_setup

pytestmark = pytest.mark.django_db


def _schema(path: str) -> dict:
    need((SHARED_DIR / path).is_file(), f"{SHARED_DIR / path} is absent")
    return json.loads((SHARED_DIR / path).read_text())


def _errors(schema: dict, document: dict) -> list[str]:
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture
def completed():
    setup = pathway_setup()
    endorse_pathway(setup)
    award_a, award_b = setup.award(setup.programme_a), setup.award(setup.programme_b)
    completion, _ = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER,
                                    learner_name=LEARNER_NAME)
    external = setup.external_badge()
    credential_present(completion=completion, component_code="a", credential=award_a.credential)
    credential_present(completion=completion, component_code="python", credential=external)
    assert completion.state == CompletionState.OPEN  # b is still missing
    credential_present(completion=completion, component_code="b", credential=award_b.credential)
    completion.refresh_from_db()
    if completion.status_id:
        status_list_publish(completion.status.status_list_id)  # as the on-commit task does
    return setup, completion, (award_a, award_b, external)


def test_the_rules_met_issue_the_pathway_badge_and_the_clr(completed):
    _setup, completion, (award_a, award_b, external) = completed
    assert completion.state == CompletionState.ISSUED
    badge, clr = completion.badge, completion.clr
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = badge["credentialSubject"]["achievement"]
    assert achievement["name"] == "データ履修パス"  # the pathway is written in Japanese first
    assert [e["type"] for e in achievement["endorsement"]] == [["VerifiableCredential", "EndorsementCredential"]]
    assert _errors(_schema("ob3-schemas/ob_v3p0_achievementcredential_schema.json"), badge) == []
    report = credential_verify(badge, email=LEARNER)
    assert report.verdict == "verified", [c for c in report.checks if not c.passed]
    # the CLR: the presented credentials byte for byte, then the pathway badge; associations
    nested = vc.clr_nested_credentials(clr)
    assert nested == [award_a.credential, external, award_b.credential, badge]
    assert _errors(_schema("clr-schemas/clr_v2p0_clrcredential_schema.json"), clr) == []
    associations = {(a["associationType"], a["sourceId"], a["targetId"])
                    for a in clr["credentialSubject"]["association"]}
    a_id = award_a.credential["credentialSubject"]["achievement"]["id"]
    b_id = award_b.credential["credentialSubject"]["achievement"]["id"]
    assert ("isChildOf", a_id, achievement["id"]) in associations
    assert ("isChildOf", external["credentialSubject"]["achievement"]["id"], achievement["id"]) in associations
    assert ("precedes", a_id, b_id) in associations
    clr_report = credential_verify(clr, email=LEARNER)
    assert clr_report.verdict == "verified", [c for c in clr_report.checks if not c.passed]
    assert len(clr_report.credential["credentials"]) == 4
    assert AuditEvent.objects.filter(action="pathway_completion.issued").count() == 1
    with pytest.raises(WrongState):
        credential_present(completion=completion, component_code="a", credential=award_a.credential)


def test_a_component_revoked_later_is_found_the_organisation_told_and_its_revocation_audited(completed):
    setup, completion, (award_a, _b, _e) = completed
    assert completions_recheck() == 0
    award_revoke(actor=setup.issuer_a, award=award_a, reason="Assessment misconduct")
    status_list_publish(award_a.status.status_list_id)
    assert completions_recheck() == 1
    completion.refresh_from_db()
    assert "revoked" in completion.component_problem
    assert completion.state == CompletionState.ISSUED  # the organisation decides, not the task
    mails = Notification.objects.filter(key__startswith=f"pathway-component-failed:{completion.public_id}")
    assert mails.count() == 1 and "no longer holds" in mails.get().subject
    completions_recheck()
    assert mails.count() == 1  # told once
    with pytest.raises(InvalidInput):
        completion_decide(actor=setup.issuer_a, completion=completion, decision="revoke", comment="")
    completion.refresh_from_db()
    assert completion.state == CompletionState.ISSUED and completion.revoked_at is None
    completion_decide(actor=setup.issuer_a, completion=completion, decision="revoke",
                      comment="A component was revoked.")
    completion.refresh_from_db()
    assert completion.state == CompletionState.REVOKED
    event = AuditEvent.objects.get(action="pathway_completion.revoked")
    assert event.actor == setup.issuer_a and event.comment == "A component was revoked."
    status_list_publish(completion.status.status_list_id)
    assert credential_verify(completion.badge).verdict == "revoked"


def test_the_organisation_may_keep_it_flagged_instead(completed):
    setup, completion, (award_a, _b, _e) = completed
    award_revoke(actor=setup.issuer_a, award=award_a, reason="Mistake")
    status_list_publish(award_a.status.status_list_id)
    completions_recheck()
    with pytest.raises(InvalidInput):
        completion_decide(actor=setup.issuer_a, completion=completion, decision="ignore")
    completion_decide(actor=setup.issuer_a, completion=completion, decision="flag", comment="Reassessed in person.")
    completion.refresh_from_db()
    assert completion.state == CompletionState.FLAGGED and completion.revoked_at is None
    assert AuditEvent.objects.filter(action="pathway_completion.flagged").count() == 1
    assert credential_verify(completion.badge).verdict == "verified"


def test_rules_met_without_an_endorsement_in_force_keep_the_credentials_and_issue_nothing_until_asked():
    from badges.models import StatusAllocation
    from pathways.completion import completion_issue
    from tests.factories import api_client

    setup = pathway_setup()  # not endorsed
    completion, _ = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER,
                                    learner_name=LEARNER_NAME)
    credential_present(completion=completion, component_code="a", credential=setup.award(setup.programme_a).credential)
    credential_present(completion=completion, component_code="python", credential=setup.external_badge())
    award_b = setup.award(setup.programme_b)
    allocations = StatusAllocation.objects.count()
    result = credential_present(completion=completion, component_code="b", credential=award_b.credential)
    assert (result.accepted, result.code) == (True, "kept-not-issued")
    assert "no endorsement in force" in result.reason
    completion.refresh_from_db()
    assert completion.state == CompletionState.OPEN and completion.badge is None and completion.clr is None
    assert len(completion.presented) == 3 and StatusAllocation.objects.count() == allocations
    assert not AuditEvent.objects.filter(action="pathway_completion.issued").exists()
    with pytest.raises(WrongState, match="no endorsement in force"):
        completion_issue(completion=completion)
    refused = api_client(setup.issuer_a).post(f"/api/v1/pathway-completions/{completion.public_id}/issue")
    assert refused.status_code == 409 and "no endorsement in force" in refused.json()["detail"]
    endorse_pathway(setup)
    issued = api_client(setup.issuer_a).post(f"/api/v1/pathway-completions/{completion.public_id}/issue")
    assert issued.status_code == 200 and issued.json()["state"] == "issued"
    assert issued.json()["clr"]["type"] == ["VerifiableCredential", "ClrCredential"]


def test_the_beat_runs_the_recheck_task_which_celery_knows(settings):
    from config.celery import app
    from pathways.completion_tasks import recheck_pathway_credentials

    entry = settings.CELERY_BEAT_SCHEDULE["recheck-pathway-credentials"]
    assert entry["task"] == "pathways.completion_tasks.recheck_pathway_credentials"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks and "pathways.completion_tasks.deliver_notification" in app.tasks
    assert recheck_pathway_credentials() == 0  # nothing issued: nothing to find


def test_the_pathway_credential_is_json_for_a_client_and_a_checked_page_for_a_browser(completed, client):
    _setup, completion, _credentials = completed
    url = f"/pathway-credentials/{completion.public_id}"
    for accept in ("", "application/vc+ld+json", "*/*"):
        answer = client.get(url, **({"HTTP_ACCEPT": accept} if accept else {}))
        assert answer["Content-Type"] == "application/vc+ld+json"
        assert json.loads(answer.content) == completion.badge
    assert json.loads(client.get(url + ".json", HTTP_ACCEPT="text/html").content) == completion.badge
    page = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8", HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["Vary"].endswith("Accept") or "Accept" in page["Vary"]
    text = page.content.decode()
    assert "<h1>データ履修パス</h1>" in text
    assert "検証済み" in text  # the verification report's verdict, in Japanese
    assert text.count("<li>", text.index('id="bundled"')) >= 3  # the three presented credentials (and the badge)
    assert f"/pathway-credentials/{completion.public_id}/clr" in text
    assert client.get("/pathway-credentials/00000000-0000-4000-8000-000000000000",
                      HTTP_ACCEPT="text/html").status_code == 404
