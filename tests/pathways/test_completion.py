"""Completing a pathway: credentials presented, verified in full, evaluated; every refusal has its
reason and leaves nothing issued and nothing kept."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from badges import credentials as vc
from badges.awards import award_revoke
from badges.models import StatusAllocation
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.models import AuditEvent
from pathways.completion import (
    awards_present,
    completion_for_token,
    completion_issue,
    completion_open,
    completion_progress,
    credential_present,
    progress_words,
)
from pathways.completion_models import Completion, CompletionState
from tests.factories import OrganisationFactory, staff
from tests.pathways.completion_setup import LEARNER, LEARNER_NAME, pathway_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return pathway_setup()


def opened(setup, **learner):
    learner = learner or {"learner_email": LEARNER, "learner_name": LEARNER_NAME}
    return completion_open(actor=setup.issuer_a, pathway=setup.pathway, **learner)


def nothing_issued(completion: Completion, presented_before: list) -> None:
    completion.refresh_from_db()
    assert completion.state == CompletionState.OPEN
    assert completion.badge is None and completion.clr is None and completion.status is None
    assert completion.presented == presented_before
    assert not AuditEvent.objects.filter(action="pathway_completion.issued").exists()


def test_opening_gives_a_capability_link_whose_token_is_stored_hashed(setup):
    completion, link = opened(setup)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert completion_for_token(token) == completion
    assert token not in completion.token_hash and len(completion.token_hash) == 64
    assert AuditEvent.objects.filter(action="pathway_completion.opened").count() == 1
    with pytest.raises(NotFound):
        completion_for_token(token[:-2] + "xx")


def test_only_the_pathway_organisations_issuers_open_one_and_the_learner_must_be_named(setup):
    outsider = staff(OrganisationFactory(), "issuer")
    with pytest.raises(NotFound):
        completion_open(actor=outsider, pathway=setup.pathway, learner_email=LEARNER)
    with pytest.raises(NotPermitted):
        completion_open(actor=setup.cast_a.editor, pathway=setup.pathway, learner_email=LEARNER)
    with pytest.raises(InvalidInput) as refused:
        completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email="not-an-address")
    assert "learner_email" in refused.value.field_errors
    assert Completion.objects.count() == 0


def test_the_learners_badges_on_this_server_are_found_by_recipient_and_verified(setup):
    setup.award(setup.programme_a)
    setup.award(setup.programme_b)
    setup.award(setup.programme_b, email="someone.else@example.org")
    completion, _ = opened(setup)
    outcomes = awards_present(completion=completion)
    assert [(c.code, r.accepted) for c, r in outcomes] == [("a", True), ("b", True)]
    completion.refresh_from_db()
    assert [p["component"] for p in completion.presented] == ["a", "b"]
    assert {p["source"] for p in completion.presented} == {"award"}
    evaluation = completion_progress(completion)
    assert evaluation.complete is False
    rows = {row["kind"]: row for row in progress_words(completion)}
    assert rows["order"]["met"] is True
    assert rows["all"]["met"] is False and "Python basics (MOOC)" in rows["all"]["missing"]


def test_a_forged_external_credential_is_refused_and_nothing_is_kept(setup):
    completion, _ = opened(setup)
    forged = copy.deepcopy(setup.external_badge())
    forged["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="python", credential=forged)
    assert "not genuine" in refused.value.field_errors["credential"][0]
    nothing_issued(completion, [])


def test_an_external_credential_signed_by_another_issuer_is_refused(setup):
    completion, _ = opened(setup)
    other = setup.external_badge(key=vc.generate_private_key())
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="python", credential=other)
    assert "not by the component's declared issuer" in refused.value.message
    assert setup.mooc_did in refused.value.message
    nothing_issued(completion, [])


def test_a_credential_of_someone_else_is_refused_as_recipient_mismatch(setup):
    completion, _ = opened(setup)
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="python",
                           credential=setup.external_badge(email="taro@example.org"))
    assert "recipient is not this learner" in refused.value.message
    award = setup.award(setup.programme_a, email="taro@example.org", name="山田 太郎")
    with pytest.raises(InvalidInput):
        credential_present(completion=completion, component_code="a", credential=award.credential)
    nothing_issued(completion, [])


def test_a_revoked_component_credential_is_refused(setup):
    award = setup.award(setup.programme_a)
    award_revoke(actor=setup.issuer_a, award=award, reason="Assessment misconduct")
    from badges.status import status_list_publish
    status_list_publish(award.status.status_list_id)
    completion, _ = opened(setup)
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="a", credential=award.credential)
    assert "revoked" in refused.value.message
    assert awards_present(completion=completion) == []  # a revoked award is not even offered
    nothing_issued(completion, [])


def test_an_expired_external_credential_is_refused(setup):
    completion, _ = opened(setup)
    now = timezone.now()
    expired = setup.external_badge(valid_from=now - timedelta(days=40), valid_until=now - timedelta(days=1))
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="python", credential=expired)
    assert "expired" in refused.value.message
    nothing_issued(completion, [])


def test_a_credential_for_a_component_it_is_not_is_refused(setup):
    completion, _ = opened(setup)
    with pytest.raises(InvalidInput) as refused:
        credential_present(completion=completion, component_code="a", credential=setup.external_badge())
    assert "not the component's achievement" in refused.value.message
    with pytest.raises(InvalidInput):
        credential_present(completion=completion, component_code="nope", credential=setup.external_badge())
    nothing_issued(completion, [])


def test_rules_unmet_refuse_issuance_with_what_is_missing_and_nothing_issued(setup):
    completion, _ = opened(setup)
    credential_present(completion=completion, component_code="python", credential=setup.external_badge())
    completion.refresh_from_db()
    kept = list(completion.presented)
    allocations = StatusAllocation.objects.count()
    with pytest.raises(WrongState) as refused:
        completion_issue(completion=completion)
    assert "rules are not met" in refused.value.message
    assert "Data literacy A" in refused.value.message and "Data analysis B" in refused.value.message
    assert StatusAllocation.objects.count() == allocations
    nothing_issued(completion, kept)
