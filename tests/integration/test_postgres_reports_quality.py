"""On PostgreSQL, with real concurrent transactions: two people correcting the same issuance report
at once file one revision; the reminder beat task run twice at once sends one reminder; two managers
opening a quality review of one endorsement at once open one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.errors import WrongState
from endorsement import quality
from endorsement.audit import audit_verify
from endorsement.models import (
    Endorsement,
    IssuanceReport,
    IssuanceReportReminder,
    QualityReview,
    ReportStatus,
)
from endorsement.reports import (
    add_months,
    issuance_report_correct,
    issuance_report_file,
    issuance_reports_remind_due,
    reporting_cycle_set,
)
from institutions.models import Role
from tests.concurrency import run_together
from tests.factories import awarding_setup, manager, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TODAY = date.today()
GOOD = {"period_start": (TODAY - timedelta(days=31)).isoformat(), "period_end": (TODAY - timedelta(days=1)).isoformat(),
        "count": 12, "platform": "Elsewhere"}


def published():
    programme, application, cast, issuer = awarding_setup()
    Endorsement.objects.filter(pk=application.endorsement.pk).update(valid_from=timezone.now() - timedelta(days=800))
    return programme, application, cast, issuer


def test_two_corrections_at_once_file_one_revision(postgres):
    programme, _application, cast, issuer = published()
    report = issuance_report_file(actor=issuer, programme=programme, **GOOD)
    editor = staff(cast.organisation, Role.EDITOR)
    users = get_user_model().objects

    def correct(user_pk: int, count: int):
        return issuance_report_correct(actor=users.get(pk=user_pk), report=IssuanceReport.objects.get(pk=report.pk),
                                       **{**GOOD, "count": count, "reason": f"Recounted by {user_pk}."})

    results = run_together(lambda: correct(issuer.pk, 13), lambda: correct(editor.pk, 14))
    filed = [r for r in results if isinstance(r, IssuanceReport)]
    refused = [r for r in results if isinstance(r, WrongState)]
    assert (len(filed), len(refused)) == (1, 1), results
    assert IssuanceReport.objects.filter(status=ReportStatus.FILED).count() == 1
    assert IssuanceReport.objects.get(pk=report.pk).status == ReportStatus.CORRECTED
    assert audit_verify().ok


def test_the_reminder_task_run_twice_at_once_reminds_once(postgres):
    _programme, _application, cast, _issuer = published()
    period_end = TODAY - timedelta(days=20)
    reporting_cycle_set(actor=cast.manager, organisation=cast.organisation, months=12,
                        starts_on=add_months(period_end + timedelta(days=1), -12).isoformat())
    results = run_together(issuance_reports_remind_due, issuance_reports_remind_due)
    assert sorted(results) == [0, 1], results
    assert IssuanceReportReminder.objects.count() == 1
    assert audit_verify().ok


def test_two_managers_opening_a_quality_review_at_once_open_one(postgres):
    _programme, application, cast, _issuer = published()
    other = manager()
    users = get_user_model().objects

    def open_as(user_pk: int):
        return quality.quality_review_open(actor=users.get(pk=user_pk),
                                           endorsement=Endorsement.objects.get(pk=application.endorsement.pk),
                                           reason=f"Opened by {user_pk}.")

    results = run_together(lambda: open_as(cast.manager.pk), lambda: open_as(other.pk))
    assert sorted(type(r).__name__ for r in results) == ["QualityReview", "WrongState"], results
    assert QualityReview.objects.count() == 1
    assert audit_verify().ok
