"""Service policy: ticket categories, levels and time limits of the regulation.

The numbers live in ``policy.toml`` (each entry cites its article) so that the company can
amend them without a release; this module loads and checks that file and applies it. It is
pure: times are passed in, nothing is read from the clock, nothing touches Telegram or the
database.

Levels and limits (Art. 12-13):

* a category has a default level (Art. 13, urgent / general events);
* a ticket from one of the policy's major sources is major whatever its category
  (Art. 13, urgent (1));
* dispatch may set the level of any ticket (Art. 13, other rules (1)): the override wins;
* accept within 30 minutes (Art. 12), on site within 60 minutes (Art. 13, limits (1)) or 40
  for network bursts (limits (2)), closed within 12 hours if major and 24 if general
  (limits (3)), all counted from the time the report was received (Art. 13).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any

from rules.assessment import DEFAULT_RULES as DEFAULT_ASSESSMENT_RULES
from rules.assessment import AssessmentRules, parse_rules as parse_assessment
from rules.followup import DEFAULT_RULES as DEFAULT_FOLLOWUP_RULES
from rules.followup import FollowupRules
from rules.outages import DEFAULT_RULES as DEFAULT_OUTAGE_RULES
from rules.outages import OutageRules
from rules.errors import PolicyError, UnknownCategory, UnknownSource

__all__ = [
    "Level",
    "Source",
    "CentreKind",
    "DeadlineKind",
    "Category",
    "Policy",
    "Deadlines",
    "Assessment",
    "DEFAULT_POLICY_PATH",
    "OVERRIDE_ARTICLE",
    "INJURY_ARTICLE",
    "load_policy",
    "parse_source",
    "ticket_level",
    "compute_deadlines",
    "assess",
    "explain",
    "format_explain",
    "parse_local_time",
]


class Level(StrEnum):
    MAJOR = "major"
    GENERAL = "general"


class Source(StrEnum):
    RESIDENT = "resident"
    HOTLINE = "hotline"
    MAYOR_HOTLINE = "mayor_hotline"
    HOUSING_BUREAU = "housing_bureau"
    PRESS = "press"
    ONLINE = "online"
    COMPANY_URGENT = "company_urgent"


class CentreKind(StrEnum):
    REPAIR = "repair"
    NETWORK = "network"
    METERING = "metering"
    AUTOMATION = "automation"


class DeadlineKind(StrEnum):
    ACCEPT = "accept"
    ONSITE = "onsite"
    CLOSE = "close"
    REPORT = "report"


DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.toml")

# Dispatch decides the level of reputational or unforeseen events; the override is how it does so.
OVERRIDE_ARTICLE = "Art. 13, other rules (1)"
# Possible injury or property loss is itself an urgent event, and the reason Art. 7 applies.
INJURY_ARTICLE = "Art. 13, urgent (2)"

# Codes go into stored tickets and Telegram callback data (64 bytes), so keep them short and plain.
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Category:
    code: str
    label_zh: str
    label_en: str
    level: Level
    centre_kind: CentreKind
    article: str
    accept_minutes: int
    onsite_minutes: int
    possible_injury: bool = False
    centre_article: str = ""
    # Citation for this category's own accept/on-site minutes; empty when it keeps the defaults.
    limits_article: str = ""

    def label(self, lang: str) -> str:
        return self.label_zh if lang.lower().startswith("zh") else self.label_en


@dataclass(frozen=True)
class Policy:
    categories: dict[str, Category]
    major_sources: frozenset[Source]
    close_hours: dict[Level, int]
    report_hours: int
    reminder_lead: dict[DeadlineKind, timedelta]
    escalation_interval: timedelta
    wide_impact_sources: frozenset[Source]
    accept_minutes: int = 30
    onsite_minutes: int = 60
    accept_article: str = "Art. 12"
    onsite_article: str = "Art. 13, limits (1)"
    close_article: str = "Art. 13, limits (3)"
    report_article: str = "Art. 13, limits (4)"
    major_sources_article: str = "Art. 13, urgent (1)"
    wide_impact_article: str = "Art. 7"
    outages: OutageRules = DEFAULT_OUTAGE_RULES
    followup: FollowupRules = DEFAULT_FOLLOWUP_RULES
    # Art. 11: a shift handover nobody acknowledged after this long is told to the centre's lead.
    handover_ack: timedelta = timedelta(minutes=15)
    assessment: AssessmentRules = DEFAULT_ASSESSMENT_RULES

    def category(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise UnknownCategory(code, tuple(self.categories)) from None

    @property
    def report_limit(self) -> timedelta:
        return timedelta(hours=self.report_hours)

    def close_limit(self, level: Level) -> timedelta:
        return timedelta(hours=self.close_hours[level])


@dataclass(frozen=True)
class Deadlines:
    accept_by: datetime
    onsite_by: datetime
    close_by: datetime


@dataclass(frozen=True)
class Assessment:
    category: Category
    source: Source
    level: Level
    received_at: datetime
    deadlines: Deadlines
    wide_impact: bool
    reasons: tuple[str, ...]


# --------------------------------------------------------------------------- loading


class _Reader:
    """Typed access to one table of the policy file, with errors that say where."""

    def __init__(self, path: str, table: dict[str, Any], where: str, entry: str | None = None) -> None:
        self.path = path
        self.table = table
        self.where = where
        self.entry = entry

    def fail(self, message: str, key: str | None = None) -> PolicyError:
        section = None if self.entry else (self.where or None)
        return PolicyError(message, path=self.path, section=section, entry=self.entry, key=key)

    def get(self, key: str, kind: type, *, default: Any = ..., what: str = "") -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail("missing required key", key)
            return default
        value = self.table[key]
        # bool is an int in Python, but `accept_minutes = true` is a typo, not a number.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(f"must be {what or _TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}", key)
        return value

    def text(self, key: str, *, default: Any = ...) -> str:
        value = self.get(key, str, default=default)
        if key in self.table and not value.strip():
            raise self.fail("must not be empty", key)
        return value

    def positive(self, key: str, *, default: Any = ...) -> int:
        value = self.get(key, int, default=default, what="a positive integer")
        if value <= 0:
            raise self.fail(f"must be a positive integer, got {value!r}", key)
        return value

    def table_of(self, key: str) -> dict[str, Any]:
        return self.get(key, dict, what="a table")

    def enum(self, key: str, enum: type[StrEnum]) -> Any:
        value = self.get(key, str)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise self.fail(f"unknown {key} {value!r} (expected one of: {allowed})", key) from None

    def only(self, allowed: set[str]) -> None:
        # A misspelt optional key would otherwise be ignored and its default silently used.
        for key in self.table:
            if key not in allowed:
                raise self.fail(f"unknown key (expected one of: {', '.join(sorted(allowed))})", key)


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "a table", list: "a list"}


def _sources(reader: _Reader, key: str) -> frozenset[Source]:
    values = reader.get(key, list, what="a list of sources")
    result = set()
    for value in values:
        try:
            result.add(Source(value))
        except ValueError:
            allowed = ", ".join(s.value for s in Source)
            raise reader.fail(f"unknown source {value!r} (expected one of: {allowed})", key) from None
    return frozenset(result)


_CATEGORY_KEYS = {
    "code", "label_zh", "label_en", "level", "article", "centre_kind", "centre_article",
    "accept_minutes", "onsite_minutes", "limits_article", "possible_injury",
}


def load_policy(path: Path | str | None = None) -> Policy:
    """Load and check a policy file (the shipped ``rules/policy.toml`` by default).

    Raises :class:`PolicyError` naming the file, the category code and the key at fault.
    """
    file = Path(path) if path is not None else DEFAULT_POLICY_PATH
    name = str(file)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file: {exc.strerror or exc}", path=name) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"not valid TOML: {exc}", path=name) from None

    top = _Reader(name, data, "")
    top.only({"limits", "sources", "reminders", "escalation", "categories", "outages", "followup", "handover", "assessment"})

    limits = _Reader(name, top.table_of("limits"), "[limits]")
    limits.only({
        "accept_minutes", "accept_article", "onsite_minutes", "onsite_article",
        "report_hours", "report_article", "close_hours", "close_article",
    })
    accept_minutes = limits.positive("accept_minutes")
    onsite_minutes = limits.positive("onsite_minutes")
    accept_article = limits.text("accept_article")
    onsite_article = limits.text("onsite_article")
    close = _Reader(name, limits.table_of("close_hours"), "[limits] close_hours")
    close.only({level.value for level in Level})
    close_hours = {level: close.positive(level.value) for level in Level}

    sources = _Reader(name, top.table_of("sources"), "[sources]")
    sources.only({"major", "major_article", "wide_impact", "wide_impact_article"})

    reminders = _Reader(name, top.table_of("reminders"), "[reminders]")
    reminders.only({kind.value for kind in DeadlineKind})
    escalation = _Reader(name, top.table_of("escalation"), "[escalation]")
    escalation.only({"interval_minutes"})

    outages = DEFAULT_OUTAGE_RULES
    if "outages" in data:
        o = _Reader(name, top.table_of("outages"), "[outages]")
        o.only({"notice_period_hours", "posting_reminder_hours", "subscriber_reminder_hours",
                "emergency_posting_hours", "min_posting_minutes", "article"})
        outages = OutageRules(
            notice_period=timedelta(hours=o.positive("notice_period_hours")),
            posting_reminder_lead=timedelta(hours=o.positive("posting_reminder_hours")),
            subscriber_reminder=timedelta(hours=o.positive("subscriber_reminder_hours")),
            emergency_posting=timedelta(hours=o.positive("emergency_posting_hours")),
            min_posting=timedelta(minutes=o.positive("min_posting_minutes")),
        )

    handover_ack = timedelta(minutes=15)
    if "handover" in data:
        h = _Reader(name, top.table_of("handover"), "[handover]")
        h.only({"ack_minutes", "article"})
        handover_ack = timedelta(minutes=h.positive("ack_minutes"))

    followup = DEFAULT_FOLLOWUP_RULES
    if "followup" in data:
        f = _Reader(name, top.table_of("followup"), "[followup]")
        f.only({"answer_hours", "answer_days", "dispatch_after_reopens", "repeat_days", "building_categories",
                "complaints_to_dispatch", "cluster_reports", "cluster_minutes", "cluster_categories", "show_crew_phone",
                "article"})
        f.text("article")
        followup = FollowupRules(
            answer_within=timedelta(hours=f.positive("answer_hours")),
            answer_until=timedelta(days=f.positive("answer_days")),
            dispatch_after_reopens=f.positive("dispatch_after_reopens"),
            repeat_window=timedelta(days=f.positive("repeat_days")),
            building_categories=frozenset(f.get("building_categories", list, what="a list of category codes")),
            complaints_to_dispatch=f.positive("complaints_to_dispatch"),
            cluster_reports=f.positive("cluster_reports"),
            cluster_window=timedelta(minutes=f.positive("cluster_minutes")),
            cluster_categories=frozenset(f.get("cluster_categories", list, what="a list of category codes")),
            show_crew_phone=f.get("show_crew_phone", bool, default=True),
        )

    raw_categories = top.get("categories", list, what="an array of [[categories]] tables")
    if not raw_categories:
        raise top.fail("no [[categories]] defined", "categories")
    categories: dict[str, Category] = {}
    for index, raw in enumerate(raw_categories, start=1):
        if not isinstance(raw, dict):
            raise top.fail(f"entry {index} must be a table", "categories")
        code = raw.get("code")
        entry = code if isinstance(code, str) and code else f"#{index}"
        reader = _Reader(name, raw, "[[categories]]", entry)
        reader.only(_CATEGORY_KEYS)
        code = reader.text("code")
        if not _CODE_RE.match(code):
            raise reader.fail(f"code {code!r} must be lower-case letters, digits and _ (at most 32)", "code")
        if code in categories:
            raise reader.fail(f"duplicate category code {code!r}", "code")
        overrides_limits = "accept_minutes" in raw or "onsite_minutes" in raw
        if overrides_limits and "limits_article" not in raw:
            raise reader.fail(
                "missing: a category that sets its own minutes must cite the article granting them",
                "limits_article",
            )
        categories[code] = Category(
            code=code,
            label_zh=reader.text("label_zh"),
            label_en=reader.text("label_en"),
            level=reader.enum("level", Level),
            centre_kind=reader.enum("centre_kind", CentreKind),
            article=reader.text("article"),
            accept_minutes=reader.positive("accept_minutes", default=accept_minutes),
            onsite_minutes=reader.positive("onsite_minutes", default=onsite_minutes),
            possible_injury=reader.get("possible_injury", bool, default=False),
            centre_article=reader.text("centre_article"),
            limits_article=reader.text("limits_article", default=""),
        )
    if "followup" in data:
        for key in ("building_categories", "cluster_categories"):
            unknown = sorted(set(getattr(followup, key)) - set(categories))
            if unknown:
                raise _Reader(name, data["followup"], "[followup]").fail(f"unknown category codes: {', '.join(unknown)}", key)

    return Policy(
        categories=categories,
        major_sources=_sources(sources, "major"),
        close_hours=close_hours,
        report_hours=limits.positive("report_hours"),
        reminder_lead={kind: timedelta(minutes=reminders.positive(kind.value)) for kind in DeadlineKind},
        escalation_interval=timedelta(minutes=escalation.positive("interval_minutes")),
        wide_impact_sources=_sources(sources, "wide_impact"),
        accept_minutes=accept_minutes,
        onsite_minutes=onsite_minutes,
        accept_article=accept_article,
        onsite_article=onsite_article,
        close_article=limits.text("close_article"),
        report_article=limits.text("report_article"),
        major_sources_article=sources.text("major_article"),
        wide_impact_article=sources.text("wide_impact_article"),
        outages=outages,
        followup=followup,
        handover_ack=handover_ack,
        assessment=parse_assessment(top.table_of("assessment"), name) if "assessment" in data else DEFAULT_ASSESSMENT_RULES,
    )


# --------------------------------------------------------------------------- applying


def parse_source(value: str) -> Source:
    """``"press"`` -> ``Source.PRESS``; case and surrounding blanks are forgiven, spelling is not."""
    if isinstance(value, Source):
        return value
    try:
        return Source(str(value).strip().lower())
    except ValueError:
        raise UnknownSource(str(value), tuple(s.value for s in Source)) from None


def _as_source(source: Source | str) -> Source:
    return source if isinstance(source, Source) else parse_source(source)


def ticket_level(
    policy: Policy, category_code: str, source: Source | str, override: Level | None = None
) -> Level:
    """The ticket's level: dispatch's override, else major from a major source, else the category's."""
    category = policy.category(category_code)
    if override is not None:
        return Level(override)
    if _as_source(source) in policy.major_sources:
        return Level.MAJOR
    return category.level


