"""The assessment report (Art. 8, 10 (1), Ch. 4-5): one period's figures per centre and crew
member, the centres ranked by points with the events behind them, as HTML (one printable,
self-contained A4 page), CSV (one row per centre, fixed header) or XLSX (figures, events and
tickets sheets).

The three formats are written from one set of values (:func:`centre_row`), so they cannot
disagree. Charts are passed in ready-made (title + PNG bytes) and embedded as data URIs; the
report works without any.
"""
from __future__ import annotations

import base64
import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import aiosqlite

from rules.assessment import (
    FIGURES, LIMITS, AssessmentRules, CentreFigures, CentreScore, CountedEvent, CrewFigures, DayCount, Period, score,
)
from storage import figures
from storage.figures import TicketRow

__all__ = [
    "Chart", "Report", "build_report", "article_zh", "CSV_HEADER", "centre_row", "to_csv", "to_xlsx", "to_html", "EVENT_HEADER",
    "TICKET_HEADER",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chart:
    """A chart image for the HTML report (rendered elsewhere, e.g. with matplotlib)."""
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Report:
    period: Period
    centre_id: str | None
    made_at: datetime
    centres: list[CentreFigures]
    scores: list[CentreScore]
    crew: list[CrewFigures]
    events: list[CountedEvent]
    daily: list[DayCount]
    tickets: list[TicketRow]
    rules: AssessmentRules

    def score_of(self, centre_id: str) -> CentreScore | None:
        return next((s for s in self.scores if s.centre_id == centre_id), None)

    def ranked(self) -> list[tuple[CentreScore, CentreFigures]]:
        by_id = {c.centre_id: c for c in self.centres}
        return [(s, by_id[s.centre_id]) for s in self.scores if s.centre_id in by_id]


async def build_report(conn: aiosqlite.Connection, period: Period, *, tz: tzinfo, rules: AssessmentRules,
                       made_at: datetime, centre_id: str | None = None, complaints_threshold: int = 2,
                       with_tickets: bool = True) -> Report:
    """Everything a report shows, read in one go. ``made_at`` is now (the clock's); a notice
    posting not yet due by then is not judged yet."""
    start, end = period.start, period.end
    as_of = min(end, made_at)
    centres = await figures.centre_figures(conn, start, end, centre_id=centre_id, as_of=as_of,
                                           complaints_threshold=complaints_threshold)
    events = await figures.counted_events(conn, start, end, centre_id=centre_id, as_of=as_of,
                                          complaints_threshold=complaints_threshold)
    crew = await figures.crew_figures(conn, start, end, centre_id=centre_id)
    daily = await figures.daily_counts(conn, start, end, tz, centre_id=centre_id)
    tickets = await figures.ticket_rows(conn, start, end, centre_id=centre_id) if with_tickets else []
    return Report(period, centre_id, made_at, centres, score(centres, events, rules), crew, events, daily, tickets, rules)


# --------------------------------------------------------------------------- one set of values

# The CSV header, fixed (documented in the README); the XLSX figures sheet and the HTML table
# show the same values under these keys.
CSV_HEADER: tuple[str, ...] = (
    "centre_id", "centre_name", "period_from", "period_to", "rank", "points",
    "received", "received_major", "received_general",
    "accept_judged", "accept_late", "accept_on_time_pct",
    "onsite_judged", "onsite_late", "onsite_on_time_pct",
    "close_judged", "close_late", "close_on_time_pct",
    "report_judged", "report_late", "report_on_time_pct",
    "accept_median_min", "accept_p90_min", "arrive_median_min", "arrive_p90_min", "close_median_min", "close_p90_min",
    "delays_asked", "delays_approved", "delays_rejected", "returns_asked", "transfers_out", "transfers_in",
    "closed", "reopened", "reopened_pct", "repeat_faults", "complaints_2plus",
    "followups_asked", "followups_reached", "reached_pct", "followups_answered", "satisfied", "satisfied_pct",
    "ratings", "rating_mean", "notices_due", "notices_late", "notices_on_time_pct",
    "praise", "criticism", "press", "supervision", "households", "complaints_per_1000",
)

EVENT_HEADER = ("centre_id", "event", "article", "points", "at", "ticket", "outage", "register_entry", "minutes_late")
TICKET_HEADER = ("ticket", "received_at", "centre_id", "category", "source", "level", "status", "outcome", "accepted_at",
                 "arrived_at", "closed_at", "late_limits", "reopened", "complaints", "repeat_of")


def _r1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def centre_row(report: Report, c: CentreFigures, lang: str = "zh") -> dict[str, Any]:
    """The values of one centre's row, keyed by :data:`CSV_HEADER`. None is "no figure" (shown
    as "—" on the page, an empty cell in CSV and XLSX), never 0 %."""
    s = report.score_of(c.centre_id)
    row: dict[str, Any] = {
        "centre_id": c.centre_id, "centre_name": c.name(lang),
        "period_from": report.period.first.isoformat(), "period_to": report.period.last.isoformat(),
        "rank": s.rank if s else None, "points": s.points if s else 0,
        "received": c.received, "received_major": c.by_level.get("major", 0), "received_general": c.by_level.get("general", 0),
    }
    for lim in LIMITS:
        f = c.limits[lim]
        row[f"{lim}_judged"] = f.judged
        row[f"{lim}_late"] = f.late
        row[f"{lim}_on_time_pct"] = _r1(f.on_time_pct)
    for name, d in (("accept", c.to_accept), ("arrive", c.to_arrive), ("close", c.to_close)):
        row[f"{name}_median_min"] = d.median
        row[f"{name}_p90_min"] = d.p90
    row.update({
        "delays_asked": c.delays_asked, "delays_approved": c.delays_approved, "delays_rejected": c.delays_rejected,
        "returns_asked": c.returns_asked, "transfers_out": c.transfers_out, "transfers_in": c.transfers_in,
        "closed": c.closed_done, "reopened": c.reopened, "reopened_pct": _r1(c.reopened_pct), "repeat_faults": c.repeat_faults,
        "complaints_2plus": c.complaints_2plus, "followups_asked": c.followups_asked, "followups_reached": c.followups_reached,
        "reached_pct": _r1(c.reached_pct), "followups_answered": c.answered, "satisfied": c.satisfied,
        "satisfied_pct": _r1(c.satisfied_pct), "ratings": c.ratings,
        "rating_mean": None if c.rating_mean is None else round(c.rating_mean, 2),
        "notices_due": c.notices_due, "notices_late": c.notices_late, "notices_on_time_pct": _r1(c.notices_on_time_pct),
        "praise": c.praise, "criticism": c.criticism, "press": c.press, "supervision": c.supervision,
        "households": c.households, "complaints_per_1000": None if c.complaints_per_1000 is None else round(c.complaints_per_1000, 2),
    })
    assert tuple(row) == CSV_HEADER, "centre_row and CSV_HEADER must list the same columns in the same order"
    return row


def _rows(report: Report, lang: str) -> list[dict[str, Any]]:
    """Centres in rank order (highest points first)."""
    return [centre_row(report, c, lang) for _, c in report.ranked()]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"
    return str(value)


def to_csv(report: Report, lang: str = "zh") -> str:
    """One row per centre under :data:`CSV_HEADER` (UTF-8; numbers unformatted; empty = no figure)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in _rows(report, lang):
        writer.writerow([_cell(row[k]) for k in CSV_HEADER])
    return out.getvalue()


def _event_row(report: Report, e: CountedEvent, points: int, tz: tzinfo) -> list[Any]:
    rule = report.rules.points.get(e.kind)
    return [e.centre_id, e.kind, rule.article if rule else "", points, e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            e.number or None, e.outage_id, e.entry_id, e.minutes]


def to_xlsx(report: Report, tz: tzinfo, lang: str = "zh") -> bytes:
    """Three sheets: figures (as the CSV), events (the points behind the ranking), tickets."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("figures")
    sheet.append(list(CSV_HEADER))
    for row in _rows(report, lang):
        sheet.append([row[k] for k in CSV_HEADER])
    sheet = book.create_sheet("events")
    sheet.append(list(EVENT_HEADER))
    for s in report.scores:
        for e, points in s.events:
            sheet.append(_event_row(report, e, points, tz))
    sheet = book.create_sheet("tickets")
    sheet.append(list(TICKET_HEADER))

    def local(value: datetime | None) -> str | None:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else None

    for t in report.tickets:
        sheet.append([t.number, local(t.received_at), t.centre_id, t.category, t.source, t.level, t.status, t.outcome,
                      local(t.accepted_at), local(t.arrived_at), local(t.closed_at), ", ".join(t.late_limits),
                      t.reopen_count, t.complaints, f"{t.repeat_of:04d}" if t.repeat_of else None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _article(report: Report, kind: str, lang: str) -> str:
    rule = report.rules.points.get(kind)
    if rule is None:
        return ""
    return article_zh(rule.article) if lang == "zh" else rule.article


_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1-99 in Chinese numerals, as the regulation numbers its articles (第二十三条)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return _DIGITS[n]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def article_zh(text: str) -> str:
    """"Art. 23 (1)" → "第二十三条（一）", so a Chinese reader sees the regulation as written."""
    text = re.sub(r"Art\. (\d+)", lambda m: f"第{_cn_number(int(m.group(1)))}条", text)
    return re.sub(r"\s*\((\d+)\)", lambda m: f"（{_cn_number(int(m.group(1)))}）", text)


def to_html(report: Report, texts, lang: str, charts: list[Chart] | None = None, *, ticket_url: str | None = None) -> str:
    """One self-contained printable page (templates/<lang>/report.html). ``ticket_url`` is a
    format string with ``{number}`` for ticket links (e.g. the web board's), or None for none."""
    rows = _rows(report, lang)
    per_centre = []
    by_id = {c.centre_id: c for c in report.centres}
    for s in report.scores:
        c = by_id.get(s.centre_id)
        if c is None:
            continue
        per_centre.append({"centre": c, "score": s, "events": [
            {"event": e, "points": p, "article": _article(report, e.kind, lang),
             "url": ticket_url.format(number=e.number) if ticket_url and e.ticket_id else None}
            for e, p in s.events]})
    return texts.page(lang, "report", report=report, rows=rows, per_centre=per_centre, charts=charts or [],
                      figures=FIGURES, tz=texts.tz, cell=_cell,
                      names={c.centre_id: c.name(lang) for c in report.centres})
