"""The body's EndorsementCredential about a pathway's Achievement verifies with Digital Bazaar's
verifier (verify.mjs) given only our DID documents and status lists, and a tampered copy does not."""

from __future__ import annotations

import copy

import pytest

from badges.models import StatusList
from badges.status import status_list_publish
from institutions.keys import did_document
from institutions.models import Organisation
from pathways.achievements import pathway_achievement_id
from tests.pathways.helpers import pathway_in

pytestmark = pytest.mark.django_db


def _item(credential):
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    return {
        "credential": credential,
        "didDocuments": {d["id"]: d for d in (did_document(o) for o in Organisation.objects.all())},
        "statusLists": {s.credential["id"]: s.credential for s in StatusList.objects.filter(credential__isnull=False)},
    }


def test_the_pathway_endorsement_verifies_and_a_tampered_copy_does_not(js_verify):
    app, _cast, pathway = pathway_in("published")
    credential = app.endorsement.credential
    assert credential["credentialSubject"]["id"] == pathway_achievement_id(pathway)
    tampered_subject = copy.deepcopy(credential)
    tampered_subject["credentialSubject"]["id"] = pathway_achievement_id(pathway, 2)  # another version
    tampered_comment = copy.deepcopy(credential)
    tampered_comment["credentialSubject"]["endorsementComment"] += " And more."
    ok, other_subject, other_comment = js_verify([_item(credential), _item(tampered_subject),
                                                 _item(tampered_comment)])
    assert ok["verified"] is True, ok["error"]
    assert len(ok["status"]) == 1 and ok["status"][0]["set"] is False
    for result in (other_subject, other_comment):
        assert result["verified"] is False
        assert "Invalid signature" in result["error"]


def test_a_suspended_pathway_endorsement_shows_its_status_bit_set(js_verify):
    from endorsement import services

    app, cast, _pathway = pathway_in("published")
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under review")
    app.endorsement.refresh_from_db()
    (result,) = js_verify([_item(app.endorsement.credential)])
    assert result["verified"] is True, result["error"]
    assert result["status"][0]["set"] is True
