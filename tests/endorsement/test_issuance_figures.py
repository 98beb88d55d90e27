"""Issuance figures per month (endorsement/figures.py) and the pages showing them: the portal's
programme page, the registry's and the admin's, each with an inline SVG chart, its table and a CSV
of the same figures. The expected figures are written out by hand from the data made here."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from badges.awards import award_issue, award_revoke
from badges.models import Award
from endorsement.figures import chart, figures_csv, monthly_figures
from endorsement.registry import registry_refresh
from endorsement.reports import issuance_report_correct, issuance_report_file, issuance_report_withdraw
from institutions.models import Role
from tests.factories import PASSWORD, OrganisationFactory, awarding_setup, login_request, staff

pytestmark = pytest.mark.django_db

TODAY = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
EXPECTED = [("2026-12", 2, 9), ("2027-01", 0, 40), ("2027-02", 1, 0)]
EXPECTED_CSV = "month,issued_here,reported_elsewhere\r\n2026-12,2,9\r\n2027-01,0,40\r\n2027-02,1,0\r\n"


def login(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def _issued_at(award, when):
    Award.objects.filter(pk=award.pk).update(issued_at=when)


@pytest.fixture
def figures_setup():
    """Awards: two in December 2026, one in February 2027, one more in February revoked, and one of
    another programme. Reports: 40 for December–January on Moodle (counted in January), 7 for
    December on Canvas corrected to 9, 100 for January on Other withdrawn."""
    programme, _app, cast, issuer = awarding_setup()
    other_programme, _a, _c, other_issuer = awarding_setup()
    award = lambda p, who, n: award_issue(actor=who, programme=p, recipient_email=f"l{n}@example.org",  # noqa: E731
                                          recipient_name=f"Learner {n}")
    for n, when in enumerate([datetime(2026, 12, 5, 3, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC),
                              datetime(2027, 2, 3, tzinfo=UTC)]):
        _issued_at(award(programme, issuer, n), when)
    revoked = award(programme, issuer, 9)
    _issued_at(revoked, datetime(2027, 2, 4, tzinfo=UTC))
    award_revoke(actor=issuer, award=revoked, reason="Issued by mistake")
    _issued_at(award(other_programme, other_issuer, 10), datetime(2027, 1, 15, tzinfo=UTC))
    with time_machine.travel(TODAY, tick=False):
        issuance_report_file(actor=cast.editor, programme=programme, period_start="2026-12-01",
                             period_end="2027-01-31", count=40, platform="Moodle")
        canvas = issuance_report_file(actor=cast.editor, programme=programme, period_start="2026-12-01",
                                      period_end="2026-12-31", count=7, platform="Canvas")
        issuance_report_correct(actor=cast.editor, report=canvas, reason="Miscounted", period_start="2026-12-01",
                                period_end="2026-12-31", count=9, platform="Canvas")
        other = issuance_report_file(actor=cast.editor, programme=programme, period_start="2027-01-01",
                                     period_end="2027-01-31", count=100, platform="Other")
        issuance_report_withdraw(actor=cast.editor, report=other, reason="Duplicate")
    return programme, cast, issuer


def test_monthly_figures_count_this_servers_awards_and_the_filed_reports(figures_setup):
    programme, _, _ = figures_setup
    rows = monthly_figures(programme, today=date(2027, 2, 10))
    assert [(r.key, r.issued_here, r.reported) for r in rows] == EXPECTED


def test_months_without_figures_are_zeros_up_to_the_current_month(figures_setup):
    programme, _, _ = figures_setup
    rows = monthly_figures(programme, today=date(2027, 5, 1))
    assert [(r.key, r.issued_here, r.reported) for r in rows] == [
        *EXPECTED, ("2027-03", 0, 0), ("2027-04", 0, 0), ("2027-05", 0, 0)]


def test_a_programme_without_figures_has_no_rows_and_no_chart():
    programme, _, _, _ = awarding_setup()
    assert monthly_figures(programme) == []
    assert chart([], "t") is None


def test_the_csv_has_the_same_figures(figures_setup):
    programme, _, _ = figures_setup
    assert figures_csv(monthly_figures(programme, today=date(2027, 2, 10))).decode() == EXPECTED_CSV


def test_the_chart_draws_a_bar_per_month_and_series_scaled_to_the_largest(figures_setup):
    programme, _, _ = figures_setup
    drawn = chart(monthly_figures(programme, today=date(2027, 2, 10)), "Badges")
    bars = [(b["series"], b["value"]) for b in drawn["bars"]]
    assert bars == [("here", 2), ("reported", 9), ("here", 0), ("reported", 40), ("here", 1), ("reported", 0)]
    tallest = max(drawn["bars"], key=lambda b: b["h"])
    assert tallest["value"] == 40
    # The axis runs to 50 (the next 1-2-5 step above 40), so 40 fills 4/5 of the plot's height.
    plot = drawn["axis_y"] - 12
    assert tallest["h"] == pytest.approx(plot * 40 / 50, abs=0.1)
    assert [t["value"] for t in drawn["ticks"]] == [0, 25, 50]


def test_the_portal_programme_page_shows_the_chart_its_table_and_the_csv(figures_setup):
    programme, cast, _ = figures_setup
    with time_machine.travel(TODAY, tick=False):
        client = login(cast.editor)
        html = client.get(f"/portal/programmes/{programme.public_id}/").content.decode()
        csv_response = client.get(f"/portal/programmes/{programme.public_id}/figures.csv")
    assert '<svg xmlns="http://www.w3.org/2000/svg" style=' in html and 'role="img"' in html
    assert '<title id="figures-svg-title">Badges issued per month</title>' in html
    assert "from December 2026 to February 2027" in html and "(3 in all)" in html and "(49 in all)" in html
    assert ('<th scope="row" style="white-space:nowrap">January 2027</th>'
            '<td class="number" style="text-align:right">0</td>'
            '<td class="number" style="text-align:right">40</td>') in html
    assert f'href="/portal/programmes/{programme.public_id}/figures.csv"' in html
    assert csv_response.status_code == 200 and csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_response["Content-Disposition"]
    assert csv_response.content.decode() == EXPECTED_CSV


def test_the_figures_are_in_japanese_on_a_japanese_page(figures_setup):
    programme, cast, _ = figures_setup
    with time_machine.travel(TODAY, tick=False):
        html = login(cast.editor, "ja").get(f"/portal/programmes/{programme.public_id}/").content.decode()
    assert '<th scope="row" style="white-space:nowrap">2027年1月</th>' in html
    assert "月ごとの発行数" in html


def test_the_portal_csv_is_for_the_organisations_staff_only(figures_setup):
    programme, _, _ = figures_setup
    stranger = staff(OrganisationFactory(), Role.OWNER)
    response = login(stranger).get(f"/portal/programmes/{programme.public_id}/figures.csv")
    assert response.status_code == 404 and b"issued_here" not in response.content
    assert Client().get(f"/portal/programmes/{programme.public_id}/figures.csv").status_code == 302


def test_the_registry_page_shows_the_chart_and_offers_the_public_csv(figures_setup):
    programme, _, _ = figures_setup
    registry_refresh()
    with time_machine.travel(TODAY, tick=False):
        html = Client().get(f"/registry/{programme.public_id}/").content.decode()
        response = Client().get(f"/registry/{programme.public_id}/figures.csv")
    assert 'role="img"' in html and "Badges issued per month" in html
    assert f'href="/registry/{programme.public_id}/figures.csv"' in html
    assert response.status_code == 200 and response.content.decode() == EXPECTED_CSV


def test_a_programme_not_in_the_registry_has_no_public_csv():
    awarding_setup()
    registry_refresh()
    other = OrganisationFactory()
    from tests.factories import ProgrammeFactory

    unlisted = ProgrammeFactory(organisation=other)
    assert Client().get(f"/registry/{unlisted.public_id}/figures.csv").status_code == 404


def test_the_admin_programme_page_shows_the_chart_and_exports_the_csv(figures_setup):
    programme, cast, _ = figures_setup
    with time_machine.travel(TODAY, tick=False):
        client = login(cast.manager)
        html = client.get(f"/admin/badges/programme/{programme.pk}/change/").content.decode()
        response = client.get(f"/admin/badges/programme/{programme.pk}/figures.csv")
    assert 'role="img"' in html and '<title id="admin-figures-svg-title">' in html
    assert f'href="/admin/badges/programme/{programme.pk}/figures.csv"' in html
    assert response.status_code == 200 and response.content.decode() == EXPECTED_CSV
    # Not for a member organisation's staff.
    assert login(cast.editor).get(f"/admin/badges/programme/{programme.pk}/figures.csv").status_code == 302


def test_the_registry_figures_come_from_the_snapshot_and_match_the_live_ones(figures_setup, django_assert_num_queries):
    from endorsement.figures import registry_figures
    from endorsement.registry import registry_current

    programme, _, _ = figures_setup
    registry_refresh()
    entry = registry_current().by_id[str(programme.public_id)].entry
    assert entry["issuance"]["issued_here_by_month"] == {"2026-12": 2, "2027-02": 1}
    with django_assert_num_queries(0):
        rows = registry_figures(entry, today=date(2027, 2, 10))
    assert [(r.key, r.issued_here, r.reported) for r in rows] == EXPECTED
