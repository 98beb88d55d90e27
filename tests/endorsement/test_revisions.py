"""Programme revisions after endorsement: a published programme is revised through a change
application; until the change is endorsed and published, badges keep being issued under the
endorsed version; then new badges carry the new version and its new EndorsementCredential, while
old versions stay dereferenceable and old badges keep verifying. The body decides how deep a
change's review goes (minor: one reviewer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from badges.achievements import achievement_id
from badges.awards import award_issue
from badges.models import Award, StatusList
from badges.services import programme_update
from badges.status import status_list_publish
from badges.verification import credential_verify
from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement import renewals, services
from endorsement.credentials import endorsement_in_force, endorsement_sign
from endorsement.models import ApplicationState, AuditEvent, Endorsement, EndorsementState, ReviewDepth
from institutions.models import Role
from tests.endorsement.renewal_walk import counts, ends_in, walk
from tests.factories import application_in, awarding_setup, judge_all, reviewer, staff

pytestmark = pytest.mark.django_db
S, E = ApplicationState, EndorsementState
LEARNER = {"recipient_email": "learner@example.org", "recipient_name": "Aiko Tanaka"}


def achievement_of(award: Award) -> dict:
    return award.credential["credentialSubject"]["achievement"]


def test_a_published_programme_is_frozen_until_a_change_application_is_opened():
    programme, _app, cast, _issuer = awarding_setup()
    before = programme.level
    with pytest.raises(WrongState) as refused:
        programme_update(actor=cast.editor, programme=programme, data={"level": "Level 7"})
    assert "open a change application" in refused.value.message
    programme.refresh_from_db()
    assert programme.level == before

    change = services.application_create(actor=cast.editor, programme=programme)
    assert (change.kind, change.revises) == ("change", endorsement_in_force(programme.pk))
    assert AuditEvent.objects.order_by("-seq").first().data["kind"] == "change"
    programme_update(actor=cast.editor, programme=programme, data={"level": "Level 7"})
    programme.refresh_from_db()
    assert programme.level == "Level 7"


def test_badges_keep_the_endorsed_version_while_the_revision_is_drafted_and_reviewed_then_take_the_new_one():
    programme, app, cast, issuer = awarding_setup(name_en="Data literacy", language="en", validity_months=12)
    old = Endorsement.objects.get(application=app)
    first = award_issue(actor=issuer, programme=programme, **LEARNER)

    change = services.application_create(actor=cast.editor, programme=programme)
    programme_update(actor=cast.editor, programme=programme,
                     data={"name_en": "Data literacy and ethics", "validity_months": 24})
    during_draft = award_issue(actor=issuer, programme=programme, **LEARNER)
    change = walk(change, cast, to=S.IN_REVIEW)
    during_review = award_issue(actor=issuer, programme=programme, **LEARNER)
    change = walk_decide(change, cast)  # endorsed and signed, not published yet
    new = Endorsement.objects.get(application=change)
    assert (new.state, new.version) == (E.SCHEDULED, 2)
    during_publication = award_issue(actor=issuer, programme=programme, **LEARNER)

    for award in (first, during_draft, during_review, during_publication):
        assert award.endorsement == old
        assert achievement_of(award)["name"] == "Data literacy"
        assert achievement_of(award)["id"] == achievement_id(programme, 1)
        assert award.valid_until.year - award.valid_from.year == 1  # the endorsed version's 12 months

    services.application_publish(actor=cast.manager, application=change)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUPERSEDED, E.ACTIVE)
    assert new.valid_until == old.valid_until  # a change keeps the period; a renewal extends it
    assert old.state_changed_at == new.state_changed_at
    after = award_issue(actor=issuer, programme=programme, **LEARNER)
    assert after.endorsement == new
    assert achievement_of(after)["name"] == "Data literacy and ethics"
    assert achievement_of(after)["id"] == achievement_id(programme, 2)
    assert achievement_of(after)["endorsement"][0]["id"] == new.credential["id"] != old.credential["id"]
    assert after.valid_until.year - after.valid_from.year == 2


def walk_decide(application, cast):
    services.application_endorse(actor=cast.manager, application=application, comment="Change endorsed.")
    endorsement_sign(Endorsement.objects.get(application=application).pk)
    application.refresh_from_db()
    return application


def test_old_versions_stay_dereferenceable_and_old_badges_keep_verifying():
    programme, app, cast, issuer = awarding_setup(name_en="Knots", language="en")
    old = Endorsement.objects.get(application=app)
    old_badge = award_issue(actor=issuer, programme=programme, **LEARNER)
    change = services.application_create(actor=cast.editor, programme=programme)
    programme_update(actor=cast.editor, programme=programme, data={"name_en": "Knots and splices"})
    walk(change, cast)
    new_badge = award_issue(actor=issuer, programme=programme, **LEARNER)

    client = Client()
    v1 = client.get(f"/achievements/{programme.public_id}.json")
    v2 = client.get(f"/achievements/{programme.public_id}/v2.json")
    assert (v1.status_code, v2.status_code) == (200, 200)
    assert (v1.json()["id"], v1.json()["name"]) == (achievement_id(programme, 1), "Knots")
    assert (v2.json()["id"], v2.json()["name"]) == (achievement_id(programme, 2), "Knots and splices")
    assert v1.json()["endorsement"][0]["id"] == old.credential["id"]
    assert client.get(f"/achievements/{programme.public_id}/v3.json").status_code == 404
    assert client.get(f"/achievements/{programme.public_id}/v1.json").status_code == 404  # v1 has its own URL

    for status_list in StatusList.objects.all():  # as the on-commit tasks do
        status_list_publish(status_list.pk)
    for badge in (old_badge, new_badge):
        report = credential_verify(badge.credential)
        assert report.verified, report.as_dict()
    checks = {c.id: c for c in credential_verify(old_badge.credential).checks}
    assert "endorsed when issued" in checks["endorsement-1-registry"].message
    # After the old endorsement's own end, too.
    later = credential_verify(old_badge.credential, now=old.valid_until + timedelta(days=1))
    assert {c.id: c.passed for c in later.checks}["endorsement-1-dates"] is True


def test_a_change_is_refused_while_a_renewal_is_granted_and_not_started():
    programme, app, cast, _issuer = awarding_setup()
    old = ends_in(Endorsement.objects.get(application=app), 30)
    walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old), cast)
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.application_create(actor=cast.editor, programme=programme)
    assert "has not started yet" in refused.value.message
    assert counts() == before


# --- how deep the review goes ---------------------------------------------------------------------
@pytest.fixture
def change_in_review():
    programme, _app, cast, _issuer = awarding_setup()
    change = services.application_create(actor=cast.editor, programme=programme)
    programme_update(actor=cast.editor, programme=programme, data={"prerequisites": "None."})
    change = services.application_submit(actor=cast.editor, application=change)
    services.application_assign_reviewer(actor=cast.manager, application=change, reviewer=cast.reviewer)
    return services.application_start_review(actor=cast.manager, application=change), cast


def test_a_full_review_needs_the_bodys_number_of_reviewers_and_a_minor_change_one(change_in_review, settings):
    settings.ENDORSEMENT_MIN_REVIEWERS = 2
    change, cast = change_in_review
    judge_all(change, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=change.reviews.get())
    before = counts()
    with pytest.raises(WrongState) as refused:
        services.application_endorse(actor=cast.manager, application=change)
    assert "Every assigned review must be complete" in refused.value.message
    assert counts() == before

    renewals.application_set_review_depth(actor=cast.manager, application=change, depth=ReviewDepth.MINOR,
                                          comment="Only the prerequisites changed.")
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.data, event.comment) == (
        "application.review_depth_set", {"from": "full", "to": "minor"}, "Only the prerequisites changed.")
    endorsement = services.application_endorse(actor=cast.manager, application=change)
    assert endorsement.state == E.SCHEDULED


def test_only_managers_set_the_depth(change_in_review):
    change, cast = change_in_review
    before = counts()
    for who in (cast.editor, cast.reviewer, staff(cast.organisation, Role.OWNER)):
        with pytest.raises(NotPermitted):
            renewals.application_set_review_depth(actor=who, application=change, depth="minor", comment="Small.")
    assert counts() == before
    change.refresh_from_db()
    assert change.review_depth == ReviewDepth.FULL


def test_bad_depth_input_is_refused_and_nothing_is_written(change_in_review):
    change, cast = change_in_review
    before = counts()
    with pytest.raises(InvalidInput) as no_reason:
        renewals.application_set_review_depth(actor=cast.manager, application=change, depth="minor", comment=" ")
    assert "comment" in no_reason.value.field_errors
    with pytest.raises(InvalidInput) as unknown:
        renewals.application_set_review_depth(actor=cast.manager, application=change, depth="shallow")
    assert "depth" in unknown.value.field_errors
    with pytest.raises(WrongState):  # already full
        renewals.application_set_review_depth(actor=cast.manager, application=change, depth="full")
    assert counts() == before


def test_only_a_change_can_be_minor_and_only_before_the_decision():
    application, cast = application_in(S.IN_REVIEW)
    before = counts()
    with pytest.raises(WrongState) as refused:
        renewals.application_set_review_depth(actor=cast.manager, application=application, depth="minor",
                                              comment="Small.")
    assert "Only a change" in refused.value.message
    assert counts() == before


def test_a_minor_change_is_still_decided_by_the_criteria(change_in_review):
    change, cast = change_in_review
    renewals.application_set_review_depth(actor=cast.manager, application=change, depth="minor", comment="Small.")
    second = reviewer()
    services.application_assign_reviewer(actor=cast.manager, application=change, reviewer=second)
    judge_all(change, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=change.reviews.get(reviewer=cast.reviewer))
    judge_all(change, second, verdict="not_met")
    services.review_complete(actor=second, review=change.reviews.get(reviewer=second))
    before = counts()
    with pytest.raises(WrongState):
        services.application_endorse(actor=cast.manager, application=change)
    assert counts() == before


def test_a_batch_running_while_the_change_is_published_issues_each_chunk_under_the_version_then_in_force():
    from badges.batches import award_batch_create, award_batch_issue_chunk, rows_from_json

    programme, app, cast, issuer = awarding_setup(name_en="Welding", language="en")
    old = Endorsement.objects.get(application=app)
    rows = [{"recipient_email": f"learner{i}@example.org", "recipient_name": f"Learner {i}"} for i in range(4)]
    batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(rows))
    assert award_batch_issue_chunk(batch.pk, 0, 2) == 2  # before the change: the endorsed version

    change = services.application_create(actor=cast.editor, programme=programme)
    programme_update(actor=cast.editor, programme=programme, data={"name_en": "Welding and cutting"})
    walk(change, cast)
    new = Endorsement.objects.get(application=change)
    assert award_batch_issue_chunk(batch.pk, 2, 4) == 2  # after: the new version

    awards = list(Award.objects.filter(batch=batch).order_by("batch_row"))
    assert [a.endorsement_id for a in awards] == [old.pk, old.pk, new.pk, new.pk]
    assert [achievement_of(a)["name"] for a in awards] == ["Welding", "Welding", "Welding and cutting",
                                                           "Welding and cutting"]
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    assert all(credential_verify(a.credential).verified for a in awards)


def test_a_change_of_a_suspended_endorsement_waits_for_the_bodys_decision():
    programme, app, cast, _issuer = awarding_setup()
    old = Endorsement.objects.get(application=app)
    change = services.application_create(actor=cast.editor, programme=programme)
    programme_update(actor=cast.editor, programme=programme, data={"prerequisites": "An interview."})
    services.endorsement_suspend(actor=cast.manager, endorsement=old, comment="Complaint received.")
    change = walk(change, cast)  # reviewed, endorsed and published
    new = Endorsement.objects.get(application=change)
    old.refresh_from_db()
    assert (old.state, new.state) == (E.SUSPENDED, E.SCHEDULED)
    assert endorsement_in_force(programme.pk) is None
    services.endorsements_expire_due()
    new.refresh_from_db()
    assert new.state == E.SCHEDULED
    services.endorsement_reinstate(actor=cast.manager, endorsement=old, comment="Complaint resolved by the change.")
    services.endorsements_expire_due()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (E.SUPERSEDED, E.ACTIVE)
    assert endorsement_in_force(programme.pk) == new


def test_a_badge_issued_at_the_renewal_instant_before_the_beat_task_carries_the_renewal_and_verifies():
    programme, app, cast, issuer = awarding_setup(language="en")
    old = ends_in(Endorsement.objects.get(application=app), 30)
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    before = award_issue(actor=issuer, programme=programme, **LEARNER)
    end = timezone.now() - timedelta(seconds=5)
    Endorsement.objects.filter(pk=old.pk).update(valid_from=end - timedelta(days=1095), valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end, published_at=end - timedelta(days=1),
                                                 credential=None, signed_at=None)
    endorsement_sign(new.pk)  # signed for the moved period, as it would have been
    at_the_instant = award_issue(actor=issuer, programme=programme, **LEARNER)  # the beat task has not run
    assert (before.endorsement_id, at_the_instant.endorsement_id) == (old.pk, new.pk)
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    report = credential_verify(at_the_instant.credential)
    assert report.verified, [(c.id, c.message) for c in report.checks if not c.passed]
