"""The archived evidence read back: the verifier (/verify, POST /api/v1/verify) and the badge page
say per item "evidence intact", "altered" or "withdrawn"; a link is archived as a WARC record."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone
from warcio.archiveiterator import ArchiveIterator

from badges.archive import archived_copy_check, copy_token, copy_url, copy_withdraw, evidence_retention_sweep, new_token
from badges.awards import award_issue
from badges.evidence import evidence_check_create, evidence_fetch, evidence_recheck
from badges.models import ArchivedEvidence, Award, EvidenceCheck
from badges.status import status_list_publish
from endorsement.audit import AuditAction
from endorsement.models import AuditEvent
from tests.badges.archive_store import archive_in, stored_files
from tests.badges.award_rows import award_row
from tests.badges.http_stand_in import serve
from tests.factories import PASSWORD, api_client, awarding_setup, login_request

pytestmark = pytest.mark.django_db

TEXT = "Reflective report: 三つの課題を評価済み。\n".encode()
PAGE = b"<html><body>Assessed portfolio of Aiko Tanaka</body></html>"


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    return archive_in(settings, tmp_path / "evidence")


@pytest.fixture
def server():
    with serve() as stand_in:
        yield stand_in



def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def issued_with_file(data: bytes = TEXT, name: str = "report.txt") -> tuple[Award, object]:
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[SimpleUploadedFile(name, data)])
    status_list_publish(award.status.status_list_id)  # what the task after commit does
    status_list_publish(award.endorsement.status.status_list_id)
    return award, issuer


def archive_checks(credential, language: str = "en") -> list[dict]:
    response = api_client().post("/api/v1/verify", data=json.dumps(credential), content_type="application/json",
                                 HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return [c for c in response.json()["checks"] if c["id"].startswith("archive-")]


# --- the verifier ----------------------------------------------------------------------------------
def test_the_verifier_reports_evidence_intact():
    award, _ = issued_with_file()
    (check,) = archive_checks(award.credential)
    assert check["code"] == "archive.intact" and check["passed"] is True and check["informational"] is True
    assert check["message"].startswith("Evidence intact")


def test_an_archived_copy_altered_on_disk_is_reported_altered(archive_root):
    award, _ = issued_with_file()
    (path,) = stored_files(archive_root)
    # Another size: reported at once (the same size within EVIDENCE_COPY_CHECK_SECONDS of the last
    # hash is reported once that interval has passed: tests/badges/test_archive_check_cache.py).
    path.write_bytes(TEXT.replace("三つ".encode(), "四つと少し".encode()))
    (check,) = archive_checks(award.credential)
    assert check["code"] == "archive.altered" and check["passed"] is False
    assert check["message"].startswith("Evidence altered")
    # The signature still holds: evidence does not unmake the credential.
    body = api_client().post("/api/v1/verify", data=json.dumps(award.credential),
                             content_type="application/json").json()
    assert body["verified"] is True


def test_a_withdrawn_copy_is_reported_withdrawn_not_altered_and_its_bytes_are_gone(
        archive_root, django_capture_on_commit_callbacks):
    award, issuer = issued_with_file()
    with django_capture_on_commit_callbacks(execute=True):
        copy_withdraw(actor=issuer, copy=ArchivedEvidence.objects.get(award=award))
    assert stored_files(archive_root) == []
    (check,) = archive_checks(award.credential)
    assert check["code"] == "archive.withdrawn" and check["message"].startswith("Evidence withdrawn")
    (japanese,) = archive_checks(award.credential, "ja")
    assert japanese["code"] == "archive.withdrawn" and "取り下げ" in japanese["message"]


def test_the_words_are_japanese_for_a_japanese_visitor():
    award, _ = issued_with_file()
    (check,) = archive_checks(award.credential, "ja")
    assert check["code"] == "archive.intact" and "証拠" in check["message"] and "Evidence" not in check["message"]


def test_a_copy_elsewhere_is_fetched_and_a_410_is_withdrawn(server):
    url = server.route("/copy/1", TEXT, content_type="text/plain")
    assert archived_copy_check(url, sri(TEXT)).outcome == "intact"
    assert archived_copy_check(url, sri(b"something else")).outcome == "altered"
    assert archived_copy_check(server.route("/copy/2", b"gone", status=410), sri(TEXT)).outcome == "withdrawn"
    assert archived_copy_check(server.url("/copy/missing"), sri(TEXT)).outcome == "unavailable"
    assert archived_copy_check(url, "md5-abc").outcome == "no-digest"
    assert server.hits == ["/copy/1", "/copy/1", "/copy/2", "/copy/missing"]


def test_the_verify_page_shows_the_archive_check(client):
    award, _ = issued_with_file()
    page = client.post("/verify", {"credential": json.dumps(award.credential)}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Evidence intact" in page.content.decode()


# --- links, kept as WARC records -------------------------------------------------------------------
def test_a_fetched_link_is_kept_as_a_warc_record_a_replay_tool_reads(server, client):
    award = award_row(evidence_url=server.route("/portfolio/1", PAGE, content_type="text/html; charset=utf-8"))
    evidence_check_create(award)
    evidence_fetch(award.pk)
    (copy,) = ArchivedEvidence.objects.filter(award=award)
    assert copy.kind == "web" and copy.media_type == "application/warc" and copy.original_url == award.evidence_url
    response = client.get(f"/evidence/{copy.token}")
    assert response.status_code == 200 and sri(response.content) == copy.digest_sri
    assert response["Link"].startswith(f'<{award.evidence_url}>; rel="original"')
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_statuscode(),
                r.http_headers.get_header("Content-Type"), r.content_stream().read())
               for r in ArchiveIterator(io.BytesIO(response.content))]
    assert records == [("response", award.evidence_url, "200", "text/html; charset=utf-8", PAGE)]
    # Fetched once, archived once: a re-check of the same page keeps the first copy.
    EvidenceCheck.objects.filter(award=award).update(last_checked_at=timezone.now() - timedelta(days=30))
    evidence_recheck(EvidenceCheck.objects.get(award=award).pk)
    assert ArchivedEvidence.objects.filter(award=award).count() == 1


def test_a_link_that_later_answers_404_shows_the_archived_copy_intact_on_the_badge_page(server, client):
    award = award_row(evidence_url=server.route("/portfolio/1", PAGE, content_type="text/html"))
    evidence_check_create(award)
    evidence_fetch(award.pk)
    server.routes.pop("/portfolio/1")
    EvidenceCheck.objects.filter(award=award).update(last_checked_at=timezone.now() - timedelta(days=30))
    evidence_recheck(EvidenceCheck.objects.get(award=award).pk)
    assert EvidenceCheck.objects.get(award=award).standing == "gone"
    page = client.get(f"/badges/{award.public_id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    copy = ArchivedEvidence.objects.get(award=award)
    assert "Gone" in page and "digest intact" in page and f"/evidence/{copy.token}" in page
    assert copy.digest_sri in page


def test_the_badge_page_shows_an_uploaded_copy_altered(archive_root, client):
    award, _ = issued_with_file()
    (path,) = stored_files(archive_root)
    path.write_bytes(b"tampered")
    page = client.get(f"/badges/{award.public_id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "altered: the archived copy no longer has its digest" in page and "digest intact" not in page


# --- the portal ------------------------------------------------------------------------------------
def test_the_portal_form_takes_evidence_files_and_refuses_a_forbidden_one(archive_root, client):
    programme, _, _, issuer = awarding_setup()
    assert client.login(request=login_request(), username=issuer.username, password=PASSWORD)
    url = f"/portal/programmes/{programme.public_id}/awards/new/"
    refused = client.post(url, {"recipient_email": "aiko@example.org",
                                "evidence_file": [SimpleUploadedFile("x.exe", b"MZ\x90\x00\x03\x00\x00\x00")]},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "judged by its content" in refused.content.decode()
    assert Award.objects.count() == 0 and stored_files(archive_root) == []
    done = client.post(url, {"recipient_email": "aiko@example.org",
                             "evidence_file": [SimpleUploadedFile("a.txt", TEXT), SimpleUploadedFile("b.txt", b"two")]})
    assert done.status_code == 302
    award = Award.objects.get()
    assert [r["digestSRI"] for r in award.credential["relatedResource"]] == [sri(TEXT), sri(b"two")]
    detail = client.get(f"/portal/awards/{award.public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Archived evidence" in detail and sri(TEXT) in detail
    first = ArchivedEvidence.objects.filter(award=award).order_by("position").first()
    withdrawn = client.post(f"/portal/evidence/{first.token}/withdraw/", {"reason": "learner"})
    assert withdrawn.status_code == 302
    first.refresh_from_db()
    assert first.withdrawn_at is not None and first.withdrawn_by == issuer


# --- retention -------------------------------------------------------------------------------------
def test_the_retention_sweep_removes_copies_of_badges_ended_long_ago(settings, archive_root,
                                                                     django_capture_on_commit_callbacks):
    settings.EVIDENCE_RETENTION_DAYS = 30
    old, _ = issued_with_file(b"old evidence")
    recent, _ = issued_with_file(b"recent evidence")
    now = timezone.now()
    Award.objects.filter(pk=old.pk).update(valid_until=now - timedelta(days=31))
    Award.objects.filter(pk=recent.pk).update(valid_until=now - timedelta(days=29))
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_retention_sweep(now=now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_retention_sweep(now=now) == 0  # idempotent
    gone = ArchivedEvidence.objects.get(award=old)
    assert gone.withdrawal_reason == "retention" and gone.withdrawn_by is None
    assert gone.digest_sri == sri(b"old evidence")
    assert ArchivedEvidence.objects.get(award=recent).withdrawn_at is None
    assert [p.read_bytes() for p in stored_files(archive_root)] == [b"recent evidence"]
    assert AuditEvent.objects.filter(action=AuditAction.EVIDENCE_WITHDRAWN).count() == 1


def _resolved_token(url: str) -> str | None:
    """What the URL patterns say, walked in full (django.urls.resolve)."""
    try:
        match = resolve("/" + url[len(django_settings.SITE_URL) + 1:].split("?", 1)[0].split("#", 1)[0])
    except Resolver404:
        return None
    return match.kwargs.get("token") if match.url_name == "evidence-copy" else None


def test_a_copy_token_read_by_its_shape_is_the_one_the_url_patterns_give():
    tokens = [new_token() for _ in range(200)] + ["-" * 43, "_" * 43, "a" * 43]
    for token in tokens:
        url = copy_url(token)
        assert copy_token(url) == _resolved_token(url) == token
        assert copy_token(url + "?download=1#x") == token
    base = django_settings.SITE_URL + "/evidence/"
    for other in ["a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "%", "a" * 42 + "é", "", "a" * 43 + "/x"]:
        assert copy_token(base + other) == _resolved_token(base + other)
    assert copy_token("https://elsewhere.example/evidence/" + "a" * 43) is None
    assert copy_token(django_settings.SITE_URL + "/status/" + "a" * 43) is None
