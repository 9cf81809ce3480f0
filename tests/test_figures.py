"""The assessment figures against a hand-built ledger: a dozen tickets whose every figure is
worked out by hand below, checked in the figures themselves and in all three report formats
(HTML, CSV, XLSX).

Centres (org.example.toml): N = repair-north (heping 2,000 and xingfuli 1,000 households),
S = repair-south (yangguang 1,500; lijingwan and jianshe give no count), NET = network-station
(heping, xingfuli, yangguang, lijingwan: 4,500), M = metering and A = automation: no tickets.
Limits (rules/policy.toml): accept 30 min; on site 60 (network burst 40); close 12 h major
(not_warm, network_burst), 24 h general (room_temp); written report 8 h. All times local
(Asia/Shanghai); the period is January 2026 local, [2025-12-31 16:00Z, 2026-01-31 16:00Z).

T1  N not_warm 01-10 09:00: accept 09:10, arrive 09:50, close 12:00 (all on time); solved, rated 5.
T2  N not_warm 01-10 10:00: the sweeper's overdue at 10:30 exactly, accept at 10:30 exactly (a
    limit met at its deadline is on time), arrive 10:55, close 13:00; follow-up unanswered.
T3  N not_warm 01-10 11:00 (mayor's hotline): overdue 11:30, accept 11:31 (one minute late),
    arrive 11:50, close 14:00; unanswered.
T4  S room_temp 01-10 08:00: accept 08:20; delay for on site asked 08:50 to 09:30, approved
    08:55; arrive 09:20 (after the original 09:00, before the moved limit: on time); close 12:00;
    solved, no rating.
T5  S room_temp 01-10 09:00: accept 09:05; delay asked 09:40, rejected 09:45; overdue 10:00;
    arrive 10:20 (late); close 11:00; phoned: unreachable.
T6  N not_warm 01-10 10:00: N accepts 10:10; return asked 10:20; on site passes at N
    (overdue 11:00); transferred to S 11:10 (accept restarts, due 11:40); S accepts 11:30,
    arrives 11:45 (late against N, who held it when the limit passed), closes 13:00; solved, 4.
T7  N room_temp 01-12 09:00: accept 09:10, arrive 09:40, close 10:00; "not solved" 10:30
    (reopened: fresh on site 11:30 and close limits); arrive 11:00, close 12:00; solved, 3.
T8  N room_temp 01-20 09:00, same flat as T7: a repeat fault of T7 (N repaired it); accept
    09:10, arrive 09:50, close 11:00; phoned 01-21 10:00: satisfied.
T9  S not_warm 01-15 20:00: accept 20:10; complaints 20:20 (1) and 20:40 (2: two or more);
    overdue on site 21:00; arrive 21:30 (late); close limit passes 01-16 08:00 unmet (overdue).
T10 N not_warm 01-31 23:50: received in January; accept 02-01 00:05 is February's.
T11 N not_warm 12-31 23:55: received in December; accept 01-01 00:10, arrive 00:40, close 02:00
    are January's (on time); follow-up unanswered.
T12 NET network_burst 01-18 14:00: accept 14:10, arrive 14:35 (limit 14:40), coordination
    15:00 (report due 23:00), overdue report 23:00, report 23:30 (late), close 01-19 01:00
    (limit 02:00); phoned: basically satisfied.
Register: praise for S (crew 5011) 01-22; press exposure for N 01-25 (ticket T3).
Notices: N due 01-05 10:00 posted 11:00 (late); S due 01-06 10:00 posted 09:00.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.orgfile import check_org
from bot.report import CSV_HEADER, build_report, to_csv, to_html, to_xlsx
from bot.texts import Texts
from rules.assessment import period_between, period_of
from rules.policy import load_policy
from storage.db import open_database
from storage.org import replace_org
from tests.ledger import TZ, Ledger, local

ROOT = Path(__file__).resolve().parent.parent
JANUARY = period_between(date(2026, 1, 1), date(2026, 1, 31), TZ)
MADE = local("2026-02-02 09:00")


def _org_with_households():
    text = (ROOT / "org.example.toml").read_text(encoding="utf-8")
    for community, households in (("heping", 2000), ("xingfuli", 1000), ("yangguang", 1500)):
        text = text.replace(f'id = "{community}"\n', f'id = "{community}"\nhouseholds = {households}\n', 1)
    org, issues = check_org(text)
    assert org is not None, issues
    return org


@pytest.fixture
async def db(database):
    """The hand-built ledger's database, on each backend: the figures must be the same."""
    opened = await open_database(database)
    async with opened.transaction() as conn:
        await replace_org(conn, _org_with_households())
    yield opened
    await opened.close()


