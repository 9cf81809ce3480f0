"""The centres' assessment (Art. 8, 10 (1), Ch. 4-5): what each figure means, what each
countable event is worth, and the periods a report covers.

Pure: counts come in from ``storage.figures`` (SQL over the ledger and the deadlines), times
are passed in, nothing here reads the clock or the database. Every figure is defined once, in
:data:`FIGURES`, with the article it serves; the README's table is this tuple.

Counting rules (one place, so the SQL, the report and the README agree):

* A limit (accept, on site, close, written report) is judged once per clock: when it is met
  (on time if met at or before its limit: a limit met exactly at its deadline is on time), or
  when it passes unmet (late; the sweeper's "overdue" alert is the ledger's record of that
  moment). A clock the regulation restarts (a transfer restarts the accept limit, Art. 12; a
  reopen restarts on site and close, Art. 13) is judged again.
* An approved delay moves the limit (Art. 13, preamble): the met time is compared with the
  moved limit, as the deadline clock judged it (``late`` in the ledger).
* A limit counts against the centre that held the ticket when it was judged: when the limit
  passed for a late one, when it was met for one on time. A ticket transferred after its
  limit passed at centre A counts late against A, whoever meets it later.
* A period is [start, end) in UTC, built from the company's local dates: a ticket belongs to
  the period it was received in; a judged limit, a decision, a follow-up answer, a register
  entry or a notice to the period it happened in.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from rules.errors import PolicyError

__all__ = [
    "LIMITS", "FigureDef", "FIGURES", "figure", "PointRule", "AssessmentRules", "DEFAULT_RULES", "EVENT_KINDS",
    "parse_rules", "load_rules", "LimitFigures", "Durations", "CentreFigures", "CrewFigures", "CountedEvent", "DayCount",
    "CentreScore", "score", "Period", "period_of", "previous_period", "period_between", "parse_day", "nearest_rank",
    "per_thousand", "percent",
]

# The limits of Art. 12-13, in the order a ticket meets them.
LIMITS = ("accept", "onsite", "close", "report")


@dataclass(frozen=True)
class FigureDef:
    key: str
    article: str
    definition: str           # the counting rule (the README's table); labels live in templates/


# One row per figure, in report order. ``definition`` is the counting rule in one sentence.
FIGURES: tuple[FigureDef, ...] = (
    FigureDef("received", "Art. 4, 13",
              "Tickets received in the period (by source, level, category), counted against the centre they were first routed to."),
    FigureDef("accept_on_time", "Art. 12",
              "Accept limits judged in the period that were met at or before their limit, of all judged (met, or passed unmet)."),
    FigureDef("onsite_on_time", "Art. 13 limits (1)(2), Art. 23 (1)",
              "On-site limits judged in the period that were met at or before their limit."),
    FigureDef("close_on_time", "Art. 13 limits (3), Art. 23 (1)",
              "Close limits judged in the period that were met at or before their limit (an approved delay moves the limit)."),
    FigureDef("report_on_time", "Art. 13 limits (4)",
              "Written-report limits judged in the period that were met at or before their limit."),
    FigureDef("minutes_to_accept", "Art. 12",
              "From the report's receipt to each Accept in the period (nearest-rank median and 90th percentile)."),
    FigureDef("minutes_to_arrive", "Art. 13 limits (1)(2)",
              "From the report's receipt to each Arrived in the period."),
    FigureDef("minutes_to_close", "Art. 13 limits (3)",
              "From the report's receipt to each Done in the period."),
    FigureDef("late", "Art. 13 other rules (2), Art. 23 (1), Art. 24 (2)",
              "Judged limits that were late, per limit: accept / on site / close / report."),
    FigureDef("delays", "Art. 13 preamble",
              "Delay requests sent to dispatch in the period, and dispatch's decisions in the period."),
    FigureDef("returns", "Art. 5, Art. 13 other rules (3)",
              "Returns asked by the centre; tickets dispatch transferred away from it and to it."),
    FigureDef("reopened", "Art. 8, Art. 24 (4)",
              "Residents' 'not solved' answers in the period, per ticket closed as done in the period."),
    FigureDef("repeat_faults", "Art. 23 (6)",
              "Reports in the period of the same fault at the same place within 30 days of a repaired one, against the centre that repaired it."),
    FigureDef("complaints_2plus", "Art. 24 (3)",
              "Tickets whose resident complained again while open, reaching two complaints in the period."),
    FigureDef("followup_reached", "Art. 8",
              "Follow-ups asked in the period that the resident answered (in Telegram or by phone)."),
    FigureDef("satisfied", "Art. 8",
              "Of the follow-ups answered in the period: solved and rated 4-5 or unrated, or phoned 'satisfied'."),
    FigureDef("rating_mean", "Art. 8",
              "Mean of the 1-5 ratings residents gave in the period."),
    FigureDef("notices_on_time", "Art. 23 (4)",
              "Outage notice postings due in the period that were posted at or before their deadline."),
    FigureDef("register", "Art. 10 (1), 18, 19, 22",
              "Dispatch's register entries in the period naming the centre."),
    FigureDef("complaints_per_1000", "Art. 8",
              "Tickets received in the period per 1,000 households of the communities the centre serves (only where the organisation file gives them)."),
    FigureDef("points", "Ch. 4-5 (Art. 18-24)",
              "Sum of the points of the counted events below ([assessment] of rules/policy.toml)."),
)


def figure(key: str) -> FigureDef:
    for f in FIGURES:
        if f.key == key:
            return f
    raise KeyError(key)


# --------------------------------------------------------------------------- points


@dataclass(frozen=True)
class PointRule:
    points: int
    article: str


# The countable events, with the article each serves. Points come from policy.toml.
EVENT_KINDS: dict[str, str] = {
    "late_accept": "Art. 24 (2)",
    "late_onsite": "Art. 23 (1)",
    "late_close": "Art. 23 (1)",
    "late_report": "Art. 24 (5)",
    "notice_late": "Art. 23 (4)",
    "repeat_fault": "Art. 23 (6)",
    "complaints_2plus": "Art. 24 (3)",
    "reopened": "Art. 24 (4)",
    "praise": "Art. 18",
    "press": "Art. 19",
    "criticism": "Art. 22",
    "supervision": "Art. 22 (2)",
}


@dataclass(frozen=True)
class AssessmentRules:
    points: dict[str, PointRule] = field(default_factory=lambda: {
        "late_accept": PointRule(-1, "Art. 24 (2)"), "late_onsite": PointRule(-2, "Art. 23 (1)"),
        "late_close": PointRule(-2, "Art. 23 (1)"), "late_report": PointRule(-1, "Art. 24 (5)"),
        "notice_late": PointRule(-2, "Art. 23 (4)"), "repeat_fault": PointRule(-3, "Art. 23 (6)"),
        "complaints_2plus": PointRule(-2, "Art. 24 (3)"), "reopened": PointRule(-1, "Art. 24 (4)"),
        "praise": PointRule(3, "Art. 18"), "press": PointRule(-5, "Art. 19"),
        "criticism": PointRule(-3, "Art. 22"), "supervision": PointRule(-2, "Art. 22 (2)"),
    })

    def points_for(self, kind: str) -> int:
        rule = self.points.get(kind)
        return rule.points if rule else 0


DEFAULT_RULES = AssessmentRules()


def parse_rules(table: dict[str, Any], path: str = "policy.toml") -> AssessmentRules:
    """``[assessment]``: ``<event> = { points = -2, article = "Art. 23 (1)" }`` for each event
    of :data:`EVENT_KINDS`; every event must be there (a missing one would silently count 0)."""
    points: dict[str, PointRule] = {}
    unknown = sorted(set(table) - set(EVENT_KINDS))
    if unknown:
        raise PolicyError(f"[assessment]: unknown event(s) {', '.join(unknown)} (known: {', '.join(EVENT_KINDS)})", path=path)
    for kind in EVENT_KINDS:
        entry = table.get(kind)
        if not isinstance(entry, dict):
            raise PolicyError(f"[assessment]: missing {kind} = {{ points = N, article = \"...\" }}", path=path)
        extra = sorted(set(entry) - {"points", "article"})
        value, article = entry.get("points"), entry.get("article")
        if extra or not isinstance(value, int) or isinstance(value, bool) or not isinstance(article, str) or not article.strip():
            raise PolicyError(f"[assessment] {kind}: needs an integer 'points' and an 'article' and nothing else", path=path)
        points[kind] = PointRule(value, article)
    return AssessmentRules(points)


def load_rules(path: Path | str) -> AssessmentRules:
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    return parse_rules(data.get("assessment", {}), str(path)) if "assessment" in data else DEFAULT_RULES


# --------------------------------------------------------------------------- figures


def percent(part: int, whole: int) -> float | None:
    """None when there is nothing to divide by: shown as "—", never as 0 % or 100 %."""
    return None if whole == 0 else 100.0 * part / whole


def per_thousand(count: int, households: int | None) -> float | None:
    return None if not households else 1000.0 * count / households


def nearest_rank(sorted_values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (the value at rank ceil(q*n)); the SQL uses the same rule."""
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


