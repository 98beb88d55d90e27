"""The EndorsementCredential is bound to what was reviewed: the frozen programme snapshot and the
criteria table version it was judged against, archived and served like evidence, their digests in
its `relatedResource` (docs/evidence.md)."""

from __future__ import annotations

import base64
import hashlib
import json

import jsonschema
import pytest
from django.conf import settings

from badges import credentials as vc
from badges.archive import copy_withdraw
from badges.models import ArchivedEvidence
from badges.status import status_list_publish
from config.errors import WrongState
from endorsement.credentials import endorsement_sign
from endorsement.models import ApplicationState
from institutions.keys import did_document
from institutions.models import Organisation
from tests.badges.archive_store import archive_in
from tests.factories import api_client, application_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings):
    return archive_in(settings, tmp_path)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_the_endorsement_names_the_archived_snapshot_and_criteria_table_with_their_digests(client, shared_dir):
    app, _cast = application_in(ApplicationState.PUBLISHED)
    credential = app.endorsement.credential
    snapshot, criteria = credential["relatedResource"]
    prefix = settings.SITE_URL + "/evidence/"
    assert snapshot["id"].startswith(prefix) and criteria["id"].startswith(prefix)
    assert snapshot["mediaType"] == criteria["mediaType"] == "application/json"
    served = client.get(snapshot["id"].removeprefix(settings.SITE_URL))
    assert served.status_code == 200 and sri(served.content) == snapshot["digestSRI"]
    assert json.loads(served.content) == json.loads(json.dumps(app.snapshot, default=str))
    table = app.criteria_table
    served = client.get(criteria["id"].removeprefix(settings.SITE_URL))
    assert sri(served.content) == criteria["digestSRI"]
    document = json.loads(served.content)
    assert (document["code"], document["version"]) == (table.code, table.version)
    assert [c["code"] for c in document["criteria"]] == list(table.criteria.order_by("position", "id")
                                                            .values_list("code", flat=True))
    keys = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    assert vc.verify(credential, keys).verified
    schema = json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_endorsementcredential_schema.json").read_text())
    jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker()).validate(credential)


def test_signing_again_archives_nothing_new_and_the_verifier_finds_both_intact():
    app, _cast = application_in(ApplicationState.PUBLISHED)
    before = list(ArchivedEvidence.objects.filter(endorsement=app.endorsement).values_list("token", "digest_sri"))
    endorsement_sign(app.endorsement.pk)
    assert list(ArchivedEvidence.objects.filter(endorsement=app.endorsement)
                .values_list("token", "digest_sri")) == before and len(before) == 2
    status_list_publish(app.endorsement.status.status_list_id)
    body = api_client().post("/api/v1/verify", data=json.dumps(app.endorsement.credential),
                             content_type="application/json").json()
    assert [c["code"] for c in body["checks"] if c["id"].startswith("archive-")] == ["archive.intact"] * 2
    assert body["verified"] is True


def test_what_an_endorsement_was_judged_on_cannot_be_withdrawn():
    app, cast = application_in(ApplicationState.PUBLISHED)
    copy = ArchivedEvidence.objects.filter(endorsement=app.endorsement).first()
    with pytest.raises(WrongState):
        copy_withdraw(actor=cast.manager, copy=copy)
    copy.refresh_from_db()
    assert copy.withdrawn_at is None
