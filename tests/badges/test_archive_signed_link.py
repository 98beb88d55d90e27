"""An evidence link is fetched before the credential is signed: its WARC copy and digest are in
the signature (relatedResource), for a single award (fetched in the request, at most
EVIDENCE_FETCH_TIMEOUT) and a batch (in the chunk task). A link that cannot be fetched: the badge
is issued with its evidence entry and no copy, and the organisation is told."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone, translation
from warcio.archiveiterator import ArchiveIterator

from badges import credentials as vc
from badges.archive import copy_url
from badges.awards import award_issue
from badges.evidence import evidence_recheck
from badges.models import ArchivedEvidence, AwardBatch, EvidenceCheck
from badges.status import status_list_publish
from badges.tasks import notify_evidence
from config.tasking import enqueued
from institutions.keys import did_document
from institutions.models import Organisation
from tests.badges.archive_store import archive_in, stored_files
from tests.badges.http_stand_in import serve
from tests.factories import api_client, awarding_setup

pytestmark = pytest.mark.django_db
PAGE = b"<html><body>Assessed portfolio of Aiko Tanaka</body></html>"


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    return archive_in(settings, tmp_path / "evidence")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def server():
    with serve() as stand_in:
        yield stand_in


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def verified(credential) -> bool:
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    return vc.verify(credential, resolver).verified


def archive_checks(credential) -> list[dict]:
    response = api_client().post("/api/v1/verify", data=json.dumps(credential), content_type="application/json",
                                 HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return [c for c in response.json()["checks"] if c["id"].startswith("archive-")]


def test_a_single_awards_link_is_archived_before_signing_and_its_copy_is_in_the_signature(server, client,
                                                                                           archive_root,
                                                                                           django_capture_on_commit_callbacks):
    url = server.route("/portfolio/1", PAGE, content_type="text/html; charset=utf-8")
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks() as callbacks:
        award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                            evidence_url=url, evidence_narrative="Assessed.")
    assert server.hits == ["/portfolio/1"]  # fetched once, before signing; nothing left for after commit
    assert not enqueued(callbacks, notify_evidence) and not [c for c in callbacks if "fetch_evidence" in repr(c)]
    (copy,) = ArchivedEvidence.objects.filter(award=award)
    assert copy.kind == "web" and copy.in_credential and copy.original_url == url
    credential = award.credential
    assert credential["relatedResource"] == [{"id": copy_url(copy.token), "digestSRI": copy.digest_sri,
                                              "mediaType": "application/warc"}]
    assert credential["evidence"] == [{"id": url, "type": ["Evidence"], "narrative": "Assessed."}]
    assert verified(credential)
    # The copy served is the record signed, and any WARC reader replays what the server received.
    served = client.get(f"/evidence/{copy.token}").content
    assert sri(served) == credential["relatedResource"][0]["digestSRI"]
    records = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
               for r in ArchiveIterator(io.BytesIO(served))]
    assert records == [(url, PAGE)]
    # The check's baseline is that same fetch: the organisation is not told of anything.
    check = EvidenceCheck.objects.get(award=award)
    assert (check.standing, check.notified_standing) == ("reachable", "reachable")
    assert check.sha256 == hashlib.sha256(PAGE).hexdigest() and check.retrieved_at == copy.taken_at
    # The link goes: the badge page and the verifier still show the signed copy intact.
    server.routes.pop("/portfolio/1")
    EvidenceCheck.objects.filter(award=award).update(last_checked_at=timezone.now() - timedelta(days=30))
    assert evidence_recheck(check.pk).standing == "gone"
    status_list_publish(award.status.status_list_id)
    status_list_publish(award.endorsement.status.status_list_id)
    (result,) = archive_checks(credential)
    assert result["code"] == "archive.intact"
    page = client.get(f"/badges/{award.public_id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Gone" in page and "digest intact" in page and f"/evidence/{copy.token}" in page
    assert ArchivedEvidence.objects.filter(award=award).count() == 1 and len(stored_files(archive_root)) == 1


def test_a_single_awards_link_that_cannot_be_fetched_is_issued_without_a_copy_and_the_organisation_told(
        server, archive_root, django_capture_on_commit_callbacks):
    url = server.route("/portfolio/gone", b"Not here", status=404, content_type="text/plain")
    programme, _, _, issuer = awarding_setup()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org", evidence_url=url)
    assert [c.args for c in enqueued(callbacks, notify_evidence)] == [(award.organisation_id,)]
    assert ArchivedEvidence.objects.filter(award=award).count() == 0 and stored_files(archive_root) == []
    assert "relatedResource" not in award.credential and verified(award.credential)
    assert award.credential["evidence"] == [{"id": url, "type": ["Evidence"]}]
    check = EvidenceCheck.objects.get(award=award)
    assert (check.standing, check.notified_standing) == ("gone", "gone") and "404" in check.detail
    told = [m for m in mail.outbox if "could not be retrieved" in m.subject]
    assert len(told) == 1 and url in told[0].body and "signed without an archived copy" in told[0].body
    assert notify_evidence(award.organisation_id) == 0  # told once
    assert server.hits == ["/portfolio/gone"]  # and not fetched again after commit


def test_a_batchs_links_are_archived_in_the_chunk_before_signing_and_a_dead_one_is_told_once(
        server, archive_root, django_capture_on_commit_callbacks):
    good = server.route("/work/good", PAGE, content_type="text/html")
    dead = server.route("/work/dead", b"", status=500)
    programme, _, _, issuer = awarding_setup()
    rows = [{"email": "a@example.org", "evidence_url": good}, {"email": "b@example.org", "evidence_url": dead},
            {"email": "c@example.org", "evidence_narrative": "No link."}]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows,
                                           format="json")
    assert response.status_code == 201
    assert AwardBatch.objects.get().state == "done"
    awards = {a.recipient_email: a for a in AwardBatch.objects.get().awards.all()}
    (copy,) = ArchivedEvidence.objects.filter(award=awards["a@example.org"])
    assert awards["a@example.org"].credential["relatedResource"] == [
        {"id": copy_url(copy.token), "digestSRI": copy.digest_sri, "mediaType": "application/warc"}]
    assert verified(awards["a@example.org"].credential)
    for email in ("b@example.org", "c@example.org"):
        assert "relatedResource" not in awards[email].credential
        assert not ArchivedEvidence.objects.filter(award=awards[email]).exists()
    told = [m for m in mail.outbox if "could not be retrieved" in m.subject]
    assert len(told) == 1 and dead in told[0].body and good not in told[0].body
    assert sorted(server.hits) == ["/work/dead", "/work/good"]
