"""Digital Bazaar's verifier accepts what a completed pathway issues: the pathway badge (with the
body's pathway endorsement inside), the ClrCredential's outer proof, and every credential the CLR
bundles on its own; a tampered copy of each is rejected."""

from __future__ import annotations

import copy

import pytest

from badges import credentials as vc
from badges.models import StatusList
from badges.status import status_list_publish
from institutions.keys import did_document
from pathways.completion import completion_open, credential_present
from pathways.completion_models import CompletionState
from tests.factories import body
from tests.pathways.completion_setup import LEARNER, LEARNER_NAME, endorse_pathway, pathway_setup

pytestmark = pytest.mark.django_db


def test_the_pathway_badge_the_clr_and_every_nested_credential_verify_and_tampered_copies_do_not(js_verify):
    setup = pathway_setup()
    endorse_pathway(setup)
    completion, _ = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER,
                                    learner_name=LEARNER_NAME)
    credential_present(completion=completion, component_code="a", credential=setup.award(setup.programme_a).credential)
    credential_present(completion=completion, component_code="python", credential=setup.external_badge())
    credential_present(completion=completion, component_code="b", credential=setup.award(setup.programme_b).credential)
    completion.refresh_from_db()
    assert completion.state == CompletionState.ISSUED
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    status_lists = {s.credential["id"]: s.credential for s in StatusList.objects.all()}
    mooc = setup.mooc_did
    documents = {d["id"]: d for d in (
        did_document(body()), did_document(setup.pathway.organisation), did_document(setup.programme_b.organisation),
        vc.build_did_document(mooc, [vc.DidKey(mooc.removeprefix("did:key:"), setup.mooc_key.public_key())]))}

    def item(credential):
        return {"credential": credential, "didDocuments": documents, "statusLists": status_lists}

    badge, clr = completion.badge, completion.clr
    nested = vc.clr_nested_credentials(clr)
    assert len(nested) == 4 and nested[-1] == badge
    tampered_badge = copy.deepcopy(badge)
    tampered_badge["credentialSubject"]["achievement"]["name"] = "Another pathway"
    tampered_endorsement = copy.deepcopy(badge)
    tampered_endorsement["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"]["id"] = \
        "https://elsewhere.example/pathway"
    tampered_clr = copy.deepcopy(clr)
    tampered_clr["credentialSubject"]["association"][0]["associationType"] = "isPeerOf"
    tampered_nested = copy.deepcopy(clr)
    tampered_nested["credentialSubject"]["verifiableCredential"][1]["credentialSubject"]["achievement"]["name"] = "X"
    embedded = badge["credentialSubject"]["achievement"]["endorsement"][0]
    results = js_verify([item(c) for c in (badge, embedded, clr, *nested)]
                        + [item(c) for c in (tampered_badge, tampered_clr, tampered_nested,
                                             tampered_nested["credentialSubject"]["verifiableCredential"][1])])
    accepted, rejected = results[:3 + len(nested)], results[3 + len(nested):]
    assert all(r["verified"] for r in accepted), accepted
    assert [r["verified"] for r in rejected] == [False] * 4, rejected
    assert all("Invalid signature" in (r["error"] or "") for r in rejected), rejected
    # the endorsement's own proof breaks when it is altered, whatever embeds it
    endorsement_forged = js_verify([item(tampered_endorsement["credentialSubject"]["achievement"]["endorsement"][0])])
    assert endorsement_forged[0]["verified"] is False
