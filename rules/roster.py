"""Rosters: who is on duty at an instant, which centre covers a community, and what a week of
shifts leaves uncovered (Art. 11, 12).

Art. 11 asks each centre to name the people who handle service events; Art. 12 has a task
accepted within 30 minutes, which only works if someone is on duty to accept it. A roster is a
set of weekly shifts per centre (a day shift 08:00-20:00, a night shift 20:00-08:00 crossing
midnight) and dated overrides (a holiday, a swap) that replace the centre's regular shifts
starting on that date. A shift may *cover* other centres: while it runs, a centre with nobody
of its own on duty hands its work to the covering (duty) centre.

Shifts are written in wall-clock time of the company's time zone. An instant is turned into
wall-clock time with zoneinfo before it is looked up, so on the night the clocks change a
20:00-08:00 shift is simply an hour shorter or longer, and the repeated hour of autumn belongs
to the shift that holds that wall-clock time, both times. Pure and synchronous: ``now`` and the
time zone are passed in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_NAMES", "Shift", "Roster", "ShiftInstance", "Duty", "Finding",
    "local_time", "shifts_at", "current_shift", "on_duty", "duty_for", "check_week", "check_dates",
    "parse_clock", "format_clock",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MINUTES_PER_DAY = 24 * 60
_ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class Shift:
    """One shift of one centre. ``start``/``end`` are minutes after midnight; an ``end`` at or
    before ``start`` crosses midnight (``end == start``: a 24-hour shift). A regular shift runs
    on ``days`` (weekdays of its start, Monday 0); an override runs once, starting on ``date``."""
    centre_id: str
    start: int
    end: int
    staff: tuple[int, ...]
    days: frozenset[int] = _ALL_DAYS
    date: date | None = None
    covers: tuple[str, ...] = ()
    name: str = ""

    @property
    def key(self) -> str:
        """Its identity in the organisation's change log (rules/orgdiff.py): centre, name or
        hours, and the date of an override."""
        label = self.name or f"{format_clock(self.start)}-{format_clock(self.end)}"
        return f"{self.centre_id}:{label}" + (f"@{self.date.isoformat()}" if self.date else "")

    def field_text(self, name: str) -> str | None:
        """How the change log shows one of its fields: hours as clock times, days by name."""
        if name in ("start", "end"):
            return format_clock(getattr(self, name))
        if name == "days":
            return ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        return None

    @property
    def minutes(self) -> int:
        length = (self.end - self.start) % _MINUTES_PER_DAY
        return length or _MINUTES_PER_DAY


@dataclass(frozen=True)
class Roster:
    shifts: tuple[Shift, ...] = ()

    @property
    def centres(self) -> frozenset[str]:
        """Centres that keep a roster; a centre without one is routed and carded as before."""
        return frozenset(s.centre_id for s in self.shifts)

    def without_overrides(self) -> Roster:
        return Roster(tuple(s for s in self.shifts if s.date is None))


@dataclass(frozen=True)
class ShiftInstance:
    """A shift on one date, in wall-clock time (naive datetimes)."""
    shift: Shift
    starts: datetime
    ends: datetime

    @property
    def key(self) -> str:
        """Names this instance for good: a handover is posted once per key."""
        return f"{self.shift.centre_id}@{self.starts:%Y-%m-%dT%H:%M}"


@dataclass(frozen=True)
class Duty:
    """Where a centre's work goes at an instant. ``centre_id`` is the centre that takes it (the
    duty centre when ``covering_for`` is set); ``staff`` its people on duty; ``unstaffed``: the
    centre keeps a roster but nobody is on duty and nobody covers it (dispatch is told at once)."""
    centre_id: str
    staff: tuple[int, ...] = ()
    covering_for: str | None = None
    rostered: bool = False
    unstaffed: bool = False


@dataclass(frozen=True)
class Finding:
    """What ``org check`` reports: ``kind`` is gap, overlap or double_duty; ``who`` the centre
    (gap, overlap) or the user id (double duty); ``where`` the centres involved."""
    kind: str
    who: str
    starts: datetime
    ends: datetime
    where: tuple[str, ...] = field(default=())


def parse_clock(text: str, *, end: bool = False) -> int | None:
    """``"08:00"`` -> 480; ``None`` unless a time of day (``"24:00"`` is allowed as an end)."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    if end and (hour, minute) == (24, 0):
        return 0
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local_time(now: datetime, tz: ZoneInfo) -> datetime:
    """The wall-clock time at the instant ``now`` (aware), without its zone."""
    return now.astimezone(tz).replace(tzinfo=None)


def _shifts_starting(roster: Roster, centre_id: str | None, day: date) -> list[Shift]:
    """The shifts starting on ``day``: a centre's dated overrides replace its regular shifts."""
    mine = [s for s in roster.shifts if centre_id is None or s.centre_id == centre_id]
    overridden = {s.centre_id for s in mine if s.date == day}
    return [s for s in mine if (s.date == day) or (s.date is None and s.centre_id not in overridden and day.weekday() in s.days)]


def _instance(shift: Shift, day: date) -> ShiftInstance:
    starts = datetime(day.year, day.month, day.day) + timedelta(minutes=shift.start)
    return ShiftInstance(shift, starts, starts + timedelta(minutes=shift.minutes))


def _instances_at(roster: Roster, centre_id: str | None, local: datetime) -> list[ShiftInstance]:
    found = []
    for day in (local.date() - timedelta(days=1), local.date()):
        for shift in _shifts_starting(roster, centre_id, day):
            inst = _instance(shift, day)
            if inst.starts <= local < inst.ends:
                found.append(inst)
    return found


