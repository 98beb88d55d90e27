"""Issuance reports after filing: correction (a new revision, the old one kept), withdrawal,
periods that have not ended, the admin list and CSV, reporting cycles and the reminder beat task.
Every refusal asserts the error and that nothing was written."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.audit import AuditAction, audit_verify
from endorsement.models import (
    AuditEvent,
    Endorsement,
    IssuanceReport,
    IssuanceReportReminder,
    ReportingCycle,
    ReportStatus,
)
from endorsement.registry import registry_current, registry_refresh
from endorsement.reports import (
    add_months,
    issuance_report_correct,
    issuance_report_file,
    issuance_report_withdraw,
    issuance_reports_remind_due,
    last_ended_period,
    reporting_cycle_set,
)
from endorsement.tasks import remind_issuance_reports
from institutions.models import Role
from tests.factories import Cast, api_client, awarding_setup, body, staff

pytestmark = pytest.mark.django_db
TODAY = date.today()
START = (TODAY - timedelta(days=31)).isoformat()
END = (TODAY - timedelta(days=1)).isoformat()
GOOD = {"period_start": START, "period_end": END, "count": 12, "platform": "Another platform", "note": "Cohort A"}
FIXED = {**GOOD, "count": 15, "reason": "Three badges were missed in the export."}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def setup():
    programme, application, cast, issuer = awarding_setup()
    Endorsement.objects.filter(pk=application.endorsement.pk).update(
        valid_from=timezone.now() - timedelta(days=800))
    report = issuance_report_file(actor=issuer, programme=programme, **GOOD)
    return {"programme": programme, "application": application, "cast": cast, "issuer": issuer, "report": report}


def events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def snapshot():
    return sorted(IssuanceReport.objects.values_list("pk", "status", "count", "revision", "reason"))


# --- Periods ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("end", [TODAY, TODAY + timedelta(days=30)])
def test_a_period_that_has_not_ended_is_refused_and_nothing_is_written(setup, end):
    before, audit = snapshot(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        issuance_report_file(actor=setup["issuer"], programme=setup["programme"],
                             **{**GOOD, "period_start": (TODAY - timedelta(days=3)).isoformat(),
                                "period_end": end.isoformat(), "platform": "New"})
    assert refused.value.field_errors["period_end"] == [
        f"The period has not ended yet: report it from {(end + timedelta(days=1)).isoformat()} on."]
    assert snapshot() == before and AuditEvent.objects.count() == audit


def test_filing_is_audited(setup):
    [event] = events(AuditAction.ISSUANCE_REPORT_FILED)
    assert event.subject_id == str(setup["report"].pk) and event.to_state == "filed"
    assert event.data["count"] == 12 and event.actor_id == setup["issuer"].pk


def test_the_api_and_the_portal_refuse_a_period_that_has_not_ended(client, setup):
    url = reverse("programme-issuance-reports", args=[setup["programme"].public_id])
    future = {**GOOD, "period_start": TODAY.isoformat(), "period_end": TODAY.isoformat(), "platform": "Later"}
    before = snapshot()
    response = api_client(setup["issuer"]).post(url, future, format="json")
    assert response.status_code == 400 and "period_end" in response.json()["errors"]
    client.force_login(setup["issuer"])
    page = client.post(reverse("portal:programme_reports", args=[setup["programme"].public_id]), future)
    assert page.status_code == 400 and "The period has not ended yet" in page.content.decode()
    assert snapshot() == before


# --- Correction ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.OWNER, Role.EDITOR, Role.ISSUER])
def test_a_correction_files_a_new_revision_and_keeps_the_old_one_visible(setup, role):
    old = setup["report"]
    user = staff(setup["cast"].organisation, role)
    new = issuance_report_correct(actor=user, report=old, **FIXED)
    old.refresh_from_db()
    assert (old.status, old.reason, old.status_changed_by) == (ReportStatus.CORRECTED, FIXED["reason"], user)
    assert (new.status, new.revision, new.corrects, new.count) == (ReportStatus.FILED, 2, old, 15)
    [event] = events(AuditAction.ISSUANCE_REPORT_CORRECTED)
    assert (event.from_state, event.to_state, event.comment) == ("filed", "corrected", FIXED["reason"])
    assert event.data["corrected_by"]["count"] == 15
    assert audit_verify().ok
    registry_refresh()
    entry = registry_current().by_id[str(setup["programme"].public_id)].entry
    assert entry["issuance"]["reported_elsewhere"] == 15
    assert [r["revision"] for r in entry["issuance"]["reports"]] == [2]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"reason": "  "}, "reason"), ({"count": -1}, "count"), ({"period_end": TODAY.isoformat()}, "period_end"),
     ({"platform": ""}, "platform")],
)
def test_a_bad_correction_is_refused_by_field_and_nothing_is_written(setup, changes, field):
    before, audit = snapshot(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        issuance_report_correct(actor=setup["issuer"], report=setup["report"], **{**FIXED, **changes})
    assert field in refused.value.field_errors
    assert snapshot() == before and AuditEvent.objects.count() == audit


def test_only_the_current_revision_can_be_corrected_or_withdrawn(setup):
    issuance_report_correct(actor=setup["issuer"], report=setup["report"], **FIXED)
    before, audit = snapshot(), AuditEvent.objects.count()
    with pytest.raises(WrongState):
        issuance_report_correct(actor=setup["issuer"], report=setup["report"], **FIXED)
    with pytest.raises(WrongState):
        issuance_report_withdraw(actor=setup["issuer"], report=setup["report"], reason="Again")
    assert snapshot() == before and AuditEvent.objects.count() == audit


def test_others_cannot_correct_or_withdraw(setup):
    before, audit = snapshot(), AuditEvent.objects.count()
    stranger = staff(Cast().organisation, Role.OWNER)
    with pytest.raises(NotFound):
        issuance_report_correct(actor=stranger, report=setup["report"], **FIXED)
    with pytest.raises(NotPermitted):
        issuance_report_withdraw(actor=setup["cast"].manager, report=setup["report"], reason="Body")
    with pytest.raises(NotFound):
        issuance_report_withdraw(actor=setup["cast"].reviewer, report=setup["report"], reason="Reviewer")
    assert snapshot() == before and AuditEvent.objects.count() == audit


def test_a_correction_may_not_collide_with_another_filed_report(setup):
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **{**GOOD, "platform": "Other"})
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        issuance_report_correct(actor=setup["issuer"], report=setup["report"], **{**FIXED, "platform": "Other"})
    assert refused.value.field_errors["platform"] == ["A report for this platform and period was already filed."]
    assert snapshot() == before


# --- Withdrawal ------------------------------------------------------------------------------------
def test_a_withdrawn_report_stops_counting_and_stays_readable(setup):
    report = issuance_report_withdraw(actor=setup["issuer"], report=setup["report"], reason="Filed twice")
    assert (report.status, report.reason) == (ReportStatus.WITHDRAWN, "Filed twice")
    [event] = events(AuditAction.ISSUANCE_REPORT_WITHDRAWN)
    assert (event.from_state, event.to_state) == ("filed", "withdrawn")
    registry_refresh()
    entry = registry_current().by_id[str(setup["programme"].public_id)].entry
    assert entry["issuance"]["reported_elsewhere"] == 0 and entry["issuance"]["reports"] == []
    # The same period and platform may be filed again once the old one is withdrawn.
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], **GOOD)


def test_a_withdrawal_needs_a_reason_and_writes_nothing_without_one(setup):
    before, audit = snapshot(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        issuance_report_withdraw(actor=setup["issuer"], report=setup["report"], reason=" ")
    assert refused.value.field_errors == {"reason": ["This field is required."]}
    assert snapshot() == before and AuditEvent.objects.count() == audit


# --- API -------------------------------------------------------------------------------------------
def detail(report, what: str = "") -> str:
    url = reverse("issuance-report-detail", args=[report.public_id])
    return f"{url}/{what}" if what else url


def test_the_api_corrects_and_withdraws_by_report_uuid(setup):
    client = api_client(setup["issuer"])
    response = client.post(detail(setup["report"], "correct"), FIXED, format="json")
    assert response.status_code == 201, response.content
    body_ = response.json()
    assert body_["revision"] == 2 and body_["corrects"] == str(setup["report"].public_id)
    assert body_["status"] == "filed" and body_["count"] == 15
    old = client.get(detail(setup["report"])).json()
    assert old["status"] == "corrected" and old["corrected_by"] == body_["id"] and old["reason"] == FIXED["reason"]
    new = IssuanceReport.objects.get(public_id=body_["id"])
    response = client.post(detail(new, "withdraw"), {"reason": "Wrong programme"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    listed = client.get(reverse("issuance-report-list")).json()["results"]
    assert {r["status"] for r in listed} == {"corrected", "withdrawn"}


def test_the_api_refusals_write_nothing(setup):
    before, audit = snapshot(), AuditEvent.objects.count()
    client = api_client(setup["issuer"])
    response = client.post(detail(setup["report"], "correct"), {**FIXED, "reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["reason"] == ["This field is required."]
    response = client.post(detail(setup["report"], "withdraw"), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    stranger = api_client(staff(Cast().organisation, Role.EDITOR))
    assert stranger.post(detail(setup["report"], "withdraw"), {"reason": "x"}, format="json").status_code == 404
    assert stranger.get(detail(setup["report"])).status_code == 404
    manager = api_client(setup["cast"].manager)
    assert manager.get(detail(setup["report"])).status_code == 200
    assert manager.post(detail(setup["report"], "withdraw"), {"reason": "x"}, format="json").status_code == 403
    assert client.get(reverse("issuance-report-list"), {"status": "nonsense"}).status_code == 400
    assert snapshot() == before and AuditEvent.objects.count() == audit
    client.post(detail(setup["report"], "withdraw"), {"reason": "Duplicate"}, format="json")
    again = client.post(detail(setup["report"], "withdraw"), {"reason": "Again"}, format="json")
    assert again.status_code == 409


# --- Portal ----------------------------------------------------------------------------------------
def test_the_portal_corrects_and_withdraws_with_a_reason(client, setup):
    client.force_login(setup["issuer"])
    programme, report = setup["programme"], setup["report"]
    page = reverse("portal:report_correct", args=[programme.public_id, report.public_id])
    form = client.get(page)
    assert form.status_code == 200 and 'value="Another platform"' in form.content.decode()
    refused = client.post(page, {**FIXED, "reason": ""})
    assert refused.status_code == 400 and IssuanceReport.objects.count() == 1
    assert client.post(page, FIXED).status_code == 302
    listing = client.get(reverse("portal:programme_reports", args=[programme.public_id])).content.decode()
    assert "Corrected" in listing and FIXED["reason"] in listing and "revision 2" in listing
    assert client.post(page, FIXED).status_code == 409  # the old revision cannot be corrected again
    new = IssuanceReport.objects.get(status=ReportStatus.FILED)
    withdraw = reverse("portal:report_withdraw", args=[programme.public_id, new.public_id])
    assert client.post(withdraw, {"reason": ""}).status_code == 400
    assert IssuanceReport.objects.get(pk=new.pk).status == ReportStatus.FILED
    assert client.post(withdraw, {"reason": "Not ours"}).status_code == 302
    assert IssuanceReport.objects.get(pk=new.pk).status == ReportStatus.WITHDRAWN


def test_the_portal_hides_another_organisations_report(client, setup):
    client.force_login(staff(Cast().organisation, Role.OWNER))
    page = reverse("portal:report_withdraw", args=[setup["programme"].public_id, setup["report"].public_id])
    assert client.post(page, {"reason": "x"}).status_code == 404
    assert IssuanceReport.objects.get().status == ReportStatus.FILED


# --- Admin -----------------------------------------------------------------------------------------
def test_the_admin_lists_every_report_with_filters_and_exports_csv(client, setup):
    issuance_report_correct(actor=setup["issuer"], report=setup["report"], **{**FIXED, "note": "=SUM(A1)"})
    client.force_login(setup["cast"].reviewer)
    changelist = reverse("admin:endorsement_issuancereport_changelist")
    response = client.get(changelist)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2
    filtered = client.get(changelist, {"status__exact": "filed"})
    assert [r.revision for r in filtered.context["cl"].result_list] == [2]
    exported = client.get(reverse("admin:endorsement_issuancereport_csv"), {"status__exact": "filed"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["revision"], r["status"], r["count"]) for r in rows] == [("2", "filed", "15")]
    assert rows[0]["note"] == "'=SUM(A1)" and rows[0]["corrects"] == str(setup["report"].public_id)
    action = client.post(changelist, {"action": "export_csv", "_selected_action": [setup["report"].pk]})
    assert action.status_code == 200 and len(list(csv.DictReader(io.StringIO(
        action.content.decode("utf-8-sig"))))) == 1
    client.cookies["django_language"] = "ja"
    japanese = client.get(changelist).content.decode()
    assert "これらの報告をCSVで書き出す" in japanese and "訂正済み" in japanese and "発行数の報告" in japanese


def test_the_admin_offers_no_edit_of_reports(client, setup):
    client.force_login(setup["cast"].manager)
    change = client.post(reverse("admin:endorsement_issuancereport_change", args=[setup["report"].pk]),
                         {"count": 1})
    assert change.status_code == 403
    assert IssuanceReport.objects.get().count == 12


# --- Reporting cycles and reminders ----------------------------------------------------------------
def test_months_add_up_on_calendar_months():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    cycle = ReportingCycle(months=12, starts_on=date(2025, 4, 1))
    assert last_ended_period(cycle, date(2026, 3, 31)) is None
    period = last_ended_period(cycle, date(2027, 6, 1))
    assert (period.start, period.end) == (date(2026, 4, 1), date(2027, 3, 31))
    quarterly = ReportingCycle(months=3, starts_on=date(2026, 1, 1))
    period = last_ended_period(quarterly, date(2026, 7, 1))
    assert (period.start, period.end) == (date(2026, 4, 1), date(2026, 6, 30))


def test_only_managers_set_a_cycle_and_it_is_audited(setup):
    organisation = setup["cast"].organisation
    with pytest.raises(NotPermitted):
        reporting_cycle_set(actor=setup["cast"].reviewer, organisation=organisation, months=12, starts_on="2026-01-01")
    with pytest.raises(NotPermitted):
        reporting_cycle_set(actor=setup["issuer"], organisation=organisation, months=12, starts_on="2026-01-01")
    with pytest.raises(InvalidInput) as refused:
        reporting_cycle_set(actor=setup["cast"].manager, organisation=organisation, months=5, starts_on="soon")
    assert set(refused.value.field_errors) == {"months", "starts_on"}
    with pytest.raises(InvalidInput):
        reporting_cycle_set(actor=setup["cast"].manager, organisation=body(), months=12, starts_on="2026-01-01")
    assert ReportingCycle.objects.count() == 0 and not events(AuditAction.REPORTING_CYCLE_SET)
    cycle = reporting_cycle_set(actor=setup["cast"].manager, organisation=organisation, months=12,
                                starts_on="2026-01-01")
    assert (cycle.months, cycle.starts_on) == (12, date(2026, 1, 1))
    reporting_cycle_set(actor=setup["cast"].manager, organisation=organisation, months=3, starts_on="2026-01-01")
    assert ReportingCycle.objects.get().months == 3
    assert [e.to_state for e in events(AuditAction.REPORTING_CYCLE_SET)] == ["12m from 2026-01-01",
                                                                             "3m from 2026-01-01"]


def test_managers_set_a_cycle_in_the_admin(client, setup):
    client.force_login(setup["cast"].manager)
    response = client.post(reverse("admin:endorsement_reportingcycle_add"),
                           {"organisation": setup["cast"].organisation.pk, "months": 12, "starts_on": "2026-04-01"})
    assert response.status_code == 302, response.content
    assert ReportingCycle.objects.get().set_by == setup["cast"].manager
    assert len(events(AuditAction.REPORTING_CYCLE_SET)) == 1
    client.force_login(setup["cast"].reviewer)
    refused = client.post(reverse("admin:endorsement_reportingcycle_add"),
                          {"organisation": setup["cast"].organisation.pk, "months": 3, "starts_on": "2026-04-01"})
    assert refused.status_code == 403 and ReportingCycle.objects.get().months == 12


def test_the_reminder_goes_once_per_due_period_and_not_when_filed(setup, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    organisation = setup["cast"].organisation
    # A yearly cycle whose last period ended 20 days ago (past the 14 days' grace), with no report for it.
    period_end = TODAY - timedelta(days=20)
    starts_on = add_months(period_end + timedelta(days=1), -12)
    reporting_cycle_set(actor=setup["cast"].manager, organisation=organisation, months=12,
                        starts_on=starts_on.isoformat())
    IssuanceReport.objects.all().delete()  # no report at all yet
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_issuance_reports() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert issuance_reports_remind_due() == 0  # idempotent: reminded once for this period
    assert IssuanceReportReminder.objects.count() == 1
    [event] = events(AuditAction.ISSUANCE_REPORT_DUE)
    assert event.data["period_end"] == period_end.isoformat()
    [mail] = mailoutbox
    assert organisation.contact_email in mail.to and period_end.isoformat() in mail.body
    assert "/portal/reports/" in mail.body
    # Next year's period: a filed report covering it means no reminder.
    next_end = add_months(period_end + timedelta(days=1), 12) - timedelta(days=1)
    later = next_end + timedelta(days=20)
    issuance_report_file(actor=setup["issuer"], programme=setup["programme"], period_start=period_end.isoformat(),
                         period_end=(TODAY - timedelta(days=1)).isoformat(), count=3, platform="Elsewhere")
    assert issuance_reports_remind_due(today=later) == 0


def test_no_reminder_within_the_grace_days_or_before_a_period_ends(setup):
    period_end = TODAY - timedelta(days=5)
    starts_on = add_months(period_end + timedelta(days=1), -12)
    reporting_cycle_set(actor=setup["cast"].manager, organisation=setup["cast"].organisation, months=12,
                        starts_on=starts_on.isoformat())
    IssuanceReport.objects.all().delete()
    assert issuance_reports_remind_due() == 0
    assert IssuanceReportReminder.objects.count() == 0 and not events(AuditAction.ISSUANCE_REPORT_DUE)


def test_the_portal_overview_shows_the_cycle(client, setup):
    reporting_cycle_set(actor=setup["cast"].manager, organisation=setup["cast"].organisation, months=12,
                        starts_on="2026-01-01")
    client.force_login(setup["issuer"])
    html = client.get(reverse("portal:reports")).content.decode()
    assert "Yearly" in html and "The current period runs from" in html
