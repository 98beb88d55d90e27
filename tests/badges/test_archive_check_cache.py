"""Neither the badge page nor the verifier (/verify, POST /api/v1/verify) re-hashes every archived
copy at every view or verification: the stored size is compared every time, the digest at most once
per EVIDENCE_COPY_CHECK_SECONDS (and by the daily beat task); a blob's first hash is the one taken
when it was stored. An altered copy is still reported altered: at once when its size changed, after
the interval (or the beat task) when it did not. A copy presented with a digest other than its own
is hashed at once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from badges import archive
from badges.awards import award_issue
from badges.models import EvidenceBlob
from badges.status import status_list_publish
from badges.tasks import remove_expired_evidence
from tests.badges.archive_store import archive_in, stored_files
from tests.factories import api_client, awarding_setup

pytestmark = pytest.mark.django_db
TEXT = "Reflective report: 三つの課題を評価済み。\n".encode()
SAME_SIZE = TEXT.replace("三つ".encode(), "四つ".encode())
INTACT, ALTERED = "digest intact", "altered: the archived copy no longer has its digest"


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings) -> Path:
    settings.EVIDENCE_COPY_CHECK_SECONDS = 3600
    return archive_in(settings, tmp_path / "evidence")


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """The blobs hashed, in order (blob_verify wrapped, still doing its work)."""
    seen: list[str] = []
    real = archive.blob_verify

    def counting(blob, **kwargs):
        seen.append(blob.sha384)
        return real(blob, **kwargs)

    monkeypatch.setattr(archive, "blob_verify", counting)
    return seen


def issued():
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[SimpleUploadedFile("report.txt", TEXT)])
    status_list_publish(award.status.status_list_id)
    status_list_publish(award.endorsement.status.status_list_id)
    return award


def page(client, award) -> str:
    return client.get(f"/badges/{award.public_id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def verify_codes(credential) -> list[str]:
    body = api_client().post("/api/v1/verify", data=json.dumps(credential), content_type="application/json").json()
    return [c["code"] for c in body["checks"] if c["id"].startswith("archive-")]


def test_a_view_or_a_verification_within_the_interval_hashes_nothing(client, hashes):
    award = issued()
    blob = EvidenceBlob.objects.get(copies__award=award)
    # Stored: the bytes written are the bytes hashed, recorded as the first hash.
    assert blob.verified_intact is True and blob.verified_size == len(TEXT) and blob.verified_at is not None
    assert INTACT in page(client, award)
    assert INTACT in page(client, award) and INTACT in page(client, award)
    assert verify_codes(award.credential) == ["archive.intact"]
    assert hashes == []


def test_a_copy_altered_to_another_size_is_altered_at_the_next_view(client, archive_root, hashes):
    award = issued()
    assert INTACT in page(client, award)
    (path,) = stored_files(archive_root)
    path.write_bytes(b"tampered")
    text = page(client, award)
    assert ALTERED in text and INTACT not in text and len(hashes) == 1
    assert EvidenceBlob.objects.get(copies__award=award).verified_intact is False


def test_the_verifier_reports_a_copy_altered_to_another_size_at_once(archive_root, hashes):
    award = issued()
    assert verify_codes(award.credential) == ["archive.intact"]
    (path,) = stored_files(archive_root)
    path.write_bytes(TEXT + b"appended")
    assert verify_codes(award.credential) == ["archive.altered"]
    assert len(hashes) == 1  # the size differed from the last hash's: hashed again, and recorded
    blob = EvidenceBlob.objects.get(copies__award=award)
    assert blob.verified_intact is False and blob.verified_size == len(TEXT) + len(b"appended")
    assert verify_codes(award.credential) == ["archive.altered"]  # and it stays altered


def test_a_copy_presented_with_another_digest_is_hashed_at_once(archive_root, hashes):
    import base64
    import hashlib

    award = issued()
    credential = json.loads(json.dumps(award.credential))
    (resource,) = credential["relatedResource"]
    resource["digestSRI"] = "sha256-" + base64.b64encode(hashlib.sha256(TEXT).digest()).decode()
    (path,) = stored_files(archive_root)
    path.write_bytes(SAME_SIZE)
    # The signature no longer holds (the credential was changed), but the copy is still checked:
    # against the digest presented, hashing the bytes now, whatever the blob's last hash said.
    assert verify_codes(credential) == ["archive.altered"]
    path.write_bytes(TEXT)
    assert verify_codes(credential) == ["archive.intact"]
    assert hashes == []  # hashed by the check itself, not recorded as the blob's hash


def test_a_copy_altered_to_the_same_size_is_altered_once_the_interval_has_passed(client, archive_root, hashes):
    award = issued()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert INTACT in page(client, award)
    (path,) = stored_files(archive_root)
    path.write_bytes(SAME_SIZE)
    assert len(SAME_SIZE) == len(TEXT)
    with time_machine.travel(start + timedelta(seconds=3599), tick=False):
        assert INTACT in page(client, award)  # the rule: the last hash stands within the interval
        # …for the verifier too: the documented window (docs/evidence.md).
        assert verify_codes(award.credential) == ["archive.intact"]
    with time_machine.travel(start + timedelta(seconds=3600), tick=False):
        assert verify_codes(award.credential) == ["archive.altered"]  # hashed again, and recorded
        text = page(client, award)
        assert ALTERED in text and INTACT not in text
    with time_machine.travel(start + timedelta(seconds=3601), tick=False):
        assert ALTERED in page(client, award)  # and it stays altered


def test_the_beat_task_rehashes_copies_due_so_the_page_shows_altered(client, archive_root, settings, hashes):
    award = issued()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert INTACT in page(client, award)
    (path,) = stored_files(archive_root)
    path.write_bytes(SAME_SIZE)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        remove_expired_evidence()
    blob = EvidenceBlob.objects.get(copies__award=award)
    assert blob.verified_intact is False and blob.verified_at == start + timedelta(hours=2)
    with time_machine.travel(start + timedelta(hours=2, seconds=1), tick=False):
        before = len(hashes)
        assert ALTERED in page(client, award) and len(hashes) == before  # from the beat's hash
        # A blob hashed within the interval is not due for the beat.
        assert archive.blobs_verify_due() == 0


def test_a_copy_whose_bytes_vanished_is_unavailable_not_intact(client, archive_root):
    award = issued()
    assert INTACT in page(client, award)
    (path,) = stored_files(archive_root)
    path.unlink()
    assert INTACT not in page(client, award)