def shifts_at(roster: Roster, centre_id: str | None, now: datetime, tz: ZoneInfo) -> list[ShiftInstance]:
    """The shifts running at the instant ``now`` (of one centre, or of all with ``None``)."""
    return _instances_at(roster, centre_id, local_time(now, tz))


def current_shift(roster: Roster, centre_id: str, now: datetime, tz: ZoneInfo) -> ShiftInstance | None:
    """The centre's shift that began last among those running (the one a handover is for)."""
    running = shifts_at(roster, centre_id, now, tz)
    return max(running, key=lambda i: (i.starts, i.shift.start)) if running else None


def _staff(instances: Iterable[ShiftInstance]) -> tuple[int, ...]:
    seen: dict[int, None] = {}
    for inst in instances:
        for user in inst.shift.staff:
            seen.setdefault(user, None)
    return tuple(seen)


def on_duty(roster: Roster, centre_id: str, now: datetime, tz: ZoneInfo) -> tuple[int, ...]:
    """The centre's own people on duty at ``now``, in roster order (Art. 11)."""
    return _staff(shifts_at(roster, centre_id, now, tz))


def duty_for(roster: Roster, centre_id: str, now: datetime, tz: ZoneInfo) -> Duty:
    """Where the work of ``centre_id`` goes at ``now``: to itself while it has someone on duty;
    else to a centre whose running shift covers it and has someone on duty; else to itself,
    marked unstaffed. A centre without a roster keeps its work, as before rosters."""
    if centre_id not in roster.centres:
        return Duty(centre_id)
    local = local_time(now, tz)
    own = _staff(_instances_at(roster, centre_id, local))
    if own:
        return Duty(centre_id, own, rostered=True)
    covering = [i for i in _instances_at(roster, None, local) if centre_id in i.shift.covers and i.shift.staff]
    if covering:
        first = min(covering, key=lambda i: (i.starts, i.shift.centre_id))
        duty_centre = first.shift.centre_id
        return Duty(duty_centre, _staff(i for i in covering if i.shift.centre_id == duty_centre), covering_for=centre_id, rostered=True)
    return Duty(centre_id, rostered=True, unstaffed=True)


def _segments(roster: Roster, begin: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[begin, end) cut at every shift boundary: within a piece, who is on duty does not change."""
    cuts = {begin, end}
    day = begin.date() - timedelta(days=1)
    while datetime(day.year, day.month, day.day) < end:
        for shift in _shifts_starting(roster, None, day):
            inst = _instance(shift, day)
            cuts.update(t for t in (inst.starts, inst.ends) if begin < t < end)
        day += timedelta(days=1)
    points = sorted(cuts)
    return list(zip(points, points[1:]))


def _merge(findings: list[Finding]) -> list[Finding]:
    """Adjacent pieces with the same finding become one range."""
    merged: list[Finding] = []
    for f in findings:
        last = merged[-1] if merged else None
        if last and (last.kind, last.who, last.where, last.ends) == (f.kind, f.who, f.where, f.starts):
            merged[-1] = Finding(f.kind, f.who, last.starts, f.ends, f.where)
        else:
            merged.append(f)
    return merged


def _check(roster: Roster, begin: datetime, end: datetime) -> list[Finding]:
    found: list[Finding] = []
    for a, b in _segments(roster, begin, end):
        running = _instances_at(roster, None, a)
        for centre in sorted(roster.centres):
            mine = [i for i in running if i.shift.centre_id == centre]
            staffed = [i for i in mine if i.shift.staff]
            covered = any(centre in i.shift.covers and i.shift.staff for i in running)
            if not staffed and not covered:
                found.append(Finding("gap", centre, a, b))
            if len(staffed) > 1:
                found.append(Finding("overlap", centre, a, b))
        where: dict[int, set[str]] = {}
        for inst in running:
            for user in inst.shift.staff:
                where.setdefault(user, set()).add(inst.shift.centre_id)
        for user, centres in sorted(where.items()):
            if len(centres) > 1:
                found.append(Finding("double_duty", str(user), a, b, tuple(sorted(centres))))
    return _merge(sorted(found, key=lambda f: (f.kind, f.who, f.starts)))


# A Monday with no override on it: the weekly pattern is checked on this week.
_REFERENCE_MONDAY = datetime(2001, 1, 1)


def check_week(roster: Roster) -> list[Finding]:
    """Gaps (a rostered centre with nobody on duty and nobody covering it), overlaps (two
    staffed shifts of one centre at once) and double duty (one person on duty for two centres
    at once) over one week of the regular shifts. Times are wall-clock of a reference week
    starting on a Monday (2001-01-01), so ``starts.weekday()`` names the day.

    The week is circular: three weeks are checked and the middle one is kept, so a gap from
    Sunday 20:00 to Monday 08:00 is one finding, not two cut at midnight; a finding lasting
    the whole time is kept once, a week long."""
    regular = roster.without_overrides()
    week = timedelta(days=7)
    begin, end = _REFERENCE_MONDAY - week, _REFERENCE_MONDAY + 2 * week
    kept = []
    for f in _check(regular, begin, end):
        if f.starts == begin and f.ends == end:
            kept.append(Finding(f.kind, f.who, _REFERENCE_MONDAY, _REFERENCE_MONDAY + week, f.where))
        elif _REFERENCE_MONDAY <= f.starts < _REFERENCE_MONDAY + week:
            kept.append(f)
    return kept


def check_dates(roster: Roster) -> list[Finding]:
    """The same findings on each date that has an override, with the regular shifts around it."""
    found: list[Finding] = []
    for day in sorted({s.date for s in roster.shifts if s.date is not None}):
        begin = datetime(day.year, day.month, day.day)
        found += _check(roster, begin, begin + timedelta(days=1))
    return found
