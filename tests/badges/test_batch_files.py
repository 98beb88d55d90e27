"""Batches take evidence files: from a zip sent with the batch (the sheet at its top level, a column
naming each row's files by path) or uploaded beforehand (`POST …/evidence-files`, named by their
handle). Files are checked as an award's uploads are; an unsafe or oversized zip entry, a missing
file, a forbidden type or another organisation's handle refuses the whole batch with the row and
the reason, and nothing is stored."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from badges import credentials as vc
from badges.archive import copy_url
from badges.models import ArchivedEvidence, AwardBatch, EvidenceBlob, EvidenceUpload
from institutions.keys import did_document
from institutions.models import Organisation
from tests.badges.archive_store import archive_in, award_blobs, stored_files
from tests.factories import PASSWORD, api_client, awarding_setup, login_request, png_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "振り返りレポート: three assessed assignments.\n".encode()


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    return archive_in(settings, tmp_path / "evidence")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def post_batch(issuer, programme, content: bytes, name: str = "batch.zip"):
    return api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                                   {"file": SimpleUploadedFile(name, content)}, format="multipart")


def verified(credential) -> bool:
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    return vc.verify(credential, resolver).verified


def nothing_stored(archive_root) -> None:
    assert AwardBatch.objects.count() == 0
    assert award_blobs() == 0 and stored_files(archive_root) == []
    assert not ArchivedEvidence.objects.filter(award__isnull=False).exists()


# --- files from the batch's zip --------------------------------------------------------------------
def test_a_zip_batch_issues_each_row_with_its_files_bound_into_the_signature(archive_root, client,
                                                                             django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    sheet = ("email,name,evidence_files\r\n"
             "aiko@example.org,Aiko,portfolio/report.pdf|portfolio/photo.png\r\n"
             "ken@example.org,Ken,portfolio/report.pdf\r\n"
             "mei@example.org,Mei,./notes/振り返り.txt\r\n"
             "sora@example.org,Sora,\r\n").encode()
    content = zipped({"batch.csv": sheet, "portfolio/report.pdf": PDF, "portfolio/photo.png": png_bytes(),
                      "notes/振り返り.txt": TEXT, "portfolio/unused.bin": b"\x00\x01"})
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(issuer, programme, content)
    assert response.status_code == 201, response.json()
    awards = {a.recipient_email: a for a in AwardBatch.objects.get().awards.all()}
    assert len(awards) == 4
    aiko = awards["aiko@example.org"].credential
    copies = list(ArchivedEvidence.objects.filter(award=awards["aiko@example.org"]).order_by("position"))
    assert aiko["relatedResource"] == [
        {"id": copy_url(copies[0].token), "digestSRI": sri(PDF), "mediaType": "application/pdf"},
        {"id": copy_url(copies[1].token), "digestSRI": sri(png_bytes()), "mediaType": "image/png"}]
    assert [e.get("name") for e in aiko["evidence"]] == ["report.pdf", "photo.png"]
    assert verified(aiko)
    mei = awards["mei@example.org"].credential
    assert mei["relatedResource"][0]["digestSRI"] == sri(TEXT) and mei["evidence"][0]["name"] == "振り返り.txt"
    assert "relatedResource" not in awards["sora@example.org"].credential
    # Served with the signed digest; the PDF in two awards is stored once; the unnamed entry not at all.
    served = client.get(f"/evidence/{copies[0].token}")
    assert served.status_code == 200 and served.content == PDF
    assert award_blobs() == 3 and len(stored_files(archive_root)) == 3
    assert ArchivedEvidence.objects.filter(award__isnull=False).count() == 4
    # Recorded as uploaded for the batch, so that nothing removes their bytes before the chunks run.
    assert sorted(EvidenceUpload.objects.values_list("filename", flat=True)) == ["photo.png", "report.pdf",
                                                                               "振り返り.txt"]


def test_a_japanese_sheet_in_the_zip_names_its_files_in_the_japanese_column(archive_root,
                                                                          django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    sheet = ("メールアドレス,氏名,エビデンスファイル\r\n"
             "hanako@example.org,山田 花子,成果物/レポート.pdf\r\n").encode("cp932")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(issuer, programme, zipped({"一覧.csv": sheet, "成果物/レポート.pdf": PDF}))
    assert response.status_code == 201, response.json()
    (award,) = AwardBatch.objects.get().awards.all()
    assert award.credential["relatedResource"][0]["digestSRI"] == sri(PDF)
    assert award.credential["evidence"][0]["name"] == "レポート.pdf"


@pytest.mark.parametrize(("entries", "cell", "words"), [
    ({"a.pdf": PDF}, "b.pdf", "“b.pdf” is not in the zip."),
    ({"a.pdf": PDF}, "../a.pdf", "is not a path inside the zip"),
    ({"a.pdf": PDF}, "/etc/passwd", "is not a path inside the zip"),
    ({"page.html": b"<!doctype html><script>alert(1)</script>\x00"}, "page.html", "judged by its content"),
    ({"empty.txt": b""}, "empty.txt", "is empty"),
    ({"big.pdf": PDF + b"x" * 5000}, "big.pdf", "allowed for one file"),
    ({"a.pdf": PDF + b"a" * 1500, "b.pdf": PDF + b"b" * 1500}, "a.pdf|b.pdf", "in all"),
    ({f"{n}.txt": b"text" for n in range(4)}, "0.txt|1.txt|2.txt|3.txt", "At most 3"),
])
def test_a_bad_file_refuses_the_batch_naming_the_row_and_nothing_is_stored(settings, archive_root, entries, cell,
                                                                          words):
    settings.EVIDENCE_UPLOAD_MAX_BYTES = 4096
    settings.EVIDENCE_AWARD_MAX_BYTES = 2048
    settings.EVIDENCE_AWARD_MAX_FILES = 3
    programme, _, _, issuer = awarding_setup()
    sheet = f"email,evidence_files\r\ngood@example.org,\r\nbad@example.org,{cell}\r\n".encode()
    response = post_batch(issuer, programme, zipped({"batch.csv": sheet, **entries}))
    assert response.status_code == 400
    (problem,) = response.json()["row_errors"]
    assert problem["line"] == 3 and problem["field"] == "evidence_files" and problem["path"] == "line 3.evidence_files"
    assert words in " ".join(problem["messages"]) and problem["text"].startswith("Line 3, evidence files: ")
    nothing_stored(archive_root)


def test_a_zip_bomb_entry_is_read_no_further_than_the_limit(settings, archive_root):
    settings.EVIDENCE_UPLOAD_MAX_BYTES = 64 * 1024
    programme, _, _, issuer = awarding_setup()
    bomb = b"\x00" * (50 * 1024 * 1024)  # 50 MB of zeros: about 50 KB deflated
    content = zipped({"batch.csv": b"email,evidence_files\r\na@example.org,bomb.txt\r\n", "bomb.txt": bomb})
    assert len(content) < 100 * 1024
    response = post_batch(issuer, programme, content)
    assert response.status_code == 400
    assert "allowed for one file" in response.json()["row_errors"][0]["messages"][0]
    nothing_stored(archive_root)


def test_a_lying_size_in_the_zip_header_does_not_get_past_the_bounded_read(settings, archive_root):
    settings.EVIDENCE_UPLOAD_MAX_BYTES = 4096
    programme, _, _, issuer = awarding_setup()
    content = bytearray(zipped({"batch.csv": b"email,evidence_files\r\na@example.org,x.txt\r\n",
                                "x.txt": b"a" * 100_000}))
    # Claim 10 bytes uncompressed in both headers of x.txt (local header offset 22, central 24).
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    info = archive.getinfo("x.txt")
    local = info.header_offset
    content[local + 22:local + 26] = (10).to_bytes(4, "little")
    central = bytes(content).rindex(b"PK\x01\x02")
    content[central + 24:central + 28] = (10).to_bytes(4, "little")
    response = post_batch(issuer, programme, bytes(content))
    assert response.status_code == 400
    assert "x.txt" in response.json()["row_errors"][0]["messages"][0]
    nothing_stored(archive_root)


@pytest.mark.parametrize(("entries", "words"), [
    ({"a.pdf": PDF}, "holds 0"),
    ({"a.csv": b"email\r\na@example.org\r\n", "b.csv": b"email\r\nb@example.org\r\n"}, "holds 2"),
])
def test_a_zip_without_exactly_one_sheet_at_its_top_is_refused(archive_root, entries, words):
    programme, _, _, issuer = awarding_setup()
    response = post_batch(issuer, programme, zipped(entries))
    assert response.status_code == 400 and words in response.json()["errors"]["file"][0]
    nothing_stored(archive_root)


def test_a_sheet_that_is_itself_a_zip_is_refused_not_opened(archive_root):
    programme, _, _, issuer = awarding_setup()
    inner = zipped({"batch.csv": b"email\r\na@example.org\r\n"})
    response = post_batch(issuer, programme, zipped({"batch.csv": inner}))
    assert response.status_code == 400 and "is itself a zip" in response.json()["errors"]["file"][0]
    nothing_stored(archive_root)


def test_a_zip_with_too_many_entries_or_too_large_is_refused(settings, archive_root):
    settings.EVIDENCE_BATCH_ZIP_MAX_ENTRIES = 3
    programme, _, _, issuer = awarding_setup()
    entries = {"batch.csv": b"email\r\na@example.org\r\n", **{f"{n}.txt": b"t" for n in range(3)}}
    response = post_batch(issuer, programme, zipped(entries))
    assert response.status_code == 400 and "more than 3 entries" in response.json()["errors"]["file"][0]
    settings.EVIDENCE_BATCH_ZIP_MAX_ENTRIES = 100
    settings.EVIDENCE_BATCH_ZIP_MAX_BYTES = 200
    response = post_batch(issuer, programme, zipped(entries, zipfile.ZIP_STORED))
    assert response.status_code == 400 and "larger than the 200 bytes" in response.json()["errors"]["file"][0]
    nothing_stored(archive_root)


# --- files uploaded beforehand ---------------------------------------------------------------------
def upload_files(issuer, programme, *files):
    return api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/evidence-files",
                                   {"evidence_file": [SimpleUploadedFile(n, d) for n, d in files]}, format="multipart")


def test_files_uploaded_beforehand_are_named_by_their_handle(archive_root, django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    response = upload_files(issuer, programme, ("report.pdf", PDF), ("notes.txt", TEXT))
    assert response.status_code == 201
    handles = [f["handle"] for f in response.json()["files"]]
    assert handles == [sri(PDF), sri(TEXT)]
    assert response.json()["files"][0] == {"handle": sri(PDF), "digestSRI": sri(PDF), "filename": "report.pdf",
                                           "size": len(PDF), "mediaType": "application/pdf"}
    assert len(stored_files(archive_root)) == 2  # stored at once, content-addressed
    # The same content again: the same handle, nothing stored twice.
    assert upload_files(issuer, programme, ("copy.pdf", PDF)).json()["files"][0]["handle"] == sri(PDF)
    assert EvidenceUpload.objects.count() == 2 and EvidenceBlob.objects.filter(uploads__isnull=False).count() == 2
    rows = [{"email": "aiko@example.org", "evidence_files": [handles[0], handles[1]]},
            {"email": "ken@example.org", "evidence_files": handles[0]}]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows,
                                           format="json")
    assert response.status_code == 201, response.json()
    awards = {a.recipient_email: a for a in AwardBatch.objects.get().awards.all()}
    aiko = awards["aiko@example.org"].credential
    assert [r["digestSRI"] for r in aiko["relatedResource"]] == [sri(PDF), sri(TEXT)]
    assert [e["name"] for e in aiko["evidence"]] == ["report.pdf", "notes.txt"] and verified(aiko)
    assert len(stored_files(archive_root)) == 2
    # A CSV names them the same way.
    sheet = f"email,evidence_files\r\nmei@example.org,{handles[1]}\r\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_batch(issuer, programme, sheet, "batch.csv").status_code == 201


def test_another_organisations_handle_or_an_unknown_one_refuses_the_batch(archive_root):
    programme, _, _, issuer = awarding_setup()
    other_programme, _, _, other_issuer = awarding_setup()
    assert upload_files(other_issuer, other_programme, ("theirs.pdf", PDF)).status_code == 201
    rows = [{"email": "a@example.org", "evidence_files": sri(PDF)},
            {"email": "b@example.org", "evidence_files": sri(b"never uploaded")},
            {"email": "c@example.org", "evidence_files": "report.pdf"}]
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows,
                                       format="json")
    assert response.status_code == 400
    messages = {p["index"]: p["messages"][0] for p in response.json()["row_errors"]}
    assert "No file with the handle" in messages[0] and "No file with the handle" in messages[1]
    assert "upload the sheet and its files in one zip" in messages[2]
    assert AwardBatch.objects.count() == 0


def test_an_upload_in_error_stores_none_of_the_files(archive_root):
    programme, _, cast, issuer = awarding_setup()
    response = upload_files(issuer, programme, ("report.pdf", PDF), ("page.html", b"<html>\x00</html>"))
    assert response.status_code == 400 and "judged by its content" in response.json()["errors"]["evidence_file"][0]
    assert EvidenceUpload.objects.count() == 0 and stored_files(archive_root) == []
    # Staff who may not award may not upload either.
    response = upload_files(cast.editor, programme, ("report.pdf", PDF))
    assert response.status_code == 403 and stored_files(archive_root) == []


def test_each_file_uploaded_beforehand_is_audited_and_a_refused_upload_is_not(archive_root):
    from endorsement.audit import AuditAction
    from endorsement.models import AuditEvent

    programme, _, cast, issuer = awarding_setup()
    assert upload_files(issuer, programme, ("report.pdf", PDF), ("notes.txt", TEXT)).status_code == 201
    assert upload_files(issuer, programme, ("copy.pdf", PDF)).status_code == 201  # the same content again
    events = list(AuditEvent.objects.filter(action=AuditAction.EVIDENCE_UPLOADED).order_by("seq"))
    assert [e.data["filename"] for e in events] == ["report.pdf", "notes.txt", "copy.pdf"]
    assert all(e.actor == issuer and e.subject_type == "evidenceupload" for e in events)
    pdf = EvidenceUpload.objects.get(blob__sha384=hashlib.sha384(PDF).hexdigest())
    assert events[0].subject_id == events[2].subject_id == str(pdf.pk)
    assert events[0].data == {"organisation": programme.organisation.slug, "handle": sri(PDF),
                              "filename": "report.pdf", "size": len(PDF), "media_type": "application/pdf",
                              "already_stored": False, "programme": str(programme.public_id)}
    assert events[2].data["already_stored"] is True
    # Refused (a file in error; staff who may not award): no file stored, nothing audited.
    before = AuditEvent.objects.count()
    assert upload_files(issuer, programme, ("a.pdf", PDF), ("page.html", b"<html>\x00</html>")).status_code == 400
    assert upload_files(cast.editor, programme, ("report.pdf", PDF)).status_code == 403
    assert AuditEvent.objects.count() == before and EvidenceUpload.objects.count() == 2


def test_files_uploaded_long_ago_and_never_named_are_forgotten_and_their_bytes_removed(
        archive_root, settings, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from badges.batch_files import evidence_uploads_sweep

    programme, _, _, issuer = awarding_setup()
    upload_files(issuer, programme, ("report.pdf", PDF))
    assert evidence_uploads_sweep() == 0 and len(stored_files(archive_root)) == 1
    EvidenceUpload.objects.update(created_at=timezone.now() - timedelta(days=settings.EVIDENCE_UPLOAD_KEEP_DAYS + 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_uploads_sweep() == 1
    assert EvidenceUpload.objects.count() == 0
    assert EvidenceBlob.objects.get(sha384=hashlib.sha384(PDF).hexdigest()).removed_at is not None
    assert stored_files(archive_root) == []


# --- the portal --------------------------------------------------------------------------------------
def test_the_portal_batch_form_takes_a_zip(archive_root, django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(request=login_request(), username=issuer.username, password=PASSWORD)
    content = zipped({"batch.csv": b"email,evidence_files\r\naiko@example.org,work/report.pdf\r\n",
                      "work/report.pdf": PDF})
    url = f"/portal/programmes/{programme.public_id}/award-batches/new/"
    page = client.get(url).content.decode()
    assert "zip" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("batch.zip", content)})
    assert response.status_code == 302
    (award,) = AwardBatch.objects.get().awards.all()
    assert award.credential["relatedResource"][0]["digestSRI"] == sri(PDF)
    bad = zipped({"batch.csv": b"email,evidence_files\r\nken@example.org,work/missing.pdf\r\n"})
    response = client.post(url, {"file": SimpleUploadedFile("batch.zip", bad)})
    assert response.status_code == 400 and "“work/missing.pdf” is not in the zip." in response.content.decode()
    assert AwardBatch.objects.count() == 1


def test_bytes_a_pending_upload_holds_stay_when_an_award_with_the_same_content_is_withdrawn(
        archive_root, django_capture_on_commit_callbacks):
    from badges.archive import copy_withdraw
    from badges.awards import award_issue

    programme, _, _, issuer = awarding_setup()
    handle = upload_files(issuer, programme, ("report.pdf", PDF)).json()["files"][0]["handle"]
    award = award_issue(actor=issuer, programme=programme, recipient_email="solo@example.org",
                        evidence_files=[SimpleUploadedFile("report.pdf", PDF)])
    with django_capture_on_commit_callbacks(execute=True):
        copy_withdraw(actor=issuer, copy=ArchivedEvidence.objects.get(award=award))
    assert len(stored_files(archive_root)) == 1  # the upload still holds them
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                                           [{"email": "later@example.org", "evidence_files": handle}], format="json")
    assert response.status_code == 201
    (later,) = AwardBatch.objects.get().awards.all()
    assert later.credential["relatedResource"][0]["digestSRI"] == sri(PDF)


def test_the_same_file_in_1000_awards_of_a_batch_is_stored_once(archive_root, django_capture_on_commit_callbacks):
    programme, _, _, issuer = awarding_setup()
    sheet = "email,evidence_files\r\n" + "".join(f"l{i}@example.org,shared/report.pdf\r\n" for i in range(1000))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(issuer, programme, zipped({"batch.csv": sheet.encode(), "shared/report.pdf": PDF}))
    assert response.status_code == 201
    assert AwardBatch.objects.get().issued == 1000
    copies = ArchivedEvidence.objects.filter(award__isnull=False)
    assert copies.count() == 1000 and len(set(copies.values_list("token", flat=True))) == 1000
    assert len(set(copies.values_list("blob_id", flat=True))) == 1
    assert award_blobs() == 1 and len(stored_files(archive_root)) == 1


# --- the portal's page for files uploaded beforehand -----------------------------------------------
def portal(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def test_the_portal_page_uploads_files_beforehand_and_lists_their_handles(archive_root):
    from endorsement.audit import AuditAction
    from endorsement.models import AuditEvent

    programme, _, _, issuer = awarding_setup()
    client = portal(issuer)
    url = f"/portal/programmes/{programme.public_id}/evidence-files/"
    batch_page = client.get(f"/portal/programmes/{programme.public_id}/award-batches/new/").content.decode()
    assert f'href="{url}"' in batch_page
    page = client.get(url)
    assert page.status_code == 200 and "No files uploaded yet." in page.content.decode()
    answer = client.post(url, {"evidence_file": [SimpleUploadedFile("report.pdf", PDF),
                                                 SimpleUploadedFile("notes.txt", TEXT)]})
    html = answer.content.decode()
    assert answer.status_code == 200 and "2 files stored" in html
    assert sri(PDF) in html and sri(TEXT) in html and "report.pdf" in html
    assert EvidenceUpload.objects.count() == 2 and len(stored_files(archive_root)) == 2
    assert AuditEvent.objects.filter(action=AuditAction.EVIDENCE_UPLOADED, actor=issuer).count() == 2
    assert sri(PDF) in client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()


def test_the_portal_page_refuses_a_bad_file_storing_none_and_keeps_out_who_may_not_award(archive_root):
    programme, _, cast, issuer = awarding_setup()
    url = f"/portal/programmes/{programme.public_id}/evidence-files/"
    refused = portal(issuer).post(url, {"evidence_file": [SimpleUploadedFile("report.pdf", PDF),
                                                          SimpleUploadedFile("page.html", b"<html>\x00</html>")]})
    assert refused.status_code == 400 and "judged by its content" in refused.content.decode()
    missing = portal(issuer).post(url, {})
    assert missing.status_code == 400 and "Send one or more evidence_file parts." in missing.content.decode()
    assert EvidenceUpload.objects.count() == 0 and stored_files(archive_root) == []
    editor = portal(cast.editor)
    assert editor.get(url).status_code == 403
    assert editor.post(url, {"evidence_file": [SimpleUploadedFile("report.pdf", PDF)]}).status_code == 403
    _other, _, _, other_issuer = awarding_setup()
    assert portal(other_issuer).get(url).status_code == 404
    assert EvidenceUpload.objects.count() == 0