async def _season(conn) -> dict[str, int]:
    lg = Ledger(conn)
    N, S, NET = "repair-north", "repair-south", "network-station"
    t = {}
    t["T1"] = await lg.ticket(N, "not_warm", "heping", "2026-01-10 09:00", address="1-1-101")
    await lg.step(t["T1"], "accept", "2026-01-10 09:10", 5001)
    await lg.step(t["T1"], "arrive", "2026-01-10 09:50", 5001)
    await lg.step(t["T1"], "close", "2026-01-10 12:00", 5001)
    await lg.solved(t["T1"], "2026-01-10 12:30", 5)

    t["T2"] = await lg.ticket(N, "not_warm", "heping", "2026-01-10 10:00", address="1-1-102")
    await lg.overdue(t["T2"], "accept", "2026-01-10 10:30")
    await lg.step(t["T2"], "accept", "2026-01-10 10:30", 5001)
    await lg.step(t["T2"], "arrive", "2026-01-10 10:55", 5001)
    await lg.step(t["T2"], "close", "2026-01-10 13:00", 5001)

    t["T3"] = await lg.ticket(N, "not_warm", "xingfuli", "2026-01-10 11:00", source="mayor_hotline", address="2-1-101")
    await lg.overdue(t["T3"], "accept", "2026-01-10 11:30")
    await lg.step(t["T3"], "accept", "2026-01-10 11:31", 5001)
    await lg.step(t["T3"], "arrive", "2026-01-10 11:50", 5001)
    await lg.step(t["T3"], "close", "2026-01-10 14:00", 5001)

    t["T4"] = await lg.ticket(S, "room_temp", "yangguang", "2026-01-10 08:00", address="3-1-101")
    await lg.step(t["T4"], "accept", "2026-01-10 08:20", 5011, "张师傅")
    await lg.delay(t["T4"], "onsite", "2026-01-10 08:50", "2026-01-10 09:30", "2026-01-10 08:55", approved=True)
    await lg.step(t["T4"], "arrive", "2026-01-10 09:20", 5011, "张师傅")
    await lg.step(t["T4"], "close", "2026-01-10 12:00", 5011, "张师傅")
    await lg.solved(t["T4"], "2026-01-10 12:10", None)

    t["T5"] = await lg.ticket(S, "room_temp", "lijingwan", "2026-01-10 09:00", address="4-1-101")
    await lg.step(t["T5"], "accept", "2026-01-10 09:05", 5011, "张师傅")
    await lg.delay(t["T5"], "onsite", "2026-01-10 09:40", "2026-01-10 10:30", "2026-01-10 09:45", approved=False)
    await lg.overdue(t["T5"], "onsite", "2026-01-10 10:00")
    await lg.step(t["T5"], "arrive", "2026-01-10 10:20", 5011, "张师傅")
    await lg.step(t["T5"], "close", "2026-01-10 11:00", 5011, "张师傅")
    await lg.phoned(t["T5"], "2026-01-11 11:00", "2026-01-11 15:00", "unreachable")

    t["T6"] = await lg.ticket(N, "not_warm", "heping", "2026-01-10 10:00", address="1-2-101")
    await lg.step(t["T6"], "accept", "2026-01-10 10:10", 5002, "李师傅")
    await lg.transfer(t["T6"], "2026-01-10 10:20", "2026-01-10 11:10", S)
    await lg.overdue(t["T6"], "onsite", "2026-01-10 11:00")   # at N: the transfer came at 11:10
    await lg.step(t["T6"], "accept", "2026-01-10 11:30", 5011, "张师傅")
    await lg.step(t["T6"], "arrive", "2026-01-10 11:45", 5011, "张师傅")
    await lg.step(t["T6"], "close", "2026-01-10 13:00", 5011, "张师傅")
    await lg.solved(t["T6"], "2026-01-10 14:00", 4)

    t["T7"] = await lg.ticket(N, "room_temp", "xingfuli", "2026-01-12 09:00", address="2-2-202")
    await lg.step(t["T7"], "accept", "2026-01-12 09:10", 5001)
    await lg.step(t["T7"], "arrive", "2026-01-12 09:40", 5001)
    await lg.step(t["T7"], "close", "2026-01-12 10:00", 5001)
    await lg.reopen(t["T7"], "2026-01-12 10:30")
    await lg.step(t["T7"], "arrive", "2026-01-12 11:00", 5001)
    await lg.step(t["T7"], "close", "2026-01-12 12:00", 5001)
    await lg.solved(t["T7"], "2026-01-12 12:10", 3)

    t["T8"] = await lg.ticket(N, "room_temp", "xingfuli", "2026-01-20 09:00", address="2-2-202")
    await lg.repeat_of(t["T8"], t["T7"], "2026-01-20 09:00")
    await lg.step(t["T8"], "accept", "2026-01-20 09:10", 5001)
    await lg.step(t["T8"], "arrive", "2026-01-20 09:50", 5001)
    await lg.step(t["T8"], "close", "2026-01-20 11:00", 5001)
    await lg.phoned(t["T8"], "2026-01-21 11:00", "2026-01-21 10:00", "satisfied")

    t["T9"] = await lg.ticket(S, "not_warm", "yangguang", "2026-01-15 20:00", address="3-3-303")
    await lg.step(t["T9"], "accept", "2026-01-15 20:10", 5011, "张师傅")
    await lg.complaint(t["T9"], "2026-01-15 20:20")
    await lg.complaint(t["T9"], "2026-01-15 20:40")
    await lg.overdue(t["T9"], "onsite", "2026-01-15 21:00")
    await lg.step(t["T9"], "arrive", "2026-01-15 21:30", 5011, "张师傅")
    await lg.overdue(t["T9"], "close", "2026-01-16 08:00")

    t["T10"] = await lg.ticket(N, "not_warm", "heping", "2026-01-31 23:50", address="1-3-101")
    await lg.step(t["T10"], "accept", "2026-02-01 00:05", 5001)

    t["T11"] = await lg.ticket(N, "not_warm", "heping", "2025-12-31 23:55", address="1-3-102")
    await lg.step(t["T11"], "accept", "2026-01-01 00:10", 5001)
    await lg.step(t["T11"], "arrive", "2026-01-01 00:40", 5001)
    await lg.step(t["T11"], "close", "2026-01-01 02:00", 5001)

    t["T12"] = await lg.ticket(NET, "network_burst", "heping", "2026-01-18 14:00", address="1号楼")
    await lg.step(t["T12"], "accept", "2026-01-18 14:10", 5021, "杨师傅")
    await lg.step(t["T12"], "arrive", "2026-01-18 14:35", 5021, "杨师傅")
    await lg.coordination(t["T12"], "2026-01-18 15:00")
    await lg.overdue(t["T12"], "report", "2026-01-18 23:00")
    await lg.report(t["T12"], "2026-01-18 23:30")
    await lg.step(t["T12"], "close", "2026-01-19 01:00", 5021, "杨师傅")
    await lg.phoned(t["T12"], "2026-01-20 01:00", "2026-01-20 10:00", "basic")

    await lg.register("praise", S, "2026-01-22 10:00", staff=5011)
    await lg.register("press", N, "2026-01-25 10:00", ticket=t["T3"])
    await lg.notice(N, "2026-01-05 10:00", "2026-01-05 11:00")
    await lg.notice(S, "2026-01-06 10:00", "2026-01-06 09:00")
    return t


