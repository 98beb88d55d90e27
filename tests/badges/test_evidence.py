"""Evidence that lasts: an award's evidence link fetched once on issue, re-checked by the beat task,
and the organisation told once per change of standing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from badges import tasks
from badges.evidence import (
    evidence_check_create,
    evidence_fetch,
    evidence_recheck_due,
    evidence_standing_for,
)
from badges.models import EvidenceCheck
from badges.verification import credential_verify
from tests.badges.award_rows import award_row
from tests.badges.http_stand_in import serve

pytestmark = pytest.mark.django_db
Standing = EvidenceCheck.Standing
PAGE = b"<html><body>Assessed portfolio of Aiko Tanaka</body></html>"


@pytest.fixture
def server():
    with serve() as stand_in:
        yield stand_in


def fetched_award(server, body=PAGE, path="/portfolio/1"):
    award = award_row(evidence_url=server.route(path, body, content_type="text/html; charset=utf-8"))
    evidence_check_create(award)
    evidence_fetch(award.pk)
    return award


def make_due(award):
    """Move the last check back past the recheck interval."""
    past = timezone.now() - settings.EVIDENCE_RECHECK_INTERVAL - timedelta(minutes=1)
    EvidenceCheck.objects.filter(award=award).update(last_checked_at=past)


def check_of(award) -> EvidenceCheck:
    return EvidenceCheck.objects.get(award=award)


# --- creating and the first fetch ----------------------------------------------------------------
def test_issuing_creates_the_check_and_fetches_the_link_once_after_commit(server, django_capture_on_commit_callbacks):
    award = award_row(evidence_url=server.route("/portfolio/1", PAGE, content_type="text/html"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = evidence_check_create(award)
        assert created.standing == Standing.PENDING and server.hits == []  # nothing before commit
    assert len(callbacks) == 1
    check = check_of(award)
    assert server.hits == ["/portfolio/1"]
    assert check.standing == Standing.REACHABLE
    assert check.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert check.size == len(PAGE) and check.content_type == "text/html"
    assert check.retrieved_at is not None and check.last_checked_at is not None


def test_creating_twice_keeps_one_row_and_enqueues_one_fetch(server, django_capture_on_commit_callbacks):
    award = award_row(evidence_url=server.route("/portfolio/1", PAGE))
    with django_capture_on_commit_callbacks() as callbacks:
        evidence_check_create(award)
        evidence_check_create(award)
    assert EvidenceCheck.objects.filter(award=award).count() == 1
    assert len(callbacks) == 1


def test_an_award_without_evidence_gets_no_check():
    award = award_row()
    assert evidence_check_create(award) is None
    assert evidence_fetch(award.pk) is None
    assert not EvidenceCheck.objects.exists()
    assert evidence_standing_for(award) is None


def test_a_reachable_link_stores_its_hash_and_tells_nobody(server, mailoutbox):
    award = fetched_award(server)
    check = check_of(award)
    assert check.standing == Standing.REACHABLE and check.notified_standing == Standing.REACHABLE
    assert check.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert mailoutbox == []


def test_fetching_again_does_not_fetch_a_link_fetched_before(server):
    award = fetched_award(server)
    first = check_of(award)
    server.route("/portfolio/1", b"other content")
    again = tasks.fetch_evidence(award.pk)  # the task, run in-process
    assert again == Standing.REACHABLE
    assert server.hits == ["/portfolio/1"]
    assert check_of(award).sha256 == first.sha256 and check_of(award).last_checked_at == first.last_checked_at


def test_a_404_is_gone_with_the_reason_and_the_organisation_is_told(server, mailoutbox):
    award = award_row(evidence_url=server.url("/missing"))
    evidence_check_create(award)
    evidence_fetch(award.pk)
    check = check_of(award)
    assert check.standing == Standing.GONE
    assert "HTTP 404" in check.detail
    assert check.sha256 == "" and check.retrieved_at is None
    assert len(mailoutbox) == 1 and award.organisation.contact_email in mailoutbox[0].to
    assert check.notified_standing == Standing.GONE


def test_loopback_is_refused_with_a_clear_reason_when_not_allowed(server, settings):
    settings.EVIDENCE_ALLOW_LOOPBACK = False
    award = award_row(evidence_url=server.route("/portfolio/1", PAGE))
    evidence_fetch(award.pk)
    check = check_of(award)
    assert server.hits == []
    assert check.standing == Standing.GONE
    assert "resolves to 127.0.0.1, a loopback address; it is not contacted" in check.detail


@pytest.mark.parametrize("send_length", [True, False])
def test_an_oversized_body_is_read_only_up_to_the_limit_and_says_so(server, settings, send_length):
    settings.EVIDENCE_MAX_BYTES = 1000
    body = b"x" * 999 + b"y" * 4001
    award = award_row(evidence_url=server.route("/big", body, content_type="application/pdf",
                                                send_length=send_length))
    evidence_fetch(award.pk)
    check = check_of(award)
    assert check.standing == Standing.REACHABLE
    assert check.size == 1000 and check.sha256 == hashlib.sha256(body[:1000]).hexdigest()
    assert "larger than 1,000 bytes; only its first 1,000 bytes were read" in check.detail


def test_a_link_that_does_not_answer_in_time_is_gone(server, settings):
    settings.EVIDENCE_FETCH_TIMEOUT = 0.5
    award = award_row(evidence_url=server.route("/slow", PAGE, delay=2))
    evidence_fetch(award.pk)
    check = check_of(award)
    assert check.standing == Standing.GONE
    assert "did not answer within 0.5 seconds" in check.detail


def test_up_to_three_redirects_are_followed(server):
    server.route("/a", status=301, headers={"Location": "/b"})
    server.route("/b", status=302, headers={"Location": server.url("/c")})
    server.route("/c", status=307, headers={"Location": "/final"})
    server.route("/final", PAGE)
    award = award_row(evidence_url=server.url("/a"))
    evidence_fetch(award.pk)
    assert check_of(award).standing == Standing.REACHABLE
    assert check_of(award).sha256 == hashlib.sha256(PAGE).hexdigest()


def test_a_fourth_redirect_is_not_followed(server):
    for here, there in [("/a", "/b"), ("/b", "/c"), ("/c", "/d"), ("/d", "/final")]:
        server.route(here, status=302, headers={"Location": there})
    server.route("/final", PAGE)
    award = award_row(evidence_url=server.url("/a"))
    evidence_fetch(award.pk)
    assert check_of(award).standing == Standing.GONE
    assert "redirects more than 3 times" in check_of(award).detail
    assert "/final" not in server.hits


def test_a_redirect_to_a_private_address_is_refused(server):
    server.route("/a", status=302, headers={"Location": "http://192.168.1.10/admin"})
    award = award_row(evidence_url=server.url("/a"))
    evidence_fetch(award.pk)
    assert check_of(award).standing == Standing.GONE
    assert "192.168.1.10, a private address" in check_of(award).detail


def test_only_http_and_https_links_are_followed():
    award = award_row(evidence_url="ftp://files.example.org/portfolio.pdf")
    evidence_fetch(award.pk)
    assert check_of(award).standing == Standing.GONE
    assert "Only http and https" in check_of(award).detail


# --- re-checking -----------------------------------------------------------------------------------
def test_a_recheck_of_unchanged_content_stays_reachable(server, mailoutbox):
    award = fetched_award(server)
    make_due(award)
    assert evidence_recheck_due() == 1
    check = check_of(award)
    assert check.standing == Standing.REACHABLE
    assert check.last_checked_at > timezone.now() - timedelta(minutes=1)
    assert server.hits == ["/portfolio/1", "/portfolio/1"]
    assert mailoutbox == []


def test_changed_content_is_marked_changed_and_keeps_the_original_hash(server, mailoutbox):
    award = fetched_award(server)
    server.route("/portfolio/1", b"<html>Someone else's work</html>")
    make_due(award)
    evidence_recheck_due()
    check = check_of(award)
    assert check.standing == Standing.CHANGED
    assert check.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert hashlib.sha256(b"<html>Someone else's work</html>").hexdigest() in check.detail
    assert len(mailoutbox) == 1
    assert "Changed" in mailoutbox[0].body and server.url("/portfolio/1") in mailoutbox[0].body


def test_a_link_that_starts_answering_404_is_gone(server):
    award = fetched_award(server)
    server.route("/portfolio/1", b"Not Found", status=404)
    make_due(award)
    evidence_recheck_due()
    assert check_of(award).standing == Standing.GONE
    assert "HTTP 404" in check_of(award).detail


def test_the_organisation_is_told_once_per_change_of_standing(server, mailoutbox):
    award = fetched_award(server)
    server.route("/portfolio/1", b"gone", status=410)
    make_due(award)
    tasks.recheck_evidence()
    assert len(mailoutbox) == 1 and "Gone" in mailoutbox[0].body
    make_due(award)
    tasks.recheck_evidence()  # still gone: nothing new to tell
    assert len(mailoutbox) == 1
    server.route("/portfolio/1", PAGE)
    make_due(award)
    tasks.recheck_evidence()  # back, unchanged
    assert len(mailoutbox) == 2 and "Gone → Reachable" in mailoutbox[1].body
    assert check_of(award).notified_standing == Standing.REACHABLE


def test_one_message_per_organisation_lists_every_changed_link(server, mailoutbox):
    first = fetched_award(server, path="/p/1")
    second = award_row(evidence_url=server.route("/p/2", PAGE), app=first.endorsement.application)
    evidence_fetch(second.pk)
    server.route("/p/1", b"x", status=404)
    server.route("/p/2", b"x", status=404)
    make_due(first)
    make_due(second)
    evidence_recheck_due()
    assert len(mailoutbox) == 1
    assert server.url("/p/1") in mailoutbox[0].body and server.url("/p/2") in mailoutbox[0].body
    assert "2 badge(s)" in mailoutbox[0].subject


def test_a_link_checked_recently_is_not_due(server):
    award = fetched_award(server)
    assert evidence_recheck_due() == 0
    assert server.hits == ["/portfolio/1"]
    assert check_of(award).standing == Standing.REACHABLE


def test_the_recheck_is_bounded_by_its_batch_size(server, settings):
    settings.EVIDENCE_RECHECK_BATCH = 1
    first = fetched_award(server, path="/p/1")
    second = award_row(evidence_url=server.route("/p/2", PAGE), app=first.endorsement.application)
    evidence_fetch(second.pk)
    make_due(first)
    make_due(second)
    assert evidence_recheck_due() == 1
    assert evidence_recheck_due() == 1
    assert evidence_recheck_due() == 0


def test_a_failed_first_fetch_gets_its_baseline_when_the_link_comes_back(server, mailoutbox):
    award = award_row(evidence_url=server.url("/later"))
    evidence_fetch(award.pk)
    assert check_of(award).standing == Standing.GONE
    server.route("/later", PAGE)
    make_due(award)
    evidence_recheck_due()
    check = check_of(award)
    assert check.standing == Standing.REACHABLE and check.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert check.retrieved_at is not None
    # Told it could not be retrieved on issue (a first fetch, not "checked again"), then that it is back.
    assert ["could not be retrieved" in m.subject for m in mailoutbox] == [True, False]
    assert ["changed" in m.subject for m in mailoutbox] == [False, True]
    assert "checked again" not in mailoutbox[0].body and "checked again" in mailoutbox[1].body


def test_revoked_awards_are_not_rechecked(server):
    award = fetched_award(server)
    award.revoked_at = timezone.now()
    award.save(update_fields=["revoked_at"])
    make_due(award)
    assert evidence_recheck_due() == 0


def test_the_beat_schedule_runs_the_recheck_task():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["recheck-evidence"]
    assert entry["task"] == "badges.tasks.recheck_evidence"
    assert entry["task"] in app.tasks


# --- standing, for the registry and the verification report ---------------------------------------
def test_the_standing_reads_in_plain_words(server):
    award = fetched_award(server)
    standing = evidence_standing_for(award)
    assert standing.standing == Standing.REACHABLE and standing.label == "Reachable"
    assert "was retrieved on" in standing.message and standing.sha256 in standing.message


def test_the_verification_of_our_award_reports_its_evidence_and_registry_standing(server):
    award = fetched_award(server)
    report = credential_verify(award.credential)
    checks = {c.id: c for c in report.checks}
    assert report.verified is True, report.as_dict()
    assert checks["registry"].passed and "not revoked" in checks["registry"].message
    assert checks["evidence"].passed and checks["evidence"].informational
    assert checks["endorsement-1-registry"].passed

    server.route("/portfolio/1", b"other", status=404)
    make_due(award)
    evidence_recheck_due()
    report = credential_verify(award.credential)
    evidence = {c.id: c for c in report.checks}["evidence"]
    assert evidence.passed is False and "could not be retrieved" in evidence.message
    assert report.verified is True  # evidence is informational


def test_a_revoked_award_fails_the_registry_check():
    award = award_row()
    award.revoked_at = timezone.now()
    award.revocation_reason = "Issued in error."
    award.save(update_fields=["revoked_at", "revocation_reason"])
    report = credential_verify(award.credential)
    registry = {c.id: c for c in report.checks}["registry"]
    assert report.verified is False
    assert registry.passed is False and "revoked this award" in registry.message and "Issued in error." in \
        registry.message
