"""Continuous quality assurance: quality reviews of an endorsement's standing (every transition and
role, allowed and refused) and concerns reported from the registry (throttled, CSRF, never public).
Every refusal asserts the error and that nothing was written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement import quality, services
from endorsement.audit import AuditAction, audit_verify
from endorsement.models import (
    ApplicationState,
    AuditEvent,
    Concern,
    ConcernState,
    Endorsement,
    EndorsementState,
    QualityReview,
    QualityReviewAssignment,
)
from endorsement.registry import registry_current, registry_refresh
from institutions.models import ConflictOfInterest, Role
from tests.factories import Cast, api_client, application_in, reviewer, staff

pytestmark = pytest.mark.django_db
QR = quality.QR
FUTURE = (timezone.localdate() + timedelta(days=90)).isoformat()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        cache.clear()
        yield


@pytest.fixture
def granted():
    app, cast = application_in(ApplicationState.PUBLISHED)
    return Endorsement.objects.get(application=app), cast


def written():
    """What a refusal must leave alone."""
    return (QualityReview.objects.count(), QualityReviewAssignment.objects.count(), Concern.objects.count(),
            AuditEvent.objects.count(), tuple(QualityReview.objects.values_list("state", flat=True)),
            tuple(Endorsement.objects.values_list("state", flat=True)))


def in_review(granted):
    endorsement, cast = granted
    review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Complaint received.")
    assignment = quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    review = quality.quality_review_start(actor=cast.manager, review=review)
    return review, assignment


def with_finding(granted):
    review, assignment = in_review(granted)
    quality.quality_review_record_finding(actor=granted[1].reviewer, assignment=assignment, finding="Assessments thin.")
    return review


# --- Opening --------------------------------------------------------------------------------------
def test_a_manager_opens_a_review_audited_and_the_organisation_is_told(granted, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    endorsement, cast = granted
    with django_capture_on_commit_callbacks(execute=True):
        review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="A complaint.")
    assert (review.state, review.reason, review.organisation) == (QR.OPEN, "A complaint.", cast.organisation)
    [event] = AuditEvent.objects.filter(action=AuditAction.QUALITY_REVIEW_OPENED)
    assert event.subject_id == str(review.pk) and event.to_state == "open"
    assert any(cast.organisation.contact_email in m.to for m in mailoutbox)


@pytest.mark.parametrize("who", ["reviewer", "editor"])
def test_only_managers_open_a_review(granted, who):
    endorsement, cast = granted
    before = written()
    with pytest.raises(NotPermitted):
        quality.quality_review_open(actor=getattr(cast, who), endorsement=endorsement, reason="x")
    assert written() == before


def test_opening_needs_a_reason_an_endorsement_in_force_and_no_other_open_review(granted):
    endorsement, cast = granted
    before = written()
    with pytest.raises(InvalidInput) as refused:
        quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="  ")
    assert refused.value.field_errors == {"reason": ["This field is required."]}
    assert written() == before
    quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="First.")
    before = written()
    with pytest.raises(WrongState, match="already has an open quality review"):
        quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Second.")
    assert written() == before
    other, cast2 = application_in(ApplicationState.PUBLISHED)
    revoked = services.endorsement_revoke(actor=cast2.manager, endorsement=other.endorsement, comment="Fraud.")
    before = written()
    with pytest.raises(WrongState, match="in force"):
        quality.quality_review_open(actor=cast2.manager, endorsement=revoked, reason="Late.")
    assert written() == before


# --- Reviewers ------------------------------------------------------------------------------------
def test_reviewers_are_assigned_under_the_application_rules(granted):
    endorsement, cast = granted
    review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Check.")
    own_staff = staff(cast.organisation, Role.OWNER)
    conflicted = reviewer()
    ConflictOfInterest.objects.create(reviewer=conflicted, organisation=cast.organisation, reason="Alumnus")
    before = written()
    for who, words in [(own_staff, "not a reviewer or manager"), (conflicted, "conflict of interest"),
                       (staff(Cast().organisation, Role.EDITOR), "not a reviewer or manager")]:
        with pytest.raises(InvalidInput, match=words):
            quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=who)
    with pytest.raises(NotPermitted):
        quality.quality_review_assign_reviewer(actor=cast.reviewer, review=review, reviewer=cast.reviewer)
    assert written() == before
    quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    before = written()
    with pytest.raises(WrongState, match="already assigned"):
        quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    assert written() == before


def test_the_review_starts_only_with_a_reviewer_and_by_a_manager(granted):
    endorsement, cast = granted
    review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Check.")
    before = written()
    with pytest.raises(WrongState, match="Assign at least one reviewer"):
        quality.quality_review_start(actor=cast.manager, review=review)
    quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    before = written()
    with pytest.raises(NotPermitted):
        quality.quality_review_start(actor=cast.reviewer, review=review)
    assert written() == before
    assert quality.quality_review_start(actor=cast.manager, review=review).state == QR.IN_REVIEW


def test_only_the_assigned_reviewer_records_a_finding_while_in_review(granted):
    endorsement, cast = granted
    review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Check.")
    assignment = quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    before = written()
    with pytest.raises(WrongState):
        quality.quality_review_record_finding(actor=cast.reviewer, assignment=assignment, finding="Early")
    quality.quality_review_start(actor=cast.manager, review=review)
    before = written()
    with pytest.raises(NotPermitted):
        quality.quality_review_record_finding(actor=cast.manager, assignment=assignment, finding="Not mine")
    with pytest.raises(InvalidInput):
        quality.quality_review_record_finding(actor=cast.reviewer, assignment=assignment, finding=" ")
    assert written() == before and QualityReviewAssignment.objects.get().finding == ""
    quality.quality_review_record_finding(actor=cast.reviewer, assignment=assignment, finding="Fine.")
    assert QualityReviewAssignment.objects.get().completed_at is not None


# --- Decisions ------------------------------------------------------------------------------------
def test_closing_with_no_change_needs_every_finding_and_a_comment(granted):
    review, assignment = in_review(granted)
    cast = granted[1]
    before = written()
    with pytest.raises(WrongState, match="record a finding"):
        quality.quality_review_close(actor=cast.manager, review=review, comment="Fine")
    quality.quality_review_record_finding(actor=cast.reviewer, assignment=assignment, finding="All good.")
    before = written()
    with pytest.raises(InvalidInput):
        quality.quality_review_close(actor=cast.manager, review=review, comment="")
    with pytest.raises(NotPermitted):
        quality.quality_review_close(actor=cast.reviewer, review=review, comment="Fine")
    assert written() == before
    review = quality.quality_review_close(actor=cast.manager, review=review, comment="No problem found.")
    assert review.state == QR.NO_CHANGE and review.decided_at is not None
    assert Endorsement.objects.get().state == EndorsementState.ACTIVE
    # Closed: another review may be opened later.
    quality.quality_review_open(actor=cast.manager, endorsement=granted[0], reason="Again.")


def test_conditions_by_a_future_date_then_met_and_shown_on_the_registry(granted):
    review = with_finding(granted)
    cast = granted[1]
    before = written()
    for conditions, due, field in [("", FUTURE, "conditions"), ("Fix it", "", "due"), ("Fix it", "soon", "due"),
                                   ("Fix it", timezone.localdate().isoformat(), "due")]:
        with pytest.raises(InvalidInput) as refused:
            quality.quality_review_impose_conditions(actor=cast.manager, review=review, conditions=conditions, due=due)
        assert field in refused.value.field_errors
    assert written() == before
    review = quality.quality_review_impose_conditions(actor=cast.manager, review=review,
                                                      conditions="Publish the rubric.", due=FUTURE)
    assert (review.state, review.conditions_due.isoformat()) == (QR.CONDITIONS, FUTURE)
    registry_refresh()
    entry = registry_current().by_id[str(granted[0].programme.public_id)].entry
    assert entry["endorsement"]["conditions"] == {"text": "Publish the rubric.", "due": FUTURE}
    page = Client().get(reverse("registry:programme", args=[granted[0].programme.public_id])).content.decode()
    assert "the body set conditions to meet by" in page and "Publish the rubric." in page
    with pytest.raises(NotPermitted):
        quality.quality_review_conditions_met(actor=cast.reviewer, review=review)
    review = quality.quality_review_conditions_met(actor=cast.manager, review=review, comment="Rubric is online.")
    assert review.state == QR.CONDITIONS_MET
    registry_refresh()
    entry = registry_current().by_id[str(granted[0].programme.public_id)].entry
    assert entry["endorsement"]["conditions"] is None
    assert audit_verify().ok


def test_suspension_suspends_the_endorsement_and_the_registry_shows_it(granted):
    review = with_finding(granted)
    cast = granted[1]
    before = written()
    with pytest.raises(InvalidInput):
        quality.quality_review_suspend(actor=cast.manager, review=review, comment="")
    with pytest.raises(NotPermitted):
        quality.quality_review_suspend(actor=cast.editor, review=review, comment="x")
    assert written() == before
    review = quality.quality_review_suspend(actor=cast.manager, review=review, comment="Assessment not done.")
    assert review.state == QR.SUSPENDED
    assert Endorsement.objects.get().state == EndorsementState.SUSPENDED
    assert AuditEvent.objects.filter(action=AuditAction.ENDORSEMENT_SUSPENDED).count() == 1
    registry_refresh()
    assert registry_current().by_id[str(granted[0].programme.public_id)].entry["endorsement"]["state"] == "suspended"
    with pytest.raises(WrongState):
        quality.quality_review_revoke(actor=cast.manager, review=review, comment="Closed already.")


def test_revocation_after_conditions_not_met(granted):
    review = with_finding(granted)
    cast = granted[1]
    review = quality.quality_review_impose_conditions(actor=cast.manager, review=review, conditions="Fix.", due=FUTURE)
    review = quality.quality_review_revoke(actor=cast.manager, review=review, comment="Conditions not met.")
    assert review.state == QR.REVOKED and Endorsement.objects.get().state == EndorsementState.REVOKED


def test_a_suspension_when_the_endorsement_has_expired_writes_nothing(granted):
    review = with_finding(granted)
    cast = granted[1]
    Endorsement.objects.filter(pk=granted[0].pk).update(valid_until=timezone.now() - timedelta(days=1))
    services.endorsements_expire_due()
    before = written()
    with pytest.raises(WrongState):
        quality.quality_review_suspend(actor=cast.manager, review=review, comment="Too late.")
    assert written() == before


# --- API ------------------------------------------------------------------------------------------
def test_the_api_walks_a_review_and_scopes_it(granted):
    endorsement, cast = granted
    manager = api_client(cast.manager)
    refused = api_client(cast.editor).post("/api/v1/quality-reviews",
                                           {"endorsement": str(endorsement.public_id), "reason": "x"}, format="json")
    assert refused.status_code == 403 and not QualityReview.objects.exists()
    assert manager.post("/api/v1/quality-reviews", {"endorsement": str(endorsement.public_id), "reason": ""},
                        format="json").status_code == 400
    response = manager.post("/api/v1/quality-reviews", {"endorsement": str(endorsement.public_id),
                                                        "reason": "Complaint."}, format="json")
    assert response.status_code == 201, response.content
    url = f"/api/v1/quality-reviews/{response.json()['id']}"
    assert manager.post(f"{url}/start-review", format="json").status_code == 409
    assert manager.post(f"{url}/assign-reviewer", {"reviewer": cast.reviewer.username},
                        format="json").status_code == 200
    assert manager.post(f"{url}/start-review", format="json").json()["state"] == "in_review"
    finding = api_client(cast.reviewer).post(f"{url}/finding", {"finding": "Weak."}, format="json")
    assert finding.status_code == 200 and finding.json()["assignments"][0]["finding"] == "Weak."
    assert manager.post(f"{url}/finding", {"finding": "x"}, format="json").status_code == 403
    body = manager.post(f"{url}/impose-conditions", {"conditions": "Fix.", "due": FUTURE}, format="json").json()
    assert body["state"] == "conditions" and "conditions_met" in body["transitions"]
    member = api_client(cast.editor).get(url).json()
    assert member["state"] == "conditions" and member["assignments"] == []
    assert api_client(staff(Cast().organisation, Role.OWNER)).get(url).status_code == 404
    assert manager.post(f"{url}/suspend", {"comment": ""}, format="json").status_code == 400
    assert manager.post(f"{url}/suspend", {"comment": "Not fixed."}, format="json").json()["state"] == "suspended"


# --- Concerns -------------------------------------------------------------------------------------
def concern_url(endorsement) -> str:
    return reverse("registry:concern", args=[endorsement.programme.public_id])


def test_anyone_reports_a_concern_and_managers_are_told(client, granted, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    endorsement, cast = granted
    registry_refresh()
    page = client.get(reverse("registry:programme", args=[endorsement.programme.public_id]))
    assert concern_url(endorsement) in page.content.decode()
    assert client.get(concern_url(endorsement)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(concern_url(endorsement), {"message": "Badges sold without assessment.",
                                                          "email": "whistle@example.org"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    concern = Concern.objects.get()
    assert (concern.message, concern.email, concern.state) == ("Badges sold without assessment.",
                                                              "whistle@example.org", ConcernState.NEW)
    assert concern.endorsement == endorsement and len(concern.address_hash) == 64
    assert AuditEvent.objects.filter(action=AuditAction.CONCERN_RECEIVED).count() == 1
    assert [m for m in mailoutbox if cast.manager.email in m.to]
    # Never shown publicly.
    registry_refresh()
    for url in (reverse("registry:programme", args=[endorsement.programme.public_id]), reverse("registry:json"),
                reverse("registry:csv")):
        assert "sold without assessment" not in client.get(url).content.decode("utf-8", "replace")


def test_a_bad_concern_is_refused_and_nothing_is_written(client, granted):
    endorsement, _cast = granted
    before = written()
    for data in ({"message": ""}, {"message": "x" * 2001}, {"message": "ok", "email": "not-an-address"}):
        assert client.post(concern_url(endorsement), data).status_code == 400
    assert written() == before
    with pytest.raises(NotFound):
        quality.concern_report(public_id="00000000-0000-0000-0000-000000000000", message="x", address="1.2.3.4")
    assert client.post(reverse("registry:concern", args=["00000000-0000-0000-0000-000000000000"]),
                       {"message": "x"}).status_code == 404
    assert written() == before


def test_a_concern_needs_the_csrf_token(granted):
    endorsement, _cast = granted
    strict = Client(enforce_csrf_checks=True)
    before = written()
    assert strict.post(concern_url(endorsement), {"message": "No token."}).status_code == 403
    assert written() == before


def test_concerns_are_throttled_per_client_address(client, granted, settings):
    settings.CONCERN_LIMIT = 2
    endorsement, _cast = granted
    for i in range(2):
        assert client.post(concern_url(endorsement), {"message": f"Concern {i}"}).status_code == 200
    before = written()
    throttled = client.post(concern_url(endorsement), {"message": "Third"})
    assert throttled.status_code == 429 and "Too many concerns" in throttled.content.decode()
    assert written() == before
    other = client.post(concern_url(endorsement), {"message": "From elsewhere"}, REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 200 and Concern.objects.count() == 3


def test_managers_handle_concerns_in_the_admin_and_reviewers_do_not_see_them(client, granted):
    endorsement, cast = granted
    concern = quality.concern_report(public_id=endorsement.programme.public_id, message="Looks wrong.",
                                     address="198.51.100.1")
    client.force_login(cast.reviewer)
    assert client.get(reverse("admin:endorsement_concern_changelist")).status_code == 403
    client.force_login(cast.manager)
    queue = client.get(reverse("admin:endorsement_concern_changelist"), {"queue": "new"})
    assert list(queue.context["cl"].result_list) == [concern]
    button = reverse("admin:endorsement_concern_button", args=[concern.pk, "dismiss"])
    before = written()
    client.post(button, {"text": ""})
    assert written() == before and Concern.objects.get().state == ConcernState.NEW
    opened = client.post(reverse("admin:endorsement_concern_button", args=[concern.pk, "open_review"]), {"text": ""})
    review = QualityReview.objects.get()
    assert opened.status_code == 302 and opened["Location"].endswith(
        reverse("admin:endorsement_qualityreview_change", args=[review.pk]))
    concern.refresh_from_db()
    assert concern.state == ConcernState.REVIEW_OPENED and concern.quality_review == review
    assert "Looks wrong." in review.reason
    second = quality.concern_report(public_id=endorsement.programme.public_id, message="Me too.",
                                    address="198.51.100.2")
    assert quality.concern_open_review(actor=cast.manager, concern=second) == review  # the open one is used
    third = quality.concern_report(public_id=endorsement.programme.public_id, message="Spam", address="198.51.100.3")
    quality.concern_dismiss(actor=cast.manager, concern=third, comment="Not about quality.")
    with pytest.raises(WrongState):
        quality.concern_open_review(actor=cast.manager, concern=third)
    fourth = quality.concern_report(public_id=endorsement.programme.public_id, message="?", address="198.51.100.4")
    before = written()
    with pytest.raises(NotPermitted):
        quality.concern_dismiss(actor=cast.reviewer, concern=fourth, comment="x")
    with pytest.raises(WrongState):
        quality.concern_dismiss(actor=cast.manager, concern=second, comment="Already in review.")
    assert written() == before


def test_the_admin_review_page_assigns_records_and_decides(client, granted):
    endorsement, cast = granted
    client.force_login(cast.manager)
    button = reverse("admin:endorsement_endorsement_button", args=[endorsement.pk, "quality_review"])
    response = client.post(button, {"text": "Complaint by a learner."})
    review = QualityReview.objects.get()
    assert response.status_code == 302 and review.reason == "Complaint by a learner."
    page = reverse("admin:endorsement_qualityreview_change", args=[review.pk])
    html = client.get(page).content.decode()
    assert cast.reviewer.username in html  # a candidate
    client.post(reverse("admin:endorsement_qualityreview_assign", args=[review.pk]), {"reviewer": cast.reviewer.pk})
    client.post(reverse("admin:endorsement_qualityreview_button", args=[review.pk, "start_review"]))
    client.force_login(cast.reviewer)
    client.post(reverse("admin:endorsement_qualityreview_finding", args=[review.pk]), {"finding": "Rubric missing."})
    client.force_login(cast.manager)
    client.post(reverse("admin:endorsement_qualityreview_conditions", args=[review.pk]),
                {"conditions": "Publish the rubric.", "due": FUTURE})
    review.refresh_from_db()
    assert review.state == QR.CONDITIONS and review.assignments.get().finding == "Rubric missing."
    client.cookies["django_language"] = "ja"
    japanese = client.get(page).content.decode()
    assert "質保証レビュー" in japanese and "審査員と所見" in japanese and "条件を満たした" not in japanese
    assert "条件充足：レビューを終了" in japanese  # the button of the state it is in


def test_declaring_a_conflict_withdraws_an_unfinished_quality_assignment(granted):
    endorsement, cast = granted
    review = quality.quality_review_open(actor=cast.manager, endorsement=endorsement, reason="Check.")
    quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
    services.conflict_declare(actor=cast.reviewer, organisation=cast.organisation, reason="Former employee")
    assert not QualityReviewAssignment.objects.exists()
    with pytest.raises(InvalidInput, match="conflict of interest"):
        quality.quality_review_assign_reviewer(actor=cast.manager, review=review, reviewer=cast.reviewer)