# Worked out by hand from the story above, per centre, as bot.report.centre_row gives them.
EXPECTED = {
    "repair-north": {
        # T1 T2 T3 T6 T7 T8 T10 (first routed to N); T3 from the mayor's hotline; T7 T8 general
        "received": 7, "received_major": 5, "received_general": 2,
        # accept: T1 T2(at the deadline) T3(late) T6(N's) T7 T8 T11 = 7, 1 late
        "accept_judged": 7, "accept_late": 1, "accept_on_time_pct": 85.7,
        # on site: T1 T2 T3 T6(late, N held it at 11:00) T7 T7(after the reopen) T8 T11 = 8, 1 late
        "onsite_judged": 8, "onsite_late": 1, "onsite_on_time_pct": 87.5,
        # close: T1 T2 T3 T7 T7 T8 T11 = 7, none late
        "close_judged": 7, "close_late": 0, "close_on_time_pct": 100.0,
        "report_judged": 0, "report_late": 0, "report_on_time_pct": None,
        # accept minutes [10 10 10 10 15 30 31]: median (4th) 10, P90 (7th) 31
        "accept_median_min": 10.0, "accept_p90_min": 31.0,
        # arrive minutes [40 45 50 50 50 55 120]
        "arrive_median_min": 50.0, "arrive_p90_min": 120.0,
        # close minutes [60 120 125 180 180 180 180]
        "close_median_min": 180.0, "close_p90_min": 180.0,
        "delays_asked": 0, "delays_approved": 0, "delays_rejected": 0,
        "returns_asked": 1, "transfers_out": 1, "transfers_in": 0,
        # closings T1 T2 T3 T7 T7 T8 T11 = 7; one reopen: 14.3 %
        "closed": 7, "reopened": 1, "reopened_pct": 14.3, "repeat_faults": 1, "complaints_2plus": 0,
        # asked at each closing: 7; reached T1, T7 (by its reopen), T7 again, T8 (phoned) = 4
        "followups_asked": 7, "followups_reached": 4, "reached_pct": 57.1,
        # answered: T1 solved, T7 reopened, T7 solved, T8 phoned satisfied = 4; satisfied T1 (5), T8 = 2
        "followups_answered": 4, "satisfied": 2, "satisfied_pct": 50.0,
        "ratings": 2, "rating_mean": 4.0,
        "notices_due": 1, "notices_late": 1, "notices_on_time_pct": 0.0,
        "praise": 0, "criticism": 0, "press": 1, "supervision": 0,
        # 7 per 3,000 households
        "households": 3000, "complaints_per_1000": 2.33,
        # late accept -1, late on site -2, reopened -1, repeat fault -3, press -5, notice late -2
        "points": -14, "rank": 5,
    },
    "repair-south": {
        "received": 3, "received_major": 1, "received_general": 2,
        # accept: T4 T5 T6(S's own, restarted at the transfer) T9 = 4
        "accept_judged": 4, "accept_late": 0, "accept_on_time_pct": 100.0,
        # on site: T4 (delayed, met) T5 (late) T9 (late) = 3; T6's late arrival is N's
        "onsite_judged": 3, "onsite_late": 2, "onsite_on_time_pct": 33.3,
        # close: T4 T5 T6 on time, T9 passed unmet = 4, 1 late
        "close_judged": 4, "close_late": 1, "close_on_time_pct": 75.0,
        "report_judged": 0, "report_late": 0, "report_on_time_pct": None,
        # accept [5 10 20 90]: median (2nd) 10, P90 (4th) 90
        "accept_median_min": 10.0, "accept_p90_min": 90.0,
        # arrive [80 80 90 105]
        "arrive_median_min": 80.0, "arrive_p90_min": 105.0,
        # close [120 180 240]
        "close_median_min": 180.0, "close_p90_min": 240.0,
        "delays_asked": 2, "delays_approved": 1, "delays_rejected": 1,
        "returns_asked": 0, "transfers_out": 0, "transfers_in": 1,
        "closed": 3, "reopened": 0, "reopened_pct": 0.0, "repeat_faults": 0, "complaints_2plus": 1,
        # asked T4 T5 T6; reached T4 T6 (T5 unreachable)
        "followups_asked": 3, "followups_reached": 2, "reached_pct": 66.7,
        "followups_answered": 2, "satisfied": 2, "satisfied_pct": 100.0,
        # T4 answered without a rating; T6 rated 4
        "ratings": 1, "rating_mean": 4.0,
        "notices_due": 1, "notices_late": 0, "notices_on_time_pct": 100.0,
        "praise": 1, "criticism": 0, "press": 0, "supervision": 0,
        "households": 1500, "complaints_per_1000": 2.0,
        # late on site -2 -2, late close -2, 2+ complaints -2, praise +3
        "points": -5, "rank": 4,
    },
    "network-station": {
        "received": 1, "received_major": 1, "received_general": 0,
        "accept_judged": 1, "accept_late": 0, "accept_on_time_pct": 100.0,
        "onsite_judged": 1, "onsite_late": 0, "onsite_on_time_pct": 100.0,
        "close_judged": 1, "close_late": 0, "close_on_time_pct": 100.0,
        "report_judged": 1, "report_late": 1, "report_on_time_pct": 0.0,
        "accept_median_min": 10.0, "accept_p90_min": 10.0, "arrive_median_min": 35.0, "arrive_p90_min": 35.0,
        "close_median_min": 660.0, "close_p90_min": 660.0,
        "delays_asked": 0, "delays_approved": 0, "delays_rejected": 0, "returns_asked": 0, "transfers_out": 0, "transfers_in": 0,
        "closed": 1, "reopened": 0, "reopened_pct": 0.0, "repeat_faults": 0, "complaints_2plus": 0,
        "followups_asked": 1, "followups_reached": 1, "reached_pct": 100.0,
        "followups_answered": 1, "satisfied": 1, "satisfied_pct": 100.0, "ratings": 0, "rating_mean": None,
        "notices_due": 0, "notices_late": 0, "notices_on_time_pct": None,
        "praise": 0, "criticism": 0, "press": 0, "supervision": 0,
        "households": 4500, "complaints_per_1000": 0.22,
        "points": -1, "rank": 3,
    },
}
# No tickets at all: zeros, and no rate at all ("—"), never 0 % or 100 %.
EMPTY_CENTRE = {
    "received": 0, "accept_judged": 0, "accept_on_time_pct": None, "close_on_time_pct": None, "accept_median_min": None,
    "reopened_pct": None, "reached_pct": None, "satisfied_pct": None, "rating_mean": None, "notices_on_time_pct": None,
    "points": 0, "rank": 1,
}


