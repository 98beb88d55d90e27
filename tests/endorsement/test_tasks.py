"""Tasks are safe to run twice: the registry refresh writes one snapshot per distinct registry, a
notification is mailed once per audit event. And the services enqueue them after commit: e-mail on
submission (managers), assignment (the reviewer), changes requested and decisions (the organisation)."""

from __future__ import annotations

import pytest
from django.core import mail

from endorsement import services
from endorsement.models import ApplicationState, AuditEvent, Endorsement, Notification, RegistrySnapshot
from endorsement.tasks import refresh_registry, send_notification
from tests.factories import Cast, application_in, judge_all, manager

pytestmark = pytest.mark.django_db
S = ApplicationState


def snapshot_ids() -> list[str]:
    return [e["id"] for e in RegistrySnapshot.objects.latest().entries]


def test_refresh_registry_twice_writes_one_snapshot_with_the_same_digest():
    application, _ = application_in(S.PUBLISHED)

    first = refresh_registry.apply().get()
    second = refresh_registry.apply().get()

    assert first == second
    assert RegistrySnapshot.objects.count() == 1
    assert RegistrySnapshot.objects.get().digest == first
    assert snapshot_ids() == [str(application.programme.public_id)]


def test_the_registry_shows_published_programmes_and_not_those_only_endorsed():
    published, cast = application_in(S.PUBLISHED)
    endorsed, _ = application_in(S.ENDORSED, cast)
    in_review, _ = application_in(S.IN_REVIEW, cast)

    refresh_registry.apply()

    assert snapshot_ids() == [str(published.programme.public_id)]
    entry = RegistrySnapshot.objects.latest().entries[0]
    assert entry["programme"]["name_en"] == published.snapshot["name_en"]
    assert entry["organisation"]["slug"] == cast.organisation.slug
    assert entry["endorsement"]["state"] == "active"
    assert entry["endorsement"]["criteria_table"] == {"code": "default", "version": 1}
    assert endorsed.programme.public_id != published.programme.public_id != in_review.programme.public_id


def test_the_registry_reflects_a_suspension_in_a_new_snapshot():
    application, cast = application_in(S.PUBLISHED)
    before = refresh_registry.apply().get()
    endorsement = Endorsement.objects.get(application=application)

    services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under investigation.")
    after = refresh_registry.apply().get()

    assert after != before
    assert RegistrySnapshot.objects.count() == 2
    assert RegistrySnapshot.objects.latest().entries[0]["endorsement"]["state"] == "suspended"
    assert refresh_registry.apply().get() == after
    assert RegistrySnapshot.objects.count() == 2


def test_publishing_refreshes_the_registry_after_commit(django_capture_on_commit_callbacks):
    application, cast = application_in(S.ENDORSED)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_publish(actor=cast.manager, application=application)
    assert snapshot_ids() == [str(application.programme.public_id)]


def test_send_notification_twice_for_one_event_sends_one_mail_and_records_one_row():
    _application, cast = application_in(S.SUBMITTED)
    event = AuditEvent.objects.get(action="application.submitted")

    assert send_notification.apply(args=[event.pk]).get() is True
    assert send_notification.apply(args=[event.pk]).get() is False

    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1
    notification = Notification.objects.get()
    assert notification.key == f"audit:{event.seq}"
    assert notification.recipients == [cast.manager.email] == mail.outbox[0].to


def test_an_event_nobody_is_told_about_sends_nothing():
    application_in(S.DRAFT)
    event = AuditEvent.objects.get(action="application.created")
    assert send_notification.apply(args=[event.pk]).get() is False
    assert send_notification.apply(args=[987654]).get() is False
    assert mail.outbox == [] and not Notification.objects.exists()


def test_submitting_tells_every_manager_after_commit(django_capture_on_commit_callbacks):
    application, cast = application_in(S.DRAFT)
    other_manager = manager()
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=cast.editor, application=application)
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([cast.manager.email, other_manager.email])
    assert mail.outbox[0].subject.endswith(f"application #{application.pk} ({application.programme}): "
                                           "Application submitted")
    assert "State: Draft → Submitted." in mail.outbox[0].body


def test_nothing_is_mailed_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    application, cast = application_in(S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Exception, match="reviewer"):
        services.application_start_review(actor=cast.manager, application=application)
    assert callbacks == [] and mail.outbox == []


def test_assigning_a_reviewer_tells_the_reviewer(django_capture_on_commit_callbacks):
    application, cast = application_in(S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_assign_reviewer(actor=cast.manager, application=application, reviewer=cast.reviewer)
    assert [m.to for m in mail.outbox] == [[cast.reviewer.email]]
    assert str(application.programme) in mail.outbox[0].subject


def organisation_addresses(cast: Cast) -> list[str]:
    return sorted({cast.organisation.contact_email, cast.editor.email})


def test_requesting_changes_tells_the_organisation_with_the_message(django_capture_on_commit_callbacks):
    application, cast = application_in(S.IN_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_request_changes(actor=cast.manager, application=application,
                                             message="State the weight of each assignment.")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == organisation_addresses(cast)
    assert "State the weight of each assignment." in mail.outbox[0].body


@pytest.mark.parametrize("decision", ["endorse", "reject"])
def test_a_decision_tells_the_organisation(django_capture_on_commit_callbacks, decision):
    application, cast = application_in(S.IN_REVIEW)
    judge_all(application, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=application.reviews.get())
    with django_capture_on_commit_callbacks(execute=True):
        if decision == "endorse":
            services.application_endorse(actor=cast.manager, application=application, comment="Well designed.")
        else:
            services.application_reject(actor=cast.manager, application=application, comment="Out of scope.")
    decision_mails = [m for m in mail.outbox if m.to == organisation_addresses(cast)]
    assert len(decision_mails) == 1
    assert ("Well designed." if decision == "endorse" else "Out of scope.") in decision_mails[0].body
    action = "application.endorsed" if decision == "endorse" else "application.rejected"
    assert Notification.objects.filter(key=f"audit:{AuditEvent.objects.get(action=action).seq}").exists()