def _after(start: datetime, delta: timedelta) -> datetime:
    # Aware arithmetic in a zone is wall-clock arithmetic; a limit is elapsed time, so add in
    # UTC and convert back (matters wherever the company's zone has DST).
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


def _require_aware(when: datetime, name: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {when.isoformat()}")


def compute_deadlines(policy: Policy, category: Category, level: Level, received_at: datetime) -> Deadlines:
    """Deadlines counted from the time the report was received (Art. 13)."""
    _require_aware(received_at, "received_at")
    return Deadlines(
        accept_by=_after(received_at, timedelta(minutes=category.accept_minutes)),
        onsite_by=_after(received_at, timedelta(minutes=category.onsite_minutes)),
        close_by=_after(received_at, policy.close_limit(level)),
    )


def assess(
    policy: Policy,
    category_code: str,
    source: Source | str,
    received_at: datetime,
    level_override: Level | None = None,
) -> Assessment:
    """Level, deadlines and Art. 7 flag of a ticket, with the reasons citing their articles.

    ``received_at`` must be timezone-aware (``ValueError`` otherwise); the deadlines come back
    in its time zone.
    """
    _require_aware(received_at, "received_at")
    category = policy.category(category_code)
    source = _as_source(source)
    level = ticket_level(policy, category_code, source, level_override)

    reasons = [f"{category.level}: category {category.code} ({category.article})"]
    if source in policy.major_sources:
        reasons.append(f"major: source {source} ({policy.major_sources_article})")
    if level_override is not None:
        reasons.append(f"{Level(level_override)}: set by dispatch ({OVERRIDE_ARTICLE})")
    reasons.append(f"handled by a {category.centre_kind} centre ({category.centre_article})")

    accept_cite = _limit_cite(category.accept_minutes, policy.accept_minutes, policy.accept_article, category)
    onsite_cite = _limit_cite(category.onsite_minutes, policy.onsite_minutes, policy.onsite_article, category)
    reasons.append(f"accept within {category.accept_minutes} min ({accept_cite})")
    reasons.append(f"on site within {category.onsite_minutes} min ({onsite_cite})")
    reasons.append(f"close within {policy.close_hours[level]} h as a {level} event ({policy.close_article})")

    wide = False
    if source in policy.wide_impact_sources:
        wide = True
        reasons.append(f"wide impact: source {source} ({policy.wide_impact_article})")
    if category.possible_injury:
        wide = True
        reasons.append(
            f"wide impact: possible injury or property loss ({policy.wide_impact_article}; {INJURY_ARTICLE})"
        )

    return Assessment(
        category=category,
        source=source,
        level=level,
        received_at=received_at,
        deadlines=compute_deadlines(policy, category, level, received_at),
        wide_impact=wide,
        reasons=tuple(reasons),
    )


def _limit_cite(minutes: int, default_minutes: int, default_article: str, category: Category) -> str:
    if minutes != default_minutes and category.limits_article:
        return category.limits_article
    return default_article


# --------------------------------------------------------------------------- rules explain


def parse_local_time(text: str, tz: tzinfo) -> datetime:
    """ISO 8601 text to an aware datetime: without an offset it is the company's local time."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-01-15T08:30 or 2026-01-15T08:30+08:00)"
        ) from None
    if when.tzinfo is None:
        return when.replace(tzinfo=tz)
    return when


def explain(
    policy: Policy,
    category_code: str,
    source: Source | str,
    received_at: datetime,
    tz: tzinfo,
    lang: str = "en",
    level_override: Level | None = None,
) -> dict[str, Any]:
    """What the rules make of one report, as a JSON-ready dict (times ISO 8601 in ``tz``)."""
    result = assess(policy, category_code, _as_source(source), received_at, level_override)

    def iso(when: datetime) -> str:
        return when.astimezone(tz).isoformat()

    return {
        "category": result.category.code,
        "category_label": result.category.label(lang),
        "centre_kind": str(result.category.centre_kind),
        "source": str(result.source),
        "level": str(result.level),
        "reasons": list(result.reasons),
        "received": iso(result.received_at),
        "deadlines": {
            "accept": iso(result.deadlines.accept_by),
            "onsite": iso(result.deadlines.onsite_by),
            "close": iso(result.deadlines.close_by),
        },
        "wide_impact": result.wide_impact,
    }


def format_explain(d: dict[str, Any]) -> str:
    """A human-readable print of :func:`explain`'s dict."""
    deadlines = d["deadlines"]
    lines = [
        f"Category:    {d['category']} ({d['category_label']})",
        f"Centre:      {d['centre_kind']}",
        f"Source:      {d['source']}",
        f"Level:       {d['level']}",
        f"Received:    {d['received']}",
        f"Accept by:   {deadlines['accept']}",
        f"On site by:  {deadlines['onsite']}",
        f"Close by:    {deadlines['close']}",
        f"Wide impact: {'yes, report to leadership at once (Art. 7)' if d['wide_impact'] else 'no'}",
        "Reasons:",
    ]
    lines.extend(f"  - {reason}" for reason in d["reasons"])
    return "\n".join(lines)
