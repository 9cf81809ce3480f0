"""Outage notices (Art. 10 (2), 14, 15, 23 (3)–(5)): pure rules.

* **Times**: what a dispatcher types for a start or an expected end; an end must come after
  the start and after now; a planned start in the past or inside the notice period is only a
  warning that needs explicit confirmation (Art. 14 wants notice in time, but a burst that
  forces an early shutdown is a fact, not an input error).
* **Posting deadline** (Art. 23 (4): notices not posted before the deadline are penalised):
  by policy at least 48 h before the start; inside that period (a confirmed short-notice
  shutdown), as soon as the crew can make it.
* **Fitting Telegram**: a notice carries the dispatcher's reason, which may be thousands of
  characters. A message may hold 4,096; a long reason is shortened in the message (the
  printable page keeps it whole), and whatever still does not fit is split — never refused.
* **Who is affected**: the centres that post the notices, from the communities chosen.

The outage section is not in the policy file yet (rules/policy.toml belongs to the policy
owner); :data:`DEFAULT_RULES` holds the numbers with their articles, and
:class:`OutageRules` is what a future ``[outages]`` section would load into.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rules.errors import RulesError
from rules.text import MAX_CAPTION, MAX_TEXT, telegram_length

__all__ = [
    "Kind", "OutageRules", "DEFAULT_RULES", "OutageInputError", "TEXT_MAX", "CAPTION_MAX", "REASON_MAX", "FIELD_MAX",
    "needs_approval", "shuts_heat", "parse_time", "parse_end", "check_times", "posting_due", "subscriber_reminder_at",
    "check_text", "split_names", "split_text", "fit_message", "group_by_centre", "is_active",
]

TEXT_MAX = MAX_TEXT      # Telegram: a message's text (see rules.text for how it is counted)
CAPTION_MAX = MAX_CAPTION
REASON_MAX = 4000        # what we accept for a reason (a Telegram message holds at most 4,096)
FIELD_MAX = 200          # pipe diameter, valves, area, buildings


class Kind(StrEnum):
    PLANNED = "planned"            # Art. 14: approval, written notice, posted notices
    EMERGENCY = "emergency"        # Art. 15: reported at once with pipe, valves, area, times
    CALIBRATION = "calibration"    # Art. 10 (2): notices posted ahead of heat-meter calibration


def needs_approval(kind: Kind | str) -> bool:
    """Art. 14: a planned shutdown is approved first; an emergency cannot wait (Art. 15) and a
    calibration notice shuts nothing off."""
    return Kind(kind) == Kind.PLANNED


def shuts_heat(kind: Kind | str) -> bool:
    return Kind(kind) != Kind.CALIBRATION


@dataclass(frozen=True)
class OutageRules:
    notice_period: timedelta = timedelta(hours=48)          # posted at least 48 h before the start (Art. 23 (4))
    posting_reminder_lead: timedelta = timedelta(hours=6)    # crews reminded this long before the posting deadline
    subscriber_reminder: timedelta = timedelta(hours=12)     # residents reminded this long before the start
    emergency_posting: timedelta = timedelta(hours=2)        # Art. 15: post a notice in the area, at once
    min_posting: timedelta = timedelta(hours=1)              # the least time a crew gets to post a late notice


DEFAULT_RULES = OutageRules()


class OutageInputError(RulesError):
    """``code``: ``bad_time``, ``end_before_start``, ``end_passed``, ``too_long``, ``empty``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_REL = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_TIME = re.compile(
    r"^(?:(?P<rel>今天|明天|后天|today|tomorrow)\s*"
    r"|(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?\s*)?"
    r"(?P<h>\d{1,2})\s*[:：点]\s*(?P<mi>\d{2})?\s*分?$",
    re.IGNORECASE,
)
_DURATION = re.compile(r"^\+?\s*(?P<n>\d{1,3}(?:\.\d)?)\s*(?:个)?\s*(?:小时|h|hours?)$", re.IGNORECASE)


def parse_time(text: str, now_local: datetime) -> datetime:
    """``"2026-01-20 08:00"``, ``"1月20日 8:00"``, ``"01-20 08:00"``, ``"明天 08:00"``,
    ``"tomorrow 8:00"``, ``"08:00"`` (today) or ``"现在"``/``"now"`` → an aware local time.

    A date without a year is this year's, or next year's if that is more than half a year
    back (a January shutdown planned in December)."""
    raw = " ".join(text.strip().split())
    if raw.lower() in ("现在", "now", "立即", "刚才"):
        return now_local.replace(second=0, microsecond=0)
    m = _TIME.match(raw)
    if m is None:
        raise OutageInputError("bad_time", text=raw[:40])
    hour, minute = int(m.group("h")), int(m.group("mi") or 0)
    if hour > 23 or minute > 59:
        raise OutageInputError("bad_time", text=raw[:40])
    try:
        if m.group("rel"):
            day = now_local + timedelta(days=_REL[m.group("rel").lower()])
        elif m.group("mo"):
            year = int(m.group("y")) if m.group("y") else now_local.year
            day = now_local.replace(year=year, month=int(m.group("mo")), day=int(m.group("d")))
            if not m.group("y") and day < now_local - timedelta(days=183):
                day = day.replace(year=year + 1)
        else:
            day = now_local
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        raise OutageInputError("bad_time", text=raw[:40]) from None