@dataclass(frozen=True)
class LimitFigures:
    judged: int = 0
    late: int = 0

    @property
    def on_time(self) -> int:
        return self.judged - self.late

    @property
    def on_time_pct(self) -> float | None:
        return percent(self.on_time, self.judged)


@dataclass(frozen=True)
class Durations:
    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class CentreFigures:
    """One centre's figures for a period ("" is dispatch: tickets nobody could route)."""
    centre_id: str
    name_zh: str
    name_en: str
    received: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    limits: dict[str, LimitFigures] = field(default_factory=lambda: {k: LimitFigures() for k in LIMITS})
    to_accept: Durations = Durations()
    to_arrive: Durations = Durations()
    to_close: Durations = Durations()
    delays_asked: int = 0
    delays_approved: int = 0
    delays_rejected: int = 0
    returns_asked: int = 0
    transfers_out: int = 0
    transfers_in: int = 0
    closed_done: int = 0
    reopened: int = 0
    repeat_faults: int = 0
    complaints_2plus: int = 0
    followups_asked: int = 0
    followups_reached: int = 0
    satisfied: int = 0
    answered: int = 0
    ratings: int = 0
    rating_sum: int = 0
    notices_due: int = 0
    notices_late: int = 0
    praise: int = 0
    criticism: int = 0
    press: int = 0
    supervision: int = 0
    households: int | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def reopened_pct(self) -> float | None:
        return percent(self.reopened, self.closed_done)

    @property
    def reached_pct(self) -> float | None:
        return percent(self.followups_reached, self.followups_asked)

    @property
    def satisfied_pct(self) -> float | None:
        return percent(self.satisfied, self.answered)

    @property
    def rating_mean(self) -> float | None:
        return None if self.ratings == 0 else self.rating_sum / self.ratings

    @property
    def notices_on_time_pct(self) -> float | None:
        return percent(self.notices_due - self.notices_late, self.notices_due)

    @property
    def complaints_per_1000(self) -> float | None:
        return per_thousand(self.received, self.households)

    def with_(self, **changes: Any) -> CentreFigures:
        return replace(self, **changes)


