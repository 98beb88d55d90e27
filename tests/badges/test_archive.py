"""The evidence archive: uploads typed by content and limited, stored once per content through the
storage API, bound into the signed credential (relatedResource + digestSRI), served at an
unguessable URL with Memento headers, withdrawn with a tombstone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from badges import credentials as vc
from badges.awards import award_issue
from badges.models import ArchivedEvidence, Award
from config.errors import InvalidInput, NotPermitted
from endorsement.audit import AuditAction
from endorsement.models import AuditEvent
from institutions.keys import did_document
from institutions.models import Organisation, Role
from tests.badges.archive_store import archive_in, award_blobs, stored_files
from tests.factories import api_client, awarding_setup, png_bytes, staff

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "ポートフォリオの振り返り: three assessed assignments.\n".encode()


def sri(data: bytes) -> str:
    """A second implementation of the SRI digest: hashlib and base64 by hand."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def zipped() -> bytes:
    """The same bytes every time: a member written by name alone is stamped with the current time
    (to 2 s), and the test compares the digest of two calls (it failed when the clock turned)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("portfolio/index.txt", date_time=(2026, 1, 1, 0, 0, 0)), "work")
    return out.getvalue()


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    return archive_in(settings, tmp_path / "evidence")



def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def resolver():
    return vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)


# --- issuing with files ---------------------------------------------------------------------------
def test_an_uploaded_file_is_archived_and_named_with_its_digest_in_the_signed_credential(archive_root, client):
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[upload("report.pdf", PDF, "text/html")])
    (copy,) = ArchivedEvidence.objects.filter(award=award)
    assert copy.media_type == "application/pdf"  # by content, not by the declared text/html
    assert copy.digest_sri == sri(PDF) and copy.size == len(PDF) and copy.filename == "report.pdf"
    credential = award.credential
    assert credential["relatedResource"] == [
        {"id": f"{_site()}/evidence/{copy.token}",
         "digestSRI": sri(PDF), "mediaType": "application/pdf"}]
    assert {"id": credential["relatedResource"][0]["id"], "type": ["Evidence"], "name": "report.pdf"} \
        in credential["evidence"]
    assert vc.verify(credential, resolver()).verified
    # The stored bytes, once, under their SHA-384.
    (path,) = stored_files(archive_root)
    assert path.read_bytes() == PDF and path.name == hashlib.sha384(PDF).hexdigest()
    # Fetching the URL gives bytes with the signed digest.
    response = client.get(credential["relatedResource"][0]["id"].removeprefix(_site()))
    assert response.status_code == 200 and response.content == PDF
    assert sri(response.content) == credential["relatedResource"][0]["digestSRI"]


def _site() -> str:
    from django.conf import settings
    return settings.SITE_URL


def test_a_credential_with_archived_evidence_passes_the_1edtech_schema(shared_dir):
    programme, _, _, issuer = awarding_setup(validity_months=12)
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_url="https://lms.example.org/work/1", evidence_narrative="Assessed.",
                        evidence_files=[upload("a.pdf", PDF), upload("b.txt", TEXT), upload("c.png", png_bytes())])
    schema = json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())
    jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker()).validate(award.credential)
    assert [r["mediaType"] for r in award.credential["relatedResource"]] == ["application/pdf", "text/plain",
                                                                            "image/png"]
    assert len(award.credential["evidence"]) == 4  # the link with its narrative, and one per file


def test_the_same_file_in_many_awards_is_stored_once(archive_root):
    programme, _, _, issuer = awarding_setup()
    for number in range(30):
        award_issue(actor=issuer, programme=programme, recipient_email=f"l{number}@example.org",
                    evidence_files=[upload("same.pdf", PDF)])
    assert ArchivedEvidence.objects.filter(award__isnull=False).count() == 30
    assert len(set(ArchivedEvidence.objects.filter(award__isnull=False).values_list("token", flat=True))) == 30
    assert award_blobs() == 1 and len(stored_files(archive_root)) == 1


@pytest.mark.parametrize(("files", "words"), [
    ([("page.html", b"<!doctype html><html><script>alert(1)</script></html>\x00")], "judged by its content"),
    ([("logo.svg", b"\x00<svg xmlns='http://www.w3.org/2000/svg'/>")], "judged by its content"),
    ([("prog.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")], "judged by its content"),
    ([("big.pdf", PDF + b"x" * 2048)], "allowed for one file"),
    ([("empty.txt", b"")], "is empty"),
    ([("a.pdf", PDF + b"a" * 900), ("b.pdf", PDF + b"b" * 900)], "in all"),
    ([(f"{n}.txt", b"text") for n in range(4)], "At most 3"),
])
def test_a_forbidden_or_oversized_upload_is_400_and_nothing_is_stored(settings, archive_root, files, words):
    settings.EVIDENCE_UPLOAD_MAX_BYTES = 1024
    settings.EVIDENCE_AWARD_MAX_BYTES = 1500
    settings.EVIDENCE_AWARD_MAX_FILES = 3
    programme, _, _, issuer = awarding_setup()
    response = api_client(issuer).post(
        f"/api/v1/programmes/{programme.public_id}/awards",
        {"recipient_email": "aiko@example.org", "evidence_file": [upload(n, d) for n, d in files]},
        format="multipart")
    assert response.status_code == 400, response.content
    assert any(words in m for m in response.json()["errors"]["evidence_file"]), response.json()
    assert Award.objects.count() == 0 and ArchivedEvidence.objects.filter(award__isnull=False).count() == 0
    assert award_blobs() == 0 and stored_files(archive_root) == []


def test_the_api_takes_evidence_file_parts_and_answers_the_archived_copies(archive_root):
    programme, _, _, issuer = awarding_setup()
    client = api_client(issuer)
    response = client.post(
        f"/api/v1/programmes/{programme.public_id}/awards",
        {"recipient_email": "aiko@example.org", "recipient_name": "Aiko", "evidence_narrative": "Portfolio.",
         "evidence_file": [upload("portfolio.zip", zipped()), upload("note.txt", TEXT)]}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    copies = body["archived_evidence"]
    assert [c["media_type"] for c in copies] == ["application/zip", "text/plain"]
    assert [c["digestSRI"] for c in copies] == [sri(zipped()), sri(TEXT)]
    assert [r["id"] for r in body["credential"]["relatedResource"]] == [c["url"] for c in copies]
    fetched = client.get(copies[0]["url"].removeprefix(_site()))
    assert fetched.status_code == 200 and sri(fetched.content) == copies[0]["digestSRI"]
    assert fetched["Content-Disposition"].startswith("attachment")


# --- serving --------------------------------------------------------------------------------------
def test_the_copy_is_served_with_memento_headers_and_noindex(client):
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[upload("note.txt", TEXT)])
    copy = ArchivedEvidence.objects.get(award=award)
    url = f"/evidence/{copy.token}"
    response = client.get(url)
    assert response.status_code == 200 and response.content == TEXT
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    expected_date = copy.taken_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert response["Memento-Datetime"] == expected_date
    assert f'<{_site()}{url}>; rel="original"' in response["Link"]
    assert 'rel="memento"' in response["Link"]
    assert response["Repr-Digest"] == "sha-384=:" + base64.b64encode(hashlib.sha384(TEXT).digest()).decode() + ":"
    assert len(copy.token) >= 43  # 256 random bits
    assert client.get(f"/evidence/{copy.token[:-1]}x").status_code == 404
    assert client.post(url).status_code == 405


# --- withdrawal -----------------------------------------------------------------------------------
def test_withdrawal_deletes_the_bytes_keeps_the_tombstone_and_is_audited(archive_root, client,
                                                                         django_capture_on_commit_callbacks):
    programme, _, _cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[upload("note.txt", TEXT)])
    copy = ArchivedEvidence.objects.get(award=award)
    assert len(stored_files(archive_root)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(issuer).post(f"/api/v1/evidence-copies/{copy.token}/withdraw",
                                           {"reason": "learner"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["withdrawn_at"] and response.json()["digestSRI"] == sri(TEXT)
    assert stored_files(archive_root) == []
    copy.refresh_from_db()
    assert copy.withdrawn_by == issuer and copy.withdrawal_reason == "learner" and copy.digest_sri == sri(TEXT)
    assert copy.blob.removed_at is not None
    event = AuditEvent.objects.get(action=AuditAction.EVIDENCE_WITHDRAWN)
    assert event.actor == issuer and event.data["digestSRI"] == sri(TEXT)
    gone = client.get(f"/evidence/{copy.token}")
    assert gone.status_code == 410 and sri(TEXT) in gone.content.decode()
    assert gone["X-Robots-Tag"].startswith("noindex")
    # Withdrawing twice: 409 and no second event.
    again = api_client(issuer).post(f"/api/v1/evidence-copies/{copy.token}/withdraw", {}, format="json")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action=AuditAction.EVIDENCE_WITHDRAWN).count() == 1


def test_bytes_another_live_award_holds_stay_until_it_too_is_withdrawn(archive_root,
                                                                         django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    first, second = (award_issue(actor=issuer, programme=programme, recipient_email=f"{n}@example.org",
                                 evidence_files=[upload("same.pdf", PDF)]) for n in ("a", "b"))
    from badges.archive import copy_withdraw
    with django_capture_on_commit_callbacks(execute=True):
        copy_withdraw(actor=issuer, copy=ArchivedEvidence.objects.get(award=first))
    assert len(stored_files(archive_root)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        copy_withdraw(actor=issuer, copy=ArchivedEvidence.objects.get(award=second))
    assert stored_files(archive_root) == []


def test_only_owners_and_issuers_withdraw_and_a_refusal_writes_nothing(archive_root):
    programme, _, cast, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[upload("note.txt", TEXT)])
    copy = ArchivedEvidence.objects.get(award=award)
    from badges.archive import copy_withdraw
    with pytest.raises(NotPermitted):
        copy_withdraw(actor=cast.editor, copy=copy)
    with pytest.raises(InvalidInput) as refused:
        copy_withdraw(actor=issuer, copy=copy, reason="whim")
    assert "reason" in refused.value.field_errors
    stranger = staff(awarding_setup()[2].organisation, Role.OWNER)
    assert api_client(stranger).post(f"/api/v1/evidence-copies/{copy.token}/withdraw", {},
                                     format="json").status_code == 404
    copy.refresh_from_db()
    assert copy.withdrawn_at is None and len(stored_files(archive_root)) == 1
    assert not AuditEvent.objects.filter(action=AuditAction.EVIDENCE_WITHDRAWN).exists()


def test_with_no_endorsement_in_force_the_files_are_not_stored(archive_root):
    from endorsement import services

    programme, app, cast, issuer = awarding_setup()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    response = api_client(issuer).post(
        f"/api/v1/programmes/{programme.public_id}/awards",
        {"recipient_email": "aiko@example.org", "evidence_file": [upload("a.pdf", PDF)]}, format="multipart")
    assert response.status_code == 409 and "suspended" in response.json()["detail"]
    assert Award.objects.count() == 0 and award_blobs() == 0 and stored_files(archive_root) == []


def test_a_retry_with_the_same_key_and_files_replays_and_other_files_are_refused(archive_root):
    programme, _, _, issuer = awarding_setup()
    client = api_client(issuer)
    url = f"/api/v1/programmes/{programme.public_id}/awards"

    def post(data: bytes):
        return client.post(url, {"recipient_email": "aiko@example.org", "evidence_file": [upload("a.txt", data)]},
                           format="multipart", HTTP_IDEMPOTENCY_KEY="3f1c0a52-evidence")

    first = post(TEXT)
    assert first.status_code == 201
    again = post(TEXT)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["public_id"] == first.json()["public_id"]
    other = post(b"other evidence")
    assert other.status_code == 422
    assert Award.objects.count() == 1 and ArchivedEvidence.objects.filter(award__isnull=False).count() == 1
    assert [p.read_bytes() for p in stored_files(archive_root)] == [TEXT]
