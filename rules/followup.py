"""Closing the loop with the resident: the follow-up after Done (Art. 8), repeat faults
(Art. 23), repeated complaints (Art. 24) and several reports from one building at once.

Pure: the numbers come from ``policy.toml`` ``[followup]`` (see :class:`FollowupRules`), times
are passed in, nothing here touches Telegram or the database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rules.intake import arabic_numbers, chinese_number, is_visible

__all__ = [
    "FollowupRules", "DEFAULT_RULES", "PhoneResult", "MAX_COMMENT", "RATINGS",
    "reopen_refusal", "answer_refusal", "flat_key", "building_key", "is_repeat", "cluster_due", "check_comment",
    "chinese_number",
]

# A comment is an opinion, not a report: a few sentences are enough for the assessment (Art. 8).
MAX_COMMENT = 500
RATINGS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class FollowupRules:
    # Art. 8: the follow-up. Unanswered after this long, dispatch phones the resident.
    answer_within: timedelta = timedelta(hours=24)
    # A resident's answer (and a reopen) is taken this long after Done; later, a fresh report.
    answer_until: timedelta = timedelta(days=30)
    # A ticket reopened this many times goes to dispatch as well as to the centre (Art. 10 (1)).
    dispatch_after_reopens: int = 2
    # Art. 23: the same fault repaired again within one month.
    repeat_window: timedelta = timedelta(days=30)
    # Categories whose repeats are matched by building rather than by flat (network, facilities).
    building_categories: frozenset[str] = frozenset({"network_burst", "manhole", "home_leak", "illegal_use"})
    # Art. 24: a resident complaining twice or more; from this many, dispatch is told.
    complaints_to_dispatch: int = 2
    # Several reports from one building within a short time: a possible building-wide fault.
    cluster_reports: int = 3
    cluster_window: timedelta = timedelta(minutes=60)
    cluster_categories: frozenset[str] = frozenset({"not_warm", "room_temp"})
    # Tell the resident the accepting crew member's work phone (the organisation file's number).
    show_crew_phone: bool = True


DEFAULT_RULES = FollowupRules()


class PhoneResult(StrEnum):
    """Art. 8's service-quality feedback card, as dispatch records a phone follow-up."""
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"
    UNREACHABLE = "unreachable"


def answer_refusal(closed_at: datetime | None, now: datetime, rules: FollowupRules = DEFAULT_RULES) -> str | None:
    """Why a resident's follow-up answer is no longer taken, or None. After the window the
    resident reports afresh (a new ticket, marked as a repeat, Art. 23)."""
    if closed_at is None:
        return "not_closed"
    if now - closed_at > rules.answer_until:
        return "too_late"
    return None


def reopen_refusal(status: str, outcome: str | None, closed_at: datetime | None, now: datetime,
                   rules: FollowupRules = DEFAULT_RULES) -> str | None:
    """Why "not solved" cannot reopen the ticket, or None. A ticket dispatch closed as out of
    scope (Art. 6) was explained to the resident, not repaired: there is nothing to redo."""
    if status != "closed":
        return "not_closed"
    if outcome == "out_of_scope":
        return "out_of_scope"
    return answer_refusal(closed_at, now, rules)


_PART = re.compile(r"[0-9A-Za-z]+")


def _parts(address: str | None) -> list[str]:
    if not address:
        return []
    # Leading zeros and case do not make another flat: 03-02-0501 is 3-2-501.
    return [p.lstrip("0").upper() or "0" for p in _PART.findall(arabic_numbers(address))]


def flat_key(address: str | None) -> str | None:
    """The flat an address names, written one way (``3-2-501`` for ``３号楼二单元501室``)."""
    parts = _parts(address)
    return "-".join(parts) if len(parts) >= 2 else None


def building_key(address: str | None) -> str | None:
    """The building an address names: its first number."""
    parts = _parts(address)
    return parts[0] if len(parts) >= 2 else None


def is_repeat(closed_at: datetime | None, received_at: datetime, rules: FollowupRules = DEFAULT_RULES) -> bool:
    """Art. 23: the same fault again within the repeat window after it was closed."""
    return closed_at is not None and timedelta(0) <= received_at - closed_at <= rules.repeat_window


def cluster_due(report_times: list[datetime], now: datetime, already_alerted: bool, rules: FollowupRules = DEFAULT_RULES) -> bool:
    """Whether this building's reports make a possible building-wide fault: enough of them
    within the window, and no alert for this building in the window yet (one cluster, one alert)."""
    recent = [t for t in report_times if now - rules.cluster_window <= t <= now]
    return not already_alerted and len(recent) >= rules.cluster_reports


def check_comment(text: str | None) -> tuple[str | None, str | None]:
    """(comment, problem): the comment trimmed, or the reason it is refused. Emoji alone is an
    opinion and kept; nothing visible or more than :data:`MAX_COMMENT` characters is refused."""
    cleaned = (text or "").strip()
    if not is_visible(cleaned):
        return None, "empty"
    if len(cleaned) > MAX_COMMENT:
        return None, "too_long"
    return cleaned, None