@dataclass(frozen=True)
class CrewFigures:
    """One crew member's figures: the steps they pressed and the limits they met late."""
    user_id: int
    name: str
    centre_id: str | None
    accepted: int = 0
    arrived: int = 0
    closed: int = 0
    late: int = 0
    ratings: int = 0
    rating_sum: int = 0
    praise: int = 0
    criticism: int = 0

    @property
    def rating_mean(self) -> float | None:
        return None if self.ratings == 0 else self.rating_sum / self.ratings


@dataclass(frozen=True)
class CountedEvent:
    """One countable event behind a centre's points (Ch. 4-5): what, when, which ticket or
    outage or register entry."""
    centre_id: str
    kind: str
    at: datetime
    ticket_id: int | None = None
    outage_id: int | None = None
    entry_id: int | None = None
    minutes: int | None = None          # how late, for a late limit

    @property
    def number(self) -> str:
        return f"{self.ticket_id:04d}" if self.ticket_id is not None else ""


@dataclass(frozen=True)
class DayCount:
    day: date
    received: int
    late: int


@dataclass(frozen=True)
class CentreScore:
    centre_id: str
    points: int
    rank: int
    events: tuple[tuple[CountedEvent, int], ...]   # (event, its points)


def score(centres: list[CentreFigures], events: list[CountedEvent], rules: AssessmentRules = DEFAULT_RULES) -> list[CentreScore]:
    """Centres ranked by points, highest first (ties share a rank; then by centre id)."""
    per: dict[str, list[tuple[CountedEvent, int]]] = {c.centre_id: [] for c in centres}
    for e in events:
        per.setdefault(e.centre_id, []).append((e, rules.points_for(e.kind)))
    totals = sorted(((sum(p for _, p in evs), cid) for cid, evs in per.items()), key=lambda x: (-x[0], x[1]))
    out: list[CentreScore] = []
    rank = 0
    previous: int | None = None
    for i, (total, cid) in enumerate(totals, start=1):
        if total != previous:
            rank, previous = i, total
        evs = tuple(sorted(per[cid], key=lambda ep: (ep[0].at, ep[0].ticket_id or 0, ep[0].kind)))
        out.append(CentreScore(cid, total, rank, evs))
    return out


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes; ``first`` and ``last`` are the local dates it covers."""
    start: datetime
    end: datetime
    first: date
    last: date


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def period_between(first: date, last: date, tz: tzinfo) -> Period:
    """From ``first`` 00:00 to the end of ``last`` in the company's time zone."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return Period(_midnight(first, tz), _midnight(last + timedelta(days=1), tz), first, last)


def period_of(kind: str, now: datetime, tz: tzinfo) -> Period:
    """The day, week (Monday first) or month that contains ``now``, in local time."""
    today = now.astimezone(tz).date()
    if kind == "day":
        return period_between(today, today, tz)
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return period_between(monday, monday + timedelta(days=6), tz)
    if kind == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return period_between(first, following - timedelta(days=1), tz)
    raise ValueError(f"unknown period {kind!r} (day, week or month)")


def previous_period(kind: str, now: datetime, tz: tzinfo) -> Period:
    """The whole day, week or month before the one containing ``now``."""
    current = period_of(kind, now, tz)
    return period_of(kind, current.start - timedelta(hours=1), tz)


def parse_day(text: str) -> date:
    return date.fromisoformat(text.strip())
