"""Issuance figures of a programme over time, per month: the badges this server issued (revoked
ones excluded, as the registry counts them) and the badges the organisation reported issuing on
other platforms (filed issuance reports only, each counted in the month its period ends: a report
gives one figure for its whole period, and spreading it over the months would invent figures that
nobody reported). Read-only; the pages (portal, registry, admin) render it as an inline SVG chart
beside a data table (templates/includes/issuance_chart.html), and export the same rows as CSV.

Months are calendar months in the server's time zone (settings.TIME_ZONE)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from badges.models import Award, Programme
from endorsement.models import IssuanceReport, ReportStatus

CHART_MONTHS = 24  # the chart shows the last two years; the table and the CSV have every month
CSV_HEADER = ["month", "issued_here", "reported_elsewhere"]


@dataclass(frozen=True)
class MonthFigures:
    month: date  # the first day of the month
    issued_here: int
    reported: int

    @property
    def label(self) -> str:
        return date_format(self.month, "YEAR_MONTH_FORMAT")

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"


def _month(value: Any) -> date:
    if hasattr(value, "date") and callable(value.date):
        value = value.date()
    return value.replace(day=1)


def _next(month: date) -> date:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


def monthly_figures(programme: Programme, today: date | None = None) -> list[MonthFigures]:
    """Every month from the first with a figure to the current one (or to the last reported, if a
    report ends later), oldest first, months without figures as zeros. Empty if there is none.
    Two queries."""
    issued = {
        _month(month): n for month, n in
        Award.objects.filter(programme=programme, revoked_at__isnull=True)
        .annotate(month=TruncMonth("issued_at", tzinfo=timezone.get_default_timezone()))
        .values("month").order_by("month").annotate(n=Count("id")).values_list("month", "n")
    }
    reported = {
        _month(month): n for month, n in
        IssuanceReport.objects.filter(programme=programme, status=ReportStatus.FILED)
        .annotate(month=TruncMonth("period_end")).values("month").order_by("month")
        .annotate(n=Sum("count")).values_list("month", "n")
    }
    return _every_month(issued, reported, today)


def registry_figures(entry: dict[str, Any], today: date | None = None) -> list[MonthFigures]:
    """The same figures from a registry snapshot's entry (endorsement/registry.py keeps the awards
    per month and the filed reports in it), so that the registry's page costs no query for them."""
    issuance = entry.get("issuance") or {}
    issued = {date.fromisoformat(f"{key}-01"): n for key, n in (issuance.get("issued_here_by_month") or {}).items()}
    reported: dict[date, int] = {}
    for report in issuance.get("reports") or []:
        month = date.fromisoformat(report["period_end"]).replace(day=1)
        reported[month] = reported.get(month, 0) + int(report["count"])
    return _every_month(issued, reported, today)


def _every_month(issued: dict[date, int], reported: dict[date, int], today: date | None) -> list[MonthFigures]:
    months = set(issued) | set(reported)
    if not months:
        return []
    current = _month(today or timezone.localdate())
    month, last = min(months), max(max(months), current)
    rows = []
    while month <= last:
        rows.append(MonthFigures(month, issued.get(month, 0), reported.get(month, 0)))
        month = _next(month)
    return rows


def figures_csv(rows: Sequence[MonthFigures]) -> bytes:
    """The figures as CSV (UTF-8, a header row of stable English keys; months as YYYY-MM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([row.key, row.issued_here, row.reported])
    return out.getvalue().encode("utf-8")


# --- the chart: geometry for templates/includes/issuance_chart.html ------------------------------
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 12, 40


def _nice_top(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return max(step * factor, 1)
        step *= 10


def chart(rows: Sequence[MonthFigures], title: str) -> dict[str, Any] | None:
    """Bars (two per month: issued here, reported) of the last CHART_MONTHS months, with axis
    ticks, in SVG user units; None when there are no figures."""
    shown = list(rows)[-CHART_MONTHS:]
    if not shown:
        return None
    top = _nice_top(max(max(r.issued_here, r.reported) for r in shown))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(shown)
    bar_w = max(min(slot * 0.38, 28), 1)
    bars, labels = [], []
    every = max(1, -(-len(shown) // 6))  # at most six month labels under the axis
    for i, row in enumerate(shown):
        x0 = LEFT + i * slot + (slot - 2 * bar_w) / 2
        for j, (series, value) in enumerate((("here", row.issued_here), ("reported", row.reported))):
            h = plot_h * value / top
            bars.append({"series": series, "x": round(x0 + j * bar_w, 1), "y": round(TOP + plot_h - h, 1),
                         "w": round(bar_w, 1), "h": round(h, 1), "value": value, "month": row.label})
        if i % every == 0:
            labels.append({"x": round(LEFT + i * slot + slot / 2, 1), "text": f"{row.month:%Y-%m}"})
    parts = 4 if top % 4 == 0 else 2 if top % 2 == 0 else 1
    ticks = [{"y": round(TOP + plot_h - plot_h * k / parts, 1), "value": top * k // parts} for k in range(parts + 1)]
    first, last = shown[0], shown[-1]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "axis_y": TOP + plot_h,
        "label_y": TOP + plot_h + 18, "bars": bars, "labels": labels, "ticks": ticks, "title": title,
        "desc": _(
            "Bar chart, one pair of bars per month from %(first)s to %(last)s: badges issued through this "
            "server (%(here)d in all) and badges the organisation reported from other platforms "
            "(%(reported)d in all). The same figures are in the table that follows."
        ) % {"first": first.label, "last": last.label, "here": sum(r.issued_here for r in shown),
             "reported": sum(r.reported for r in shown)},
        "months": len(shown), "clipped": len(rows) > len(shown),
    }


def figures_context(source: Programme | Sequence[MonthFigures], csv_url: str, figures_id: str = "figures"
                    ) -> dict[str, Any]:
    """What templates/includes/issuance_chart.html needs, for a programme or for rows already made."""
    rows = monthly_figures(source) if isinstance(source, Programme) else list(source)
    return {"figures": rows, "figures_chart": chart(rows, _("Badges issued per month")),
            "figures_csv_url": csv_url, "figures_id": figures_id}


def figures_csv_response(source: Programme | Sequence[MonthFigures], public_id: Any) -> Any:
    """The CSV download of the figures (of a programme, or rows already made), named after it."""
    from django.http import HttpResponse

    rows = monthly_figures(source) if isinstance(source, Programme) else source
    response = HttpResponse(figures_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="issuance-{public_id}.csv"'
    return response
