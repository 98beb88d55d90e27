"""seed_demo's pathway: published and endorsed, three components (two programmes of different
organisations, one external achievement signed by the demo's own did:key issuer), and a demo learner
who completed it, with a pathway credential and a ClrCredential that verify; a second run adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from badges import credentials as vc
from badges.verification import credential_verify
from endorsement.models import ApplicationState
from pathways.completion_models import Completion, CompletionState
from pathways.demo import LEARNER_EMAIL, MOOC_DID, PATHWAY
from pathways.models import Pathway

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_seed_demo_publishes_an_endorsed_pathway_and_a_learner_who_completed_it():
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    pathway = Pathway.objects.get(slug=PATHWAY["slug"])
    assert pathway.applications.get().state == ApplicationState.PUBLISHED
    components = list(pathway.components.select_related("programme__organisation"))
    programmes = [c.programme for c in components if c.programme_id]
    assert len(components) >= 3 and len(programmes) == 2
    assert len({p.organisation_id for p in programmes}) == 2
    assert [c.issuer_id for c in components if not c.programme_id] == [MOOC_DID]
    completion = Completion.objects.get(pathway=pathway, learner_email=LEARNER_EMAIL)
    assert completion.state == CompletionState.ISSUED
    assert credential_verify(completion.badge, email=LEARNER_EMAIL).verdict == "verified"
    report = credential_verify(completion.clr, email=LEARNER_EMAIL)
    assert report.verdict == "verified", [c for c in report.checks if not c.passed]
    assert len(vc.clr_nested_credentials(completion.clr)) == 4
    from tests.pathways.test_completion_issue import _errors, _schema

    assert _errors(_schema("clr-schemas/clr_v2p0_clrcredential_schema.json"), completion.clr) == []
    assert completion.badge["id"] in out.getvalue()
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Completion.objects.count() == 1 and Pathway.objects.count() == 1
