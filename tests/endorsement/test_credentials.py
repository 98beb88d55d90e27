"""The body's EndorsementCredential: signed on endorse, verifiable, schema-valid, with a status
entry that follows the endorsement's standing."""

import json

import jsonschema
import pytest
from django.core.management import call_command

from badges import credentials as vc
from badges.models import StatusList
from badges.status import status_list_publish
from endorsement import services
from endorsement.credentials import endorsement_sign, programme_achievement
from endorsement.models import ApplicationState
from institutions.keys import did_document, issuer_key_active
from institutions.models import IssuerKey, Organisation
from tests.factories import application_in

pytestmark = pytest.mark.django_db


def body():
    return Organisation.objects.get(is_certification_body=True)


def verify_with_local_dids(credential):
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    return vc.verify(credential, resolver)


def test_endorsing_signs_an_endorsement_credential_that_verifies(settings):
    app, _ = application_in(ApplicationState.ENDORSED)
    credential = app.endorsement.credential
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["issuer"]["id"] == "did:web:127.0.0.1%3A8000"
    assert credential["credentialSubject"]["type"] == ["EndorsementSubject"]
    assert credential["credentialSubject"]["id"].endswith(f"/achievements/{app.programme.public_id}")
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["credentialStatus"]["statusPurpose"] == "suspension"
    assert verify_with_local_dids(credential).verified


def test_the_endorsement_credential_validates_against_the_1edtech_schema(shared_dir):
    app, _ = application_in(ApplicationState.ENDORSED)
    schema = json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_endorsementcredential_schema.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(app.endorsement.credential)


def test_signing_twice_keeps_the_first_credential():
    app, _ = application_in(ApplicationState.ENDORSED)
    first = app.endorsement.credential
    again = endorsement_sign(app.endorsement.pk)
    assert again.credential == first
    assert IssuerKey.objects.filter(organisation=body()).count() == 1


def test_a_tampered_endorsement_credential_fails_verification():
    app, _ = application_in(ApplicationState.ENDORSED)
    tampered = json.loads(json.dumps(app.endorsement.credential))
    tampered["validUntil"] = "2099-01-01T00:00:00Z"
    result = verify_with_local_dids(tampered)
    assert not result.verified


def test_suspending_sets_and_reinstating_clears_the_status_bit():
    app, cast = application_in(ApplicationState.PUBLISHED)
    endorsement = app.endorsement
    index = endorsement.status.index
    services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under investigation")
    status = status_list_publish(endorsement.status.status_list_id)
    assert vc.StatusList.decode(status.encoded_list).get(index) is True
    assert verify_with_local_dids(status.credential).verified
    services.endorsement_reinstate(actor=cast.manager, endorsement=endorsement)
    status = status_list_publish(endorsement.status.status_list_id)
    assert vc.StatusList.decode(status.encoded_list).get(index) is False


def test_a_status_list_whose_owners_registered_no_query_is_refused_and_keeps_its_signed_bits(monkeypatch):
    """Publishing with no owner's query would clear every bit: a suspended endorsement would read
    as in force. badges.status refuses instead, and the signed list stays as it was."""
    from django.core.exceptions import ImproperlyConfigured

    from badges import status

    app, cast = application_in(ApplicationState.PUBLISHED)
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    signed = status_list_publish(app.endorsement.status.status_list_id)
    monkeypatch.setattr(status, "_SET_BITS", {})
    with pytest.raises(ImproperlyConfigured, match="suspension"):
        status_list_publish(signed.pk)
    again = StatusList.objects.get(pk=signed.pk)
    assert (again.encoded_list, again.etag) == (signed.encoded_list, signed.etag)
    assert vc.StatusList.decode(again.encoded_list).get(app.endorsement.status.index) is True


def test_publishing_an_unchanged_status_list_signs_nothing_new():
    app, _ = application_in(ApplicationState.PUBLISHED)
    first = status_list_publish(app.endorsement.status.status_list_id)
    again = status_list_publish(app.endorsement.status.status_list_id)
    assert again.etag == first.etag and again.signed_at == first.signed_at
    assert StatusList.objects.count() == 1


def test_a_rotated_key_stays_in_the_did_document_and_old_credentials_still_verify(client):
    app, _ = application_in(ApplicationState.ENDORSED)
    old = issuer_key_active(body())
    call_command("rotate_key", "body")
    response = client.get("/.well-known/did.json")
    document = response.json()
    assert response.status_code == 200
    assert len(document["verificationMethod"]) == 2
    assert f"did:web:127.0.0.1%3A8000#{old.fragment}" in document["assertionMethod"]
    assert verify_with_local_dids(app.endorsement.credential).verified


def test_rotate_key_names_an_unknown_organisation_on_stderr():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation"):
        call_command("rotate_key", "no-such-org")
    assert IssuerKey.objects.count() == 0


def test_the_achievement_and_endorsement_are_served_as_json_ld(client):
    app, _ = application_in(ApplicationState.PUBLISHED)
    programme = app.programme
    response = client.get(f"/achievements/{programme.public_id}", HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200
    achievement = response.json()
    assert achievement.pop("@context") == ["https://www.w3.org/ns/credentials/v2",
                                           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert achievement == programme_achievement(programme.pk)
    assert achievement["endorsement"][0] == app.endorsement.credential
    html = client.get(f"/achievements/{programme.public_id}")
    assert html.status_code == 302
    credential = client.get(f"/credentials/endorsements/{app.endorsement.public_id}")
    assert credential.status_code == 200 and credential.json() == app.endorsement.credential
    status_url = app.endorsement.credential["credentialStatus"]["statusListCredential"]
    status_list_publish(app.endorsement.status.status_list_id)
    listed = client.get(status_url.replace("http://127.0.0.1:8000", ""))
    assert listed.status_code == 200 and listed["ETag"]
    again = client.get(status_url.replace("http://127.0.0.1:8000", ""), HTTP_IF_NONE_MATCH=listed["ETag"])
    assert again.status_code == 304


def test_an_organisation_did_document_is_served_at_its_path(client):
    app, _ = application_in(ApplicationState.DRAFT)
    response = client.get(f"/organisations/{app.organisation.slug}/did.json")
    assert response.status_code == 200
    assert response.json()["id"] == f"did:web:127.0.0.1%3A8000:organisations:{app.organisation.slug}"
    assert client.get("/organisations/nobody/did.json").status_code == 404