def _csv_value(text: str):
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _same(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected
    if isinstance(expected, float) or isinstance(actual, float):
        return abs(float(actual) - float(expected)) < 0.051
    return actual == expected


def _check(row: dict, expected: dict, where: str) -> None:
    wrong = {k: (row.get(k), v) for k, v in expected.items() if not _same(row.get(k), v)}
    assert wrong == {}, f"{where}: (got, expected) {wrong}"


class _Cells(HTMLParser):
    """The HTML report's figures: {centre: {figure: text}} from data-centre / data-figure."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, dict[str, str]] = {}
        self._centre: str | None = None
        self._figure: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self._centre = a.get("data-centre")
        if self._centre is not None and "data-figure" in a:
            self._figure, self._text = a["data-figure"], ""

    def handle_data(self, data):
        if self._figure is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._figure is not None and tag in ("td", "span"):
            self.cells.setdefault(self._centre, {})[self._figure] = self._text.strip()
            self._figure = None


def _html_value(text: str):
    return None if text == "—" else _csv_value(text.rstrip("%"))


async def _report(db, period=JANUARY, centre_id=None):
    policy = load_policy()
    return await build_report(db.conn, period, tz=TZ, rules=policy.assessment, made_at=MADE, centre_id=centre_id)


async def test_every_figure_of_the_hand_built_ledger_is_the_one_worked_out_by_hand(db):
    async with db.transaction() as conn:
        await _season(conn)
    report = await _report(db)
    rows = {r["centre_id"]: r for r in (__import__("bot.report", fromlist=["centre_row"]).centre_row(report, c) for c in report.centres)}
    for centre, expected in EXPECTED.items():
        _check(rows[centre], expected, centre)
    for centre in ("metering", "automation"):
        _check(rows[centre], EMPTY_CENTRE, centre)


async def test_the_csv_the_xlsx_and_the_html_show_exactly_those_figures(db):
    async with db.transaction() as conn:
        await _season(conn)
    report = await _report(db)
    text = to_csv(report)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == CSV_HEADER
    csv_rows = {r["centre_id"]: {k: _csv_value(v) for k, v in r.items()} for r in reader}
    book = load_workbook(io.BytesIO(to_xlsx(report, TZ)), read_only=True)
    assert book.sheetnames == ["figures", "events", "tickets"]
    sheet = list(book["figures"].iter_rows(values_only=True))
    assert tuple(sheet[0]) == CSV_HEADER
    xlsx_rows = {r[0]: dict(zip(CSV_HEADER, r)) for r in sheet[1:]}
    cells = _Cells()
    cells.feed(to_html(report, Texts(TZ), "zh"))
    html_rows = {c: {k: _html_value(v) for k, v in figs.items()} for c, figs in cells.cells.items()}
    for centre, expected in EXPECTED.items():
        _check(csv_rows[centre], expected, f"CSV {centre}")
        _check(xlsx_rows[centre], expected, f"XLSX {centre}")
        shown = {k: v for k, v in expected.items() if k in html_rows[centre]}
        assert len(shown) >= 30, f"the HTML shows too few figures: {sorted(shown)}"
        _check(html_rows[centre], shown, f"HTML {centre}")
    # The ranking: metering and automation (0 points) share the first place, then NET, S, N.
    assert [r["centre_id"] for r in csv.DictReader(io.StringIO(text))] == [
        "automation", "metering", "network-station", "repair-south", "repair-north"]
    # The events sheet lists what the points come from, with ticket numbers.
    events = list(book["events"].iter_rows(values_only=True))[1:]
    north = sorted((e[1], e[5]) for e in events if e[0] == "repair-north")
    assert north == sorted([("late_accept", "0003"), ("late_onsite", "0006"), ("reopened", "0007"), ("repeat_fault", "0008"),
                            ("press", "0003"), ("notice_late", None)])
    tickets = list(book["tickets"].iter_rows(values_only=True))[1:]
    assert sorted(t[0] for t in tickets) == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0012"]


async def test_a_late_limit_counts_against_the_centre_holding_the_ticket_when_it_passed(db):
    async with db.transaction() as conn:
        t = await _season(conn)
    report = await _report(db)
    late_onsite = {(e.centre_id, e.ticket_id) for e in report.events if e.kind == "late_onsite"}
    assert ("repair-north", t["T6"]) in late_onsite and ("repair-south", t["T6"]) not in late_onsite
    # The crew member who arrived late is still the one who pressed Arrived late.
    crew = {m.user_id: m for m in report.crew}
    assert crew[5011].late == 3          # T5 and T9 arrivals, and T6's arrival for S
    assert (crew[5001].accepted, crew[5001].arrived, crew[5001].closed, crew[5001].late) == (6, 7, 7, 1)
    assert (crew[5001].ratings, crew[5001].rating_mean) == (2, 4.0)
    assert crew[5011].praise == 1


async def test_an_empty_period_has_every_centre_with_no_figures_and_nothing_to_count(db):
    async with db.transaction() as conn:
        await _season(conn)
    report = await _report(db, period_between(date(2026, 3, 1), date(2026, 3, 31), TZ))
    assert report.events == [] and report.crew == [] and report.tickets == []
    assert {s.points for s in report.scores} == {0}
    for c in report.centres:
        assert c.received == 0 and c.limits["accept"].on_time_pct is None and c.rating_mean is None
    assert "—" in to_html(report, Texts(TZ), "en")
    assert len(to_csv(report).splitlines()) == 1 + 5


async def test_the_month_boundary_is_the_company_s_midnight_not_utc(db):
    async with db.transaction() as conn:
        t = await _season(conn)
    february = await _report(db, period_between(date(2026, 2, 1), date(2026, 2, 28), TZ))
    north = next(c for c in february.centres if c.centre_id == "repair-north")
    # T10 was received at 23:50 on 31 January (15:50 UTC): January's; its Accept at 00:05 is February's.
    assert north.received == 0 and north.limits["accept"].judged == 1
    december = await _report(db, period_between(date(2025, 12, 1), date(2025, 12, 31), TZ))
    assert [r.id for r in december.tickets] == [t["T11"]]
    days = {d.day: d for d in (await _report(db)).daily}
    assert len(days) == 31 and days[date(2026, 1, 10)].received == 6
    # late on 10 January: T3's accept, T5's on site, T6's on site
    assert days[date(2026, 1, 10)].late == 3


async def test_one_centre_s_report_has_its_row_and_its_events_only(db):
    async with db.transaction() as conn:
        await _season(conn)
    report = await _report(db, centre_id="repair-south")
    assert [c.centre_id for c in report.centres] == ["repair-south"]
    assert {e.centre_id for e in report.events} == {"repair-south"}
    _check(__import__("bot.report", fromlist=["centre_row"]).centre_row(report, report.centres[0]),
           {k: v for k, v in EXPECTED["repair-south"].items() if k != "rank"}, "south alone")


def test_periods_are_local_days_weeks_and_months():
    now = local("2026-01-01 07:00")      # 23:00 UTC on 31 December
    month = period_of("month", now, TZ)
    assert (month.first, month.last) == (date(2026, 1, 1), date(2026, 1, 31))
    assert month.start.isoformat() == "2026-01-01T00:00:00+08:00"
    week = period_of("week", local("2026-01-15 12:00"), TZ)
    assert (week.first, week.last) == (date(2026, 1, 12), date(2026, 1, 18))


def test_the_readme_defines_each_figure_and_each_point_as_the_code_does():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from rules.assessment import FIGURES
    for f in FIGURES:
        assert f"| `{f.key}` | {f.article} | {f.definition} |" in readme, f.key
    for kind, rule in load_policy().assessment.points.items():
        assert f"| `{kind}` | {rule.article} | {rule.points:+d} |" in readme, kind
    assert ",".join(CSV_HEADER) in readme


def test_the_policy_refuses_an_assessment_section_with_an_event_missing_or_unknown(tmp_path):
    from rules.errors import PolicyError
    text = (ROOT / "rules" / "policy.toml").read_text(encoding="utf-8")
    for broken in (text.replace('late_close = { points = -2, article = "Art. 23 (1)" }', ""),
                   text.replace("[assessment]\n", "[assessment]\nlate_lunch = { points = -1, article = \"Art. 99\" }\n"),
                   text.replace('praise = { points = 3, article = "Art. 18" }', 'praise = { points = "3", article = "Art. 18" }')):
        path = tmp_path / "policy.toml"
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(PolicyError):
            load_policy(path)


async def test_a_chinese_reader_sees_no_english_on_the_report_page(db):
    import re
    async with db.transaction() as conn:
        await _season(conn)
    page = to_html(await _report(db), Texts(TZ), "zh")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|title)>.*?</\1>", " ", page, flags=re.S))
    assert re.findall(r"[A-Za-z]{2,}", visible) == []
    assert "第二十三条（一）" in visible and "#0006" in visible
