"""The deadline clock (Art. 12–13): what is due for one deadline, and when to look again.

Each deadline (accept, on site, close, written report) goes through stages, each fired
exactly once: a reminder ``lead`` before the limit, an escalation at the limit (centre lead
and dispatch), and a second-level escalation ``interval`` after it (department head). The
sweeper stores ``next_at``, the moment the next stage falls due, so one indexed query finds
what is due however many tickets are open.

A sweeper that was down across a due time fires what it missed once, marked late by how
long it waited — but never a reminder for a limit that has already passed: the escalation
says more, and saying both would be noise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from rules.errors import RulesError

__all__ = [
    "Stage", "Fire", "Plan", "plan", "next_check", "is_late", "DelayRefused", "check_delay",
    "parse_new_time",
]


class Stage(IntEnum):
    NONE = 0
    REMINDED = 1
    ESCALATED = 2        # centre lead + dispatch (Art. 13, other rules (2))
    HEAD = 3             # department head, after the escalation interval


@dataclass(frozen=True)
class Fire:
    stage: Stage
    scheduled_at: datetime   # when it should have fired
    late_by: timedelta       # how late the sweeper is in firing it (zero when on time)


@dataclass(frozen=True)
class Plan:
    fires: tuple[Fire, ...]
    stage: Stage             # the stage after firing
    next_at: datetime | None  # when to look again; None when nothing is left


def _schedule(due: datetime, lead: timedelta, interval: timedelta) -> dict[Stage, datetime]:
    return {Stage.REMINDED: due - lead, Stage.ESCALATED: due, Stage.HEAD: due + interval}


def next_check(due: datetime, stage: Stage, lead: timedelta, interval: timedelta) -> datetime | None:
    times = _schedule(due, lead, interval)
    later = [times[s] for s in Stage if s > stage]
    return min(later) if later else None


def plan(due: datetime, stage: Stage | int, now: datetime, lead: timedelta, interval: timedelta,
         grace: timedelta = timedelta(minutes=1)) -> Plan:
    """What to fire now for an open deadline at ``stage``.

    ``grace`` is how late a fire may be before it is called late (the sweeper runs every
    few seconds; a reminder 5 s late is on time).
    """
    stage = Stage(stage)
    times = _schedule(due, lead, interval)
    fires: list[Fire] = []
    current = stage
    for s in (Stage.REMINDED, Stage.ESCALATED, Stage.HEAD):
        if s <= stage or times[s] > now:
            continue
        current = s
        if s == Stage.REMINDED and now >= due:
            continue  # the limit has passed: the escalation replaces the reminder
        late = now - times[s]
        fires.append(Fire(s, times[s], late if late > grace else timedelta(0)))
    return Plan(tuple(fires), current, next_check(due, current, lead, interval))


def is_late(due: datetime, met_at: datetime) -> bool:
    """An overrun without an approved delay counts late (Art. 13, other rules (2)); an
    approved delay has already moved ``due``."""
    return met_at > due


class DelayRefused(RulesError):
    """``code``: ``passed`` (the limit is already over), ``before_now``, ``beyond_close``,
    ``no_reason``, ``bad_time``, ``nothing_due``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_delay(kind: str, due: datetime, new_due: datetime, now: datetime, close_by: datetime,
                max_close_extension: timedelta, *, deciding: bool = False) -> None:
    """A delay must be asked before the limit runs out (Art. 13, preamble: say why *before*),
    for a time after now, and no later than the close limit (for the close limit itself, no
    more than ``max_close_extension`` beyond it).

    Checked twice: when the crew asks, and again with ``deciding=True`` when dispatch decides,
    against the limits as they stand then (a /level or /category in between may have brought
    the close limit forward). Asked in time stays asked in time, so ``passed`` is not checked
    again; everything else is."""
    if now >= due and not deciding:
        raise DelayRefused("passed")
    if new_due <= now or new_due <= due:
        raise DelayRefused("before_now")
    ceiling = close_by + max_close_extension if kind in ("close", "report") else close_by
    if new_due > ceiling:
        raise DelayRefused("beyond_close")


_TIME = re.compile(r"(?:(\d{4}-\d{1,2}-\d{1,2})\s*|(明天|tomorrow)\s*)?(?<!\d)(\d{1,2})[:：](\d{2})(?!\d)", re.IGNORECASE)


def parse_new_time(text: str, now_local: datetime) -> tuple[str, datetime]:
    """``"等待配件 18:30"``, ``"约好 16:00 入户"``, ``"parts on order 明天 09:00"`` or
    ``"… 2026-01-16 09:00"`` → (reason, aware local time). The time may stand anywhere; the
    rest is the reason. A bare HH:MM is today; a time already past today is refused later
    rather than silently moved to tomorrow (say 明天 / tomorrow)."""
    matches = list(_TIME.finditer(text.strip()))
    if not matches:
        raise DelayRefused("bad_time")
    m = matches[-1]                      # the last time written is the one proposed
    body = text.strip()
    # A time closing the sentence is cut off; one inside it stays, so the reason reads whole.
    reason = (body[: m.start()] if not body[m.end():].strip() else body).strip(" ，,;；:：-。")
    if not reason:
        raise DelayRefused("no_reason")
    hour, minute = int(m.group(3)), int(m.group(4))
    if hour > 23 or minute > 59:
        raise DelayRefused("bad_time")
    if m.group(1):
        try:
            y, mo, d = (int(x) for x in m.group(1).split("-"))
            day = now_local.replace(year=y, month=mo, day=d)
        except ValueError:
            raise DelayRefused("bad_time") from None
    elif m.group(2):
        day = now_local + timedelta(days=1)
    else:
        day = now_local
    when = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return reason, when
