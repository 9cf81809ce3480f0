"""The ``[[shifts]]`` of the organisation file: each centre's roster (Art. 11, 12).

Called from bot/orgfile.py's check with its checker, so a roster problem is reported on its
line with every other problem of the file. A shift with ``days`` (or neither) repeats weekly;
one with ``date`` is an override: on that date it replaces the centre's regular shifts.

    [[shifts]]
    centre = "repair-north"
    name = "夜班"
    start = "20:00"
    end = "08:00"               # at or before start: the shift crosses midnight
    days = ["mon", "tue"]       # optional, every day when left out
    staff = [5002]
    covers = ["repair-south"]   # optional: the duty centre for these centres while it runs

A bad time (25:00), an unknown centre or person is an error; a gap, an overlap or a person on
duty in two places at once is a warning (``rules.roster.check_week``): the bot runs, and a
report with nobody on duty alerts dispatch at once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from rules.roster import DAY_NAMES, Finding, Roster, Shift, check_dates, check_week, format_clock, parse_clock

__all__ = ["SHIFT_KEYS", "check_roster", "describe_finding"]

SHIFT_KEYS = {"centre", "name", "start", "end", "days", "date", "staff", "covers"}


def check_roster(check: Any, data: dict[str, Any], known_centres: dict[str, Any] | None) -> Roster:
    """Parse and check ``[[shifts]]``; problems go to ``check`` (bot.orgfile's checker)."""
    raw_staff = data.get("staff") if isinstance(data.get("staff"), list) else []
    people = {t["user_id"]: t for t in raw_staff if isinstance(t, dict) and isinstance(t.get("user_id"), int)}
    shifts: list[Shift] = []
    first_line: dict[str, Any] = {}
    for path, table in check.array(data, "shifts", required=False):
        who = f"shift #{path[1] + 1}" + (f" of '{table['centre']}'" if isinstance(table.get("centre"), str) else "")
        check.unknown_keys(table, path, SHIFT_KEYS, who)
        centre = check.value(table, path, "centre", str, who)
        name = check.value(table, path, "name", str, who, required=False) or ""
        start_text = check.value(table, path, "start", str, who)
        end_text = check.value(table, path, "end", str, who)
        staff = check.value(table, path, "staff", list, who)
        covers = check.value(table, path, "covers", list, who, required=False) or []
        ok = None not in (centre, start_text, end_text, staff)
        start = parse_clock(start_text) if start_text is not None else None
        end = parse_clock(end_text, end=True) if end_text is not None else None
        if start_text is not None and start is None:
            check.add(path + ("start",), f"{who}: start '{start_text}' is not a time of day (HH:MM, 00:00-23:59)")
            ok = False
        if end_text is not None and end is None:
            check.add(path + ("end",), f"{who}: end '{end_text}' is not a time of day (HH:MM, 00:00-24:00)")
            ok = False
        if centre is not None and known_centres is not None and centre not in known_centres:
            check.add(path + ("centre",), f"{who}: unknown centre '{centre}'")
            ok = False
        for covered in covers:
            if not isinstance(covered, str) or (known_centres is not None and covered not in known_centres) or covered == centre:
                check.add(path + ("covers",), f"{who}: 'covers' names {covered!r}, not another centre of this file")
                ok = False
        if staff is not None:
            for user in staff:
                if not isinstance(user, int) or isinstance(user, bool):
                    check.add(path + ("staff",), f"{who}: 'staff' must list user ids (integers), got {user!r}")
                    ok = False
                elif user not in people:
                    check.add(path + ("staff",), f"{who}: user {user} is not in [[staff]] (an unknown person cannot be on duty)")
                    ok = False
                elif people[user].get("centre") not in (centre, None):
                    check.add(path + ("staff",), f"{who}: user {user} belongs to centre '{people[user].get('centre')}'", warning=True)
            if len(set(staff)) != len(staff):
                check.add(path + ("staff",), f"{who}: a person is listed twice", warning=True)
        days, day = _days(check, table, path, who)
        ok = ok and days is not None
        if ok:
            shifts.append(Shift(centre, start, end, tuple(staff), days, day, tuple(covers), name))
            first_line.setdefault(centre, path)
    roster = Roster(tuple(shifts))
    for finding, days in _every_day(check_week(roster)):
        check.add(first_line.get(_centre_of(finding), ()), describe_finding(finding, days=days), warning=True)
    for finding in check_dates(roster):
        check.add(first_line.get(_centre_of(finding), ()), describe_finding(finding, dated=True), warning=True)
    return roster


def _centre_of(f: Finding) -> str:
    return f.where[0] if f.kind == "double_duty" else f.who


def _every_day(findings: list[Finding]) -> list[tuple[Finding, int]]:
    """The same finding at the same hours on several days of the week is reported once, with
    how many days (7: every day); else each stands alone (days 1)."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.kind, f.who, f.where, f.starts.time(), f.ends - f.starts), []).append(f)
    out: list[tuple[Finding, int]] = []
    for same in groups.values():
        if len(same) == 7:
            out.append((same[0], 7))
        else:
            out += [(f, 1) for f in same]
    return sorted(out, key=lambda pair: (pair[0].kind, pair[0].who, pair[0].starts))


def _days(check: Any, table: dict[str, Any], path: tuple, who: str) -> tuple[frozenset[int] | None, dt.date | None]:
    """(weekdays, override date); weekdays ``None`` when the entry is wrong."""
    if "date" in table and "days" in table:
        check.add(path + ("date",), f"{who}: give 'days' (a weekly shift) or 'date' (an override), not both")
        return None, None
    if "date" in table:
        value = table["date"]
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            check.add(path + ("date",), f"{who}: 'date' must be a date such as 2026-02-17, got {value!r}")
            return None, None
        return frozenset(range(7)), value
    days = table.get("days", list(DAY_NAMES))
    if not isinstance(days, list) or not days or not all(isinstance(d, str) and d.lower() in DAY_NAMES for d in days):
        check.add(path + ("days",), f"{who}: 'days' must list days among {', '.join(DAY_NAMES)}, got {days!r}")
        return None, None
    return frozenset(DAY_NAMES.index(d.lower()) for d in days), None


def _when(moment: dt.datetime, dated: bool) -> str:
    day = moment.date().isoformat() if dated else DAY_NAMES[moment.weekday()]
    return f"{day} {format_clock(moment.hour * 60 + moment.minute)}"


def describe_finding(f: Finding, *, dated: bool = False, days: int = 1) -> str:
    if f.ends - f.starts >= dt.timedelta(days=7):
        span = "all week"
    elif days == 7:
        span = f"every day {format_clock(f.starts.hour * 60 + f.starts.minute)} - {format_clock(f.ends.hour * 60 + f.ends.minute)}"
    else:
        span = f"{_when(f.starts, dated)} - {_when(f.ends, dated)}"
    if f.kind == "gap":
        return f"roster gap: centre '{f.who}' has nobody on duty and no duty centre covering it, {span}"
    if f.kind == "overlap":
        return f"roster overlap: centre '{f.who}' has two staffed shifts at once, {span}"
    return f"double duty: user {f.who} is on duty for {' and '.join(f.where)} at once, {span}"
