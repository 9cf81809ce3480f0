"""The assessment figures in Telegram (Art. 8, Art. 10 (1)): ``/stats today|week|month`` in the
dispatch and leadership groups, and the weekly and monthly report to the leadership group.

Each answer is a short table (one line per centre) and one chart, the on-time % per centre.
The weekly and monthly report adds the printable page as a document when the report module
can render one. The figures come from ``storage.figures`` (counted from the ledger, never from
a counter of our own); the charts from ``bot.charts``; the words from templates/.

The chart is drawn once, when asked for, and its PNG travels on the outbox row: what is sent
is the figures as they were when the command came, however long the message waits.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot import charts, escalation
from bot.payload import message
from bot.report import Chart, Report, build_report, to_html
from bot.services import Services, Who
from bot.texts import Texts
from rules.assessment import LIMITS, CentreFigures, DayCount, period_between
from rules.reports import ReportDue, due_reports, stats_period
from rules.roles import may_see_stats
from storage import figures, org, reports
from storage.outbox import Priority, enqueue_message

__all__ = ["stats_command", "send_due_reports", "parse_period", "Snapshot", "snapshot", "draw_on_time_chart", "draw_charts", "chart_message",
           "report_charts"]

log = logging.getLogger(__name__)

# What people type after /stats, forgivingly: the English words, their first letters, Chinese.
_PERIOD_WORDS = {
    "today": "today", "t": "today", "day": "today", "d": "today", "今天": "today", "今日": "today", "日": "today",
    "week": "week", "w": "week", "本周": "week", "周": "week",
    "month": "month", "m": "month", "本月": "month", "月": "month",
}


def parse_period(arg: str) -> str | None:
    """``today``, ``week`` or ``month`` from what followed /stats (nothing: today); None if
    it is none of them."""
    word = arg.strip().lower()
    return "today" if not word else _PERIOD_WORDS.get(word)


@dataclass(frozen=True)
class Snapshot:
    """The figures of one period, as read in one transaction."""
    first: date
    last: date
    centres: list[CentreFigures]
    days: list[DayCount]

    @property
    def received(self) -> int:
        return sum(c.received for c in self.centres)

    @property
    def late(self) -> int:
        return sum(c.limits[k].late for c in self.centres for k in LIMITS)


async def snapshot(conn: aiosqlite.Connection, svc: Services, first: date, last: date, now: datetime) -> Snapshot:
    period = period_between(first, last, svc.tz)
    # A period still running is judged as of now: a limit not yet due is not late yet.
    as_of = min(now, period.end)
    centres = await figures.centre_figures(conn, period.start, period.end, as_of=as_of)
    days = await figures.daily_counts(conn, period.start, period.end, svc.tz)
    return Snapshot(first, last, centres, days)


def _idle(c: CentreFigures) -> bool:
    """Nothing to show: no ticket received, no limit judged, no follow-up answered."""
    return c.received == 0 and c.answered == 0 and all(c.limits[k].judged == 0 for k in LIMITS)


def _rows(snap: Snapshot, lang: str) -> list[dict]:
    return [{"name": c.name(lang), "received": c.received, "accept": c.limits["accept"].on_time_pct,
             "onsite": c.limits["onsite"].on_time_pct, "close": c.limits["close"].on_time_pct,
             "satisfied": c.satisfied_pct} for c in snap.centres if not _idle(c)]


def _say(t: Texts, lang: str):
    def say(name: str, **ctx) -> str:
        return t.render(lang, f"stats.{name}", **ctx)
    return say


def _shown(snap: Snapshot) -> list:
    # The centres with something to show; when none has, each chart says "no data".
    return [c for c in snap.centres if not _idle(c)]


def draw_on_time_chart(t: Texts, lang: str, snap: Snapshot) -> Chart:
    """On-time % per centre: the chart /stats sends and the board shows. CPU-bound: call it in a thread."""
    say, shown = _say(t, lang), _shown(snap)
    title = say("chart_on_time")
    return Chart(title, charts.on_time_chart(
        title, [c.name(lang) for c in shown],
        [(say(f"series_{k}"), [c.limits[k].on_time_pct for c in shown]) for k in ("accept", "onsite", "close")],
        axis_label=say("axis_percent"), no_data=say("no_data")))


def draw_charts(t: Texts, lang: str, snap: Snapshot) -> list[Chart]:
    """The three charts of a period for the report: on-time % per centre, received and late by
    day, satisfaction per centre. Synchronous and CPU-bound: call it in a thread."""
    say, shown = _say(t, lang), _shown(snap)
    daily = say("chart_daily")
    satisfaction = say("chart_satisfaction")
    return [
        draw_on_time_chart(t, lang, snap),
        Chart(daily, charts.daily_chart(
            daily, [say("day", d=d.day) for d in snap.days], [d.received for d in snap.days], [d.late for d in snap.days],
            received_label=say("received"), late_label=say("late"), axis_label=say("axis_tickets"))),
        Chart(satisfaction, charts.satisfaction_chart(
            satisfaction, [c.name(lang) for c in shown], [c.satisfied_pct for c in shown], axis_label=say("axis_percent"),
            no_data=say("no_data"))),
    ]


def chart_message(chart: Chart) -> dict:
    """An outbox payload that sends ``chart`` as a photo (its bytes are attached to the row)."""
    payload = message(chart.title)
    payload["file"] = {"as": "photo", "name": "chart.png"}
    return payload


async def _enqueue_figures(conn: aiosqlite.Connection, svc: Services, chat_id: int, lang: str, title_kind: str,
                           snap: Snapshot, chart: Chart, now: datetime, purpose: str,
                           document: tuple[str, bytes, str] | None = None) -> None:
    t = svc.texts
    text = t.render(lang, "stats.table", title=t.render(lang, "stats.title", kind=title_kind), first=snap.first,
                    last=snap.last, rows=_rows(snap, lang), idle=[c.name(lang) for c in snap.centres if _idle(c)],
                    total=snap.received, late=snap.late)
    await enqueue_message(conn, chat_id, message(text), priority=Priority.STATUS, purpose=purpose, now=now)
    photo = await enqueue_message(conn, chat_id, chart_message(chart), priority=Priority.STATUS, purpose=purpose, now=now)
    await reports.attach_file(conn, photo, chart.png)
    if document is not None:
        name, data, caption = document
        payload = message(caption)
        payload["file"] = {"as": "document", "name": name}
        row = await enqueue_message(conn, chat_id, payload, priority=Priority.STATUS, purpose=purpose, now=now)
        await reports.attach_file(conn, row, data)


async def stats_command(svc: Services, who: Who, chat_id: int, arg: str) -> None:
    """``/stats [today|week|month]``: the table and the on-time chart, in the dispatch group
    (dispatch) or the leadership group (anyone there); refused politely elsewhere."""
    lang, t = svc.default_lang, svc.texts
    now = svc.clock.now()
    kind = parse_period(arg)
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        leadership = await org.get_setting(conn, "leadership_chat_id")
        allowed = may_see_stats(staff, in_dispatch_group=chat_id == dispatch, in_leadership_group=chat_id == leadership)
        answer = None if allowed and kind is not None else t.render(lang, "stats.refused" if not allowed else "stats.usage")
        if answer is not None:
            await enqueue_message(conn, chat_id, message(answer), priority=Priority.STATUS, purpose="reply", now=now)
        else:
            first, last = stats_period(kind, now, svc.tz)
            snap = await snapshot(conn, svc, first, last, now)
    if answer is None:
        chart = await asyncio.to_thread(draw_on_time_chart, svc.texts, lang, snap)
        async with svc.db.transaction() as conn:
            await _enqueue_figures(conn, svc, chat_id, lang, kind, snap, chart, now, "stats")
    svc.wake_sender()


def report_charts(t: Texts, lang: str, report: Report) -> list[Chart]:
    """The charts of an assessment report (``bot.report.to_html`` embeds them; the bot's weekly
    report and ``heatbot report``). Synchronous and CPU-bound: call it in a thread from the bot."""
    return draw_charts(t, lang, Snapshot(report.period.first, report.period.last, report.centres, report.daily))


async def send_due_reports(svc: Services) -> list[str]:
    """The sweeper's part: last week's (Monday 08:00) and last month's (the 1st) figures to the
    leadership group, each exactly once (a mark per period, claimed in the transaction that
    queues it), with the on-time chart and the printable report. Returns the periods sent."""
    now = svc.clock.now()
    due = due_reports(now, svc.tz, svc.policy.reports)
    sent: list[str] = []
    async with svc.db.transaction() as conn:
        await reports.drop_sent_files(conn)
        todo = [d for d in due if not await reports.report_sent(conn, d.key)]
        targets = await escalation.leadership(conn) if todo else []
        made = {d.key: await build_report(conn, period_between(d.first, d.last, svc.tz), tz=svc.tz,
                                          rules=svc.policy.assessment, made_at=now, with_tickets=False,
                                          complaints_threshold=svc.policy.followup.complaints_to_dispatch)
                for d in todo} if targets else {}
    for d in todo if targets else []:
        sent += [d.key] if await _send_report(svc, d, made[d.key], targets, now) else []
    if sent:
        svc.wake_sender()
    return sent


async def _send_report(svc: Services, due: ReportDue, report: Report, targets: list[int], now: datetime) -> bool:
    lang, t = svc.default_lang, svc.texts
    drawn = await asyncio.to_thread(report_charts, t, lang, report)
    page = await asyncio.to_thread(to_html, report, t, lang, drawn)
    name = f"report-{due.first.isoformat()}-{due.last.isoformat()}.html"
    document = (name, page.encode("utf-8"), t.render(lang, "stats.report_caption", first=due.first, last=due.last))
    snap = Snapshot(due.first, due.last, report.centres, report.daily)
    async with svc.db.transaction() as conn:
        # Claimed with the messages: a crash before the commit leaves the report unsent and
        # unclaimed, so the next sweep sends it; a second sweep finds it claimed.
        if not await reports.claim_report(conn, due.key, now):
            return False
        for chat in targets:
            await _enqueue_figures(conn, svc, chat, lang, f"last_{due.kind}", snap, drawn[0], now, "report", document)
    log.info("sent the %s report for %s to %d chat(s)", due.kind, due.first, len(targets))
    return True