def parse_end(text: str, start_local: datetime, now_local: datetime) -> datetime:
    """An expected end: a time as :func:`parse_time`, or a duration after the start
    (``"8小时"``, ``"8h"``, ``"+12 hours"``)."""
    m = _DURATION.match(" ".join(text.strip().split()))
    if m is not None:
        hours = float(m.group("n"))
        if hours <= 0:
            raise OutageInputError("end_before_start")
        return start_local + timedelta(hours=hours)
    return parse_time(text, now_local)


def check_times(kind: Kind | str, start: datetime, end: datetime, now: datetime,
                rules: OutageRules = DEFAULT_RULES) -> tuple[str, ...]:
    """Refuses an end not after the start or already past; returns warnings that need the
    dispatcher's explicit confirmation: ``past`` (a planned start already gone), ``short_notice``
    (inside the notice period, so notices cannot be posted 48 h ahead, Art. 23 (4))."""
    if end <= start:
        raise OutageInputError("end_before_start")
    if end <= now:
        raise OutageInputError("end_passed")
    if Kind(kind) == Kind.EMERGENCY:
        return ()
    if start < now:
        return ("past",)
    if start - now < rules.notice_period:
        return ("short_notice",)
    return ()


def posting_due(kind: Kind | str, start: datetime, now: datetime, rules: OutageRules = DEFAULT_RULES) -> datetime:
    """When the notices must be up. Planned and calibration: ``notice_period`` before the
    start; if that has passed (a confirmed short notice), half the time left before the start
    but at least ``min_posting`` from now. Emergency: within ``emergency_posting``."""
    if Kind(kind) == Kind.EMERGENCY:
        return now + rules.emergency_posting
    due = start - rules.notice_period
    if due > now:
        return due
    return max(now + (start - now) / 2, now + rules.min_posting)


def subscriber_reminder_at(kind: Kind | str, start: datetime, now: datetime,
                           rules: OutageRules = DEFAULT_RULES) -> datetime | None:
    """The residents' reminder before a planned start; none when the notice itself goes out
    inside the reminder window (a second message minutes later would be noise)."""
    if Kind(kind) == Kind.EMERGENCY:
        return None
    at = start - rules.subscriber_reminder
    return at if at > now else None


def check_text(text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise OutageInputError("empty")
    if len(text) > limit:
        raise OutageInputError("too_long", limit=limit, length=len(text))
    return text


def split_names(text: str) -> list[str]:
    """``"和平, 幸福里、阳光"`` → the names a dispatcher typed, in order, without repeats."""
    seen: list[str] = []
    for part in re.split(r"[,，、;；\s]+", text.strip()):
        if part and part not in seen:
            seen.append(part)
    return seen


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` (as Telegram counts, rules.text), at line ends where possible.

    Our templates keep every HTML tag on one line, so cutting between lines never splits one."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if telegram_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while telegram_length(line) > limit:         # one line longer than a message: cut it hard
            cut = limit
            while telegram_length(line[:cut]) > limit:
                cut -= 1
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not parts:
        parts.append(current)
    return parts


def fit_message(render: Callable[[str, bool], str], reason: str, limit: int = TEXT_MAX) -> list[str]:
    """The notice as Telegram will take it. ``render(reason, shortened)`` renders the template.

    The whole reason if it fits; else the longest prefix of it that fits (ending in "…", and
    ``shortened`` lets the template point to the printable page, which keeps it whole); else —
    a notice whose other parts alone are too long — the parts of the text split at line ends.
    Raw HTML is measured, which is never shorter than what Telegram counts, so a part that
    fits here fits there."""
    text = render(reason, False)
    if telegram_length(text) <= limit:
        return [text]
    lo, hi, best = 0, len(reason), None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = render(reason[:mid].rstrip() + "…", True)
        if telegram_length(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return [best]
    return split_text(render("…", True), limit)


def group_by_centre(pairs: Iterable[tuple[str, str | None]]) -> tuple[dict[str, list[str]], list[str]]:
    """(community, its centre or None) → (centre → its communities, communities with no centre).

    One posting task per centre: a centre posts in all of its affected communities."""
    by_centre: dict[str, list[str]] = {}
    orphans: list[str] = []
    for community, centre in pairs:
        if centre is None:
            orphans.append(community)
        else:
            by_centre.setdefault(centre, []).append(community)
    return by_centre, orphans


def is_active(kind: Kind | str, status: str, starts_at: datetime, restored_at: datetime | None, now: datetime) -> bool:
    """Heat is off now: a published shutdown that has started and is not restored. It stays
    active past its expected end until dispatch marks it restored (heat is not back until then)."""
    return shuts_heat(kind) and status == "published" and restored_at is None and starts_at <= now
