"""When the leadership group gets the assessment report (Art. 8, Art. 10 (1)): last week's
every week, last month's every month, and which calendar period ``/stats`` shows.

Pure: the time is passed in; the periods are the company's local calendar dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

__all__ = ["ReportRules", "DEFAULT_RULES", "WEEKDAYS", "ReportDue", "due_reports", "stats_period", "STATS_PERIODS"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# What /stats takes, and the calendar period each means: so far today, this week (from
# Monday), this month (from the 1st). The same weeks and months the reports count, so the
# figures read on a Sunday evening are the ones the Monday report brings.
STATS_PERIODS = ("today", "week", "month")


@dataclass(frozen=True)
class ReportRules:
    weekly_day: int = 0                     # Monday
    monthly_day: int = 1
    send_at: time = time(8, 0)
    # A bot that was down at the send time still sends within this window; past it, the
    # report is skipped rather than arriving days late as if it were news.
    catch_up: timedelta = timedelta(hours=24)


DEFAULT_RULES = ReportRules()


@dataclass(frozen=True)
class ReportDue:
    kind: str           # "week" | "month"
    first: date         # the first and last local dates the report covers
    last: date
    due_at: datetime    # when it was due (local time, aware)

    @property
    def key(self) -> str:
        """The report's mark: one per week (by its Monday) or month."""
        return f"week:{self.first.isoformat()}" if self.kind == "week" else f"month:{self.first:%Y-%m}"


def _at(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def due_reports(now: datetime, tz: tzinfo, rules: ReportRules = DEFAULT_RULES) -> list[ReportDue]:
    """The reports whose send time has come and whose catch-up window is still open at ``now``:
    the week before the latest weekly send day, the month before the latest monthly one."""
    local = now.astimezone(tz)
    today = local.date()
    out: list[ReportDue] = []
    send_day = today - timedelta(days=(today.weekday() - rules.weekly_day) % 7)
    due = _at(send_day, rules.send_at, tz)
    if due <= local < due + rules.catch_up:
        # The whole calendar week (Monday to Sunday) that ended before the send day.
        this_monday = send_day - timedelta(days=send_day.weekday())
        last_monday = this_monday - timedelta(days=7)
        out.append(ReportDue("week", last_monday, last_monday + timedelta(days=6), due))
    send_day = today.replace(day=rules.monthly_day) if today.day >= rules.monthly_day else \
        (today.replace(day=1) - timedelta(days=1)).replace(day=rules.monthly_day)
    due = _at(send_day, rules.send_at, tz)
    if due <= local < due + rules.catch_up:
        last = send_day.replace(day=1) - timedelta(days=1)
        out.append(ReportDue("month", last.replace(day=1), last, due))
    return out


def stats_period(kind: str, now: datetime, tz: tzinfo) -> tuple[date, date]:
    """The first and last local dates ``/stats today|week|month`` covers (the last is today)."""
    today = now.astimezone(tz).date()
    if kind == "today":
        return today, today
    if kind == "week":
        return today - timedelta(days=today.weekday()), today
    if kind == "month":
        return today.replace(day=1), today
    raise ValueError(f"unknown period {kind!r} ({', '.join(STATS_PERIODS)})")
