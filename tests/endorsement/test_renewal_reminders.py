"""The beat task reminds the organisation and the managers before an endorsement ends: once per
threshold (180, 60 and 14 days by default, a setting), never twice, and not once it is renewed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from endorsement import renewals
from endorsement.models import ApplicationState, AuditEvent, Endorsement
from endorsement.tasks import remind_expiring_endorsements
from tests.endorsement.renewal_walk import ends_in, walk
from tests.factories import application_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def endorsed():
    application, cast = application_in(ApplicationState.PUBLISHED)
    return Endorsement.objects.get(application=application), cast


def reminders(endorsement: Endorsement) -> list[int]:
    events = AuditEvent.objects.filter(action="endorsement.expiry_reminded", subject_id=str(endorsement.pk))
    return [e.data["days"] for e in events.order_by("seq")]


def test_nothing_is_sent_long_before_the_end(endorsed):
    endorsement, _cast = ends_in(endorsed[0], 400), endorsed[1]
    assert renewals.endorsement_expiry_reminders() == 0
    assert reminders(endorsement) == []


def test_each_threshold_reminds_once_and_the_mail_reaches_the_organisation_and_the_managers(
        endorsed, django_capture_on_commit_callbacks):
    endorsement, cast = ends_in(endorsed[0], 170), endorsed[1]
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_expiring_endorsements() == 1
    assert reminders(endorsement) == [180]
    assert len(mail.outbox) == 1
    recipients = set(mail.outbox[0].to)
    assert cast.editor.email in recipients and cast.manager.email in recipients
    event = AuditEvent.objects.get(action="endorsement.expiry_reminded")
    assert "180-day reminder" in event.comment and f"/endorsements/{endorsement.pk}/renew" in event.comment
    assert f"/portal/endorsements/{endorsement.public_id}/" in event.comment
    assert f"/portal/endorsements/{endorsement.public_id}/" in mail.outbox[0].body

    # The next day: the same threshold, nothing again (idempotent), and no second mail.
    with django_capture_on_commit_callbacks(execute=True):
        assert renewals.endorsement_expiry_reminders(now=timezone.now() + timedelta(days=1)) == 0
        assert remind_expiring_endorsements() == 0
    assert reminders(endorsement) == [180] and len(mail.outbox) == 1

    # 60 days before, then 14 days before: one more each.
    for days_left, expected in ((59, [180, 60]), (13, [180, 60, 14])):
        now = endorsement.valid_until - timedelta(days=days_left)
        assert renewals.endorsement_expiry_reminders(now=now) == 1
        assert renewals.endorsement_expiry_reminders(now=now) == 0
        assert reminders(endorsement) == expected


def test_an_endorsement_first_seen_late_gets_only_the_tightest_threshold(endorsed):
    endorsement, _cast = ends_in(endorsed[0], 50), endorsed[1]
    assert renewals.endorsement_expiry_reminders() == 1
    assert reminders(endorsement) == [60]


def test_the_thresholds_are_a_setting(endorsed, settings):
    settings.RENEWAL_REMINDER_DAYS = [30]
    endorsement, _cast = ends_in(endorsed[0], 50), endorsed[1]
    assert renewals.endorsement_expiry_reminders() == 0
    ends_in(endorsement, 29)
    assert renewals.endorsement_expiry_reminders() == 1
    assert reminders(endorsement) == [30]


def test_a_renewed_endorsement_is_not_reminded(endorsed):
    endorsement, cast = ends_in(endorsed[0], 100), endorsed[1]
    walk(renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement), cast)
    assert renewals.endorsement_expiry_reminders() == 0
    assert reminders(endorsement) == []


def test_an_open_renewal_is_mentioned(endorsed):
    endorsement, cast = ends_in(endorsed[0], 100), endorsed[1]
    renewals.endorsement_renew(actor=cast.editor, endorsement=endorsement)
    assert renewals.endorsement_expiry_reminders() == 1
    assert "renewal application is open" in AuditEvent.objects.get(action="endorsement.expiry_reminded").comment
