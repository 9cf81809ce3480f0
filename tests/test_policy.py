"""The service policy against the regulation (Art. 7, 10, 12, 13), article by article."""
from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules.errors import PolicyError, RulesError, UnknownCategory, UnknownSource
from rules.policy import (
    DEFAULT_POLICY_PATH,
    CentreKind,
    DeadlineKind,
    Level,
    Source,
    assess,
    explain,
    format_explain,
    load_policy,
    parse_local_time,
    parse_source,
    ticket_level,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 1, 15, 8, 30, tzinfo=SHANGHAI)
MAJOR, GENERAL = Level.MAJOR, Level.GENERAL
REPAIR, NETWORK, METERING = CentreKind.REPAIR, CentreKind.NETWORK, CentreKind.METERING


@pytest.fixture(scope="module")
def policy():
    return load_policy()


# --------------------------------------------------------------------------- categories

# code, level, centre kind, accept min, on-site min, possible injury, article giving the level
CATEGORIES = [
    ("not_warm", MAJOR, REPAIR, 30, 60, False, "Art. 13, urgent (4)"),
    ("room_temp", GENERAL, REPAIR, 30, 60, False, "Art. 13, general (4)"),
    ("home_leak", GENERAL, REPAIR, 30, 60, False, "Art. 13, general (2)"),
    ("network_burst", MAJOR, NETWORK, 30, 40, True, "Art. 13, urgent (5)"),
    ("manhole", MAJOR, NETWORK, 30, 60, True, "Art. 13, urgent (8)"),
    ("illegal_use", MAJOR, REPAIR, 30, 60, False, "Art. 13, urgent (6)"),
    ("switch_on", MAJOR, REPAIR, 30, 60, False, "Art. 13, urgent (3)"),
    ("shut_off", GENERAL, REPAIR, 30, 60, False, "Art. 13, general (5)"),
    ("meter", GENERAL, METERING, 30, 60, False, "Art. 13, general (3)"),
    ("quality", MAJOR, REPAIR, 30, 60, False, "Art. 13, urgent (7)"),
    ("other", GENERAL, REPAIR, 30, 60, False, "Art. 13, general (6)"),
]
GENERAL_CODES = [row[0] for row in CATEGORIES if row[1] is GENERAL]
MAJOR_SOURCES = [Source.MAYOR_HOTLINE, Source.HOUSING_BUREAU, Source.PRESS, Source.ONLINE, Source.COMPANY_URGENT]


@pytest.mark.parametrize(
    ("code", "level", "kind", "accept", "onsite", "injury", "article"),
    CATEGORIES,
    ids=[row[0] for row in CATEGORIES],
)
def test_each_category_from_a_resident_has_the_level_centre_and_limits_of_art_13(
    policy, code, level, kind, accept, onsite, injury, article
):
    category = policy.category(code)
    assert (category.level, category.centre_kind, category.article) == (level, kind, article)
    assert (category.accept_minutes, category.onsite_minutes) == (accept, onsite)
    assert category.possible_injury is injury

    result = assess(policy, code, Source.RESIDENT, RECEIVED)
    assert result.level is level
    assert result.deadlines.accept_by == RECEIVED + timedelta(minutes=accept)
    assert result.deadlines.onsite_by == RECEIVED + timedelta(minutes=onsite)
    # Art. 13, limits (3): major 12 hours, general 24 hours.
    assert result.deadlines.close_by == RECEIVED + timedelta(hours=12 if level is MAJOR else 24)


def test_the_shipped_policy_loads_with_every_category_citing_its_articles(policy):
    assert load_policy(DEFAULT_POLICY_PATH) == policy
    assert {row[0] for row in CATEGORIES} <= set(policy.categories)
    for category in policy.categories.values():
        assert category.article.startswith("Art. 13, "), category.code
        assert category.centre_article.startswith("Art. 10 ("), category.code
        assert category.label_zh and category.label_en


def test_categories_keep_file_order_as_menu_order(policy):
    assert list(policy.categories)[:3] == ["not_warm", "room_temp", "home_leak"]
    assert list(policy.categories)[-1] == "other"


def test_a_category_label_follows_the_language(policy):
    category = policy.category("not_warm")
    assert category.label("zh") == "家中不热"
    assert category.label("zh-hans") == "家中不热"
    assert category.label("en") == "Home not warm"


def test_the_shipped_policy_holds_the_clock_settings():
    policy = load_policy()
    assert policy.reminder_lead == {
        DeadlineKind.ACCEPT: timedelta(minutes=10),
        DeadlineKind.ONSITE: timedelta(minutes=15),
        DeadlineKind.CLOSE: timedelta(minutes=120),
        DeadlineKind.REPORT: timedelta(minutes=60),
    }
    assert policy.escalation_interval == timedelta(minutes=30)
    assert policy.report_hours == 8  # Art. 13, limits (4)
    assert policy.close_hours == {MAJOR: 12, GENERAL: 24}  # Art. 13, limits (3)
    assert policy.wide_impact_sources == {Source.PRESS, Source.MAYOR_HOTLINE}  # Art. 7
    assert policy.major_sources == set(MAJOR_SOURCES)  # Art. 13, urgent (1)


# --------------------------------------------------------------------------- sources and levels


@pytest.mark.parametrize("code", GENERAL_CODES, ids=GENERAL_CODES)
@pytest.mark.parametrize("source", MAJOR_SOURCES, ids=[s.value for s in MAJOR_SOURCES])
def test_a_major_source_makes_a_general_category_major_and_closes_in_12_hours(policy, source, code):
    result = assess(policy, code, source, RECEIVED)
    assert result.level is MAJOR
    assert result.deadlines.close_by == RECEIVED + timedelta(hours=12)
    assert f"major: source {source.value} (Art. 13, urgent (1))" in result.reasons


# Art. 13, urgent (1) in the Chinese text names the city government, the housing bureau, the
# news media and the company's urgent matters, not online channels; customer-service orders
# (the hotline) are general events by Art. 13, general (1).
NOT_MAJOR_SOURCES = [Source.RESIDENT, Source.HOTLINE]


@pytest.mark.parametrize("source", NOT_MAJOR_SOURCES, ids=[s.value for s in NOT_MAJOR_SOURCES])
def test_other_sources_keep_the_category_level(policy, source):
    assert ticket_level(policy, "room_temp", source) is GENERAL
    assert ticket_level(policy, "not_warm", source) is MAJOR


OVERRIDES = [
    ("general_raised_by_dispatch", "room_temp", Source.RESIDENT, MAJOR, 12),
    ("major_lowered_by_dispatch", "not_warm", Source.RESIDENT, GENERAL, 24),
    ("major_source_lowered_by_dispatch", "room_temp", Source.PRESS, GENERAL, 24),
    ("override_equal_to_default", "quality", Source.RESIDENT, MAJOR, 12),
]


@pytest.mark.parametrize(
    ("code", "source", "override", "close_hours"),
    [row[1:] for row in OVERRIDES],
    ids=[row[0] for row in OVERRIDES],
)
def test_dispatch_override_sets_the_level_and_the_close_limit_follows_it(policy, code, source, override, close_hours):
    # Art. 13, other rules (1): dispatch decides the level.
    assert ticket_level(policy, code, source, override) is override
    result = assess(policy, code, source, RECEIVED, level_override=override)
    assert result.level is override
    assert result.deadlines.close_by == RECEIVED + timedelta(hours=close_hours)
    assert f"{override.value}: set by dispatch (Art. 13, other rules (1))" in result.reasons


def test_a_network_burst_must_be_reached_within_40_minutes(policy):
    # Art. 13, limits (2); the other limits stay the defaults.
    result = assess(policy, "network_burst", Source.RESIDENT, RECEIVED)
    assert result.deadlines.onsite_by == datetime(2026, 1, 15, 9, 10, tzinfo=SHANGHAI)
    assert result.deadlines.accept_by == datetime(2026, 1, 15, 9, 0, tzinfo=SHANGHAI)
    assert "on site within 40 min (Art. 13, limits (2))" in result.reasons


WIDE_IMPACT = [
    ("press", "room_temp", Source.PRESS, True),
    ("mayor_hotline", "room_temp", Source.MAYOR_HOTLINE, True),
    ("manhole_possible_injury", "manhole", Source.RESIDENT, True),
    ("network_burst_possible_injury", "network_burst", Source.RESIDENT, True),
    ("housing_bureau_is_major_only", "room_temp", Source.HOUSING_BUREAU, False),
    ("resident_not_warm", "not_warm", Source.RESIDENT, False),
]


@pytest.mark.parametrize(
    ("code", "source", "wide"), [row[1:] for row in WIDE_IMPACT], ids=[row[0] for row in WIDE_IMPACT]
)
def test_wide_impact_comes_from_press_mayor_hotline_or_possible_injury(policy, code, source, wide):
    # Art. 7: reported to leadership at once.
    result = assess(policy, code, source, RECEIVED)
    assert result.wide_impact is wide
    assert any(reason.startswith("wide impact") and "(Art. 7" in reason for reason in result.reasons) is wide


def test_every_reason_cites_an_article(policy):
    result = assess(policy, "network_burst", Source.PRESS, RECEIVED, level_override=MAJOR)
    assert result.reasons[0] == "major: category network_burst (Art. 13, urgent (5))"
    assert all("(Art. " in reason for reason in result.reasons), result.reasons


# --------------------------------------------------------------------------- deadlines and times


def test_deadlines_run_from_the_received_time_in_its_time_zone(policy):
    # Art. 13: limits count from when the report was received.
    result = assess(policy, "not_warm", Source.RESIDENT, RECEIVED)
    assert result.received_at == RECEIVED
    assert result.deadlines.accept_by == datetime(2026, 1, 15, 9, 0, tzinfo=SHANGHAI)
    assert result.deadlines.onsite_by == datetime(2026, 1, 15, 9, 30, tzinfo=SHANGHAI)
    assert result.deadlines.close_by == datetime(2026, 1, 15, 20, 30, tzinfo=SHANGHAI)
    assert result.deadlines.close_by.tzinfo is SHANGHAI

    in_utc = assess(policy, "not_warm", Source.RESIDENT, RECEIVED.astimezone(UTC))
    assert in_utc.deadlines.close_by.tzinfo is UTC
    assert in_utc.deadlines.close_by == result.deadlines.close_by


def test_limits_are_elapsed_time_even_across_a_dst_change(policy):
    new_york = ZoneInfo("America/New_York")
    received = datetime(2026, 3, 7, 12, 0, tzinfo=new_york)  # clocks go forward on 8 March
    result = assess(policy, "room_temp", Source.RESIDENT, received)
    # Subtracting two times of one zone is wall-clock arithmetic in Python; compare in UTC.
    assert result.deadlines.close_by.astimezone(UTC) - received.astimezone(UTC) == timedelta(hours=24)
    assert result.deadlines.close_by.hour == 13


def test_a_naive_received_time_is_rejected(policy):
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(policy, "not_warm", Source.RESIDENT, datetime(2026, 1, 15, 8, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        explain(policy, "not_warm", Source.RESIDENT, datetime(2026, 1, 15, 8, 30), SHANGHAI)


def test_an_unknown_category_raises_unknown_category(policy):
    for call in (
        lambda: policy.category("cold_feet"),
        lambda: ticket_level(policy, "cold_feet", Source.RESIDENT),
        lambda: assess(policy, "cold_feet", Source.RESIDENT, RECEIVED),
    ):
        with pytest.raises(UnknownCategory, match="cold_feet") as raised:
            call()
        assert isinstance(raised.value, RulesError)
        assert "not_warm" in raised.value.known


SOURCE_TEXTS = [(s.value, s) for s in Source] + [("  Press ", Source.PRESS), ("MAYOR_HOTLINE", Source.MAYOR_HOTLINE)]


@pytest.mark.parametrize(("text", "source"), SOURCE_TEXTS, ids=[repr(t) for t, _ in SOURCE_TEXTS])
def test_parse_source_reads_each_source(text, source):
    assert parse_source(text) is source


@pytest.mark.parametrize("text", ["12345", "phone", "", "mayor hotline"], ids=["number", "word", "empty", "space"])
def test_an_unknown_source_raises_unknown_source(text):
    with pytest.raises(UnknownSource) as raised:
        parse_source(text)
    assert isinstance(raised.value, RulesError)
    assert "resident" in str(raised.value)


# --------------------------------------------------------------------------- rules explain

# id, text, the instant it names, the UTC offset it keeps (hours)
LOCAL_TIMES = [
    ("naive_is_local", "2026-01-15T08:30", datetime(2026, 1, 15, 8, 30, tzinfo=SHANGHAI), 8),
    ("naive_with_space", "2026-01-15 08:30:15", datetime(2026, 1, 15, 8, 30, 15, tzinfo=SHANGHAI), 8),
    ("offset_kept", "2026-01-15T08:30+00:00", datetime(2026, 1, 15, 8, 30, tzinfo=UTC), 0),
    ("z_is_utc", "2026-01-15T00:30Z", datetime(2026, 1, 15, 8, 30, tzinfo=SHANGHAI), 0),
    ("other_offset", "2026-01-15T09:30+09:00", datetime(2026, 1, 15, 8, 30, tzinfo=SHANGHAI), 9),
]


@pytest.mark.parametrize(
    ("text", "instant", "offset_hours"), [r[1:] for r in LOCAL_TIMES], ids=[r[0] for r in LOCAL_TIMES]
)
def test_parse_local_time_reads_a_time_without_offset_as_company_time(text, instant, offset_hours):
    parsed = parse_local_time(text, SHANGHAI)
    assert parsed == instant
    assert parsed.utcoffset() == timedelta(hours=offset_hours)


def test_parse_local_time_rejects_text_that_is_not_iso():
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_local_time("yesterday at 8", SHANGHAI)


def test_explain_gives_a_json_ready_account_in_the_company_time_zone(policy):
    received = parse_local_time("2026-01-15T00:30Z", SHANGHAI)
    d = explain(policy, "network_burst", "press", received, SHANGHAI, lang="zh")
    assert json.loads(json.dumps(d)) == d
    assert d == {
        "category": "network_burst",
        "category_label": policy.category("network_burst").label_zh,
        "centre_kind": "network",
        "source": "press",
        "level": "major",
        "reasons": list(assess(policy, "network_burst", Source.PRESS, received).reasons),
        "received": "2026-01-15T08:30:00+08:00",
        "deadlines": {
            "accept": "2026-01-15T09:00:00+08:00",
            "onsite": "2026-01-15T09:10:00+08:00",
            "close": "2026-01-15T20:30:00+08:00",
        },
        "wide_impact": True,
    }


def test_format_explain_prints_every_field_on_its_own_line(policy):
    d = explain(policy, "room_temp", Source.MAYOR_HOTLINE, RECEIVED, SHANGHAI)
    text = format_explain(d)
    lines = text.splitlines()
    assert "Category:    room_temp (Abnormal room temperature)" in lines
    assert "Level:       major" in lines
    assert "Close by:    2026-01-15T20:30:00+08:00" in lines
    assert "  - major: source mayor_hotline (Art. 13, urgent (1))" in lines
    assert lines[-len(d["reasons"]) - 1] == "Reasons:"


# --------------------------------------------------------------------------- malformed policy files

VALID_POLICY = """\
[limits]
accept_minutes = 30
accept_article = "Art. 12"
onsite_minutes = 60
onsite_article = "Art. 13, limits (1)"
report_hours = 8
report_article = "Art. 13, limits (4)"
close_hours = { major = 12, general = 24 }
close_article = "Art. 13, limits (3)"

[sources]
major = ["press"]
major_article = "Art. 13, urgent (1)"
wide_impact = ["press"]
wide_impact_article = "Art. 7"

[reminders]
accept = 10
onsite = 15
close = 120
report = 60

[escalation]
interval_minutes = 30

[[categories]]
code = "not_warm"
label_zh = "家中不热"
label_en = "Home not warm"
level = "major"
article = "Art. 13, urgent (4)"
centre_kind = "repair"
centre_article = "Art. 10 (2)"

[[categories]]
code = "network_burst"
label_zh = "管网爆管"
label_en = "Network burst"
level = "major"
article = "Art. 13, urgent (5)"
centre_kind = "network"
centre_article = "Art. 10 (3)"
onsite_minutes = 40
limits_article = "Art. 13, limits (2)"
possible_injury = true
"""

BURST = 'code = "network_burst"'
# id, text to replace, replacement, words the error must contain
BROKEN_POLICIES = [
    ("missing_key", 'level = "major"\narticle = "Art. 13, urgent (4)"', 'article = "Art. 13, urgent (4)"',
     ["'not_warm'", "'level'", "missing"]),
    ("bad_level", 'level = "major"\narticle = "Art. 13, urgent (5)"', 'level = "urgent"\narticle = "Art. 13, urgent (5)"',
     ["'network_burst'", "'level'", "'urgent'"]),
    ("bad_centre_kind", 'centre_kind = "network"', 'centre_kind = "pipes"',
     ["'network_burst'", "'centre_kind'", "'pipes'"]),
    ("duplicate_code", BURST, 'code = "not_warm"', ["'not_warm'", "'code'", "duplicate"]),
    ("misspelt_key", "onsite_minutes = 40", "onsite_minute = 40", ["'network_burst'", "'onsite_minute'", "unknown key"]),
    ("minutes_not_a_number", "onsite_minutes = 40", 'onsite_minutes = "40"', ["'network_burst'", "'onsite_minutes'"]),
    ("minutes_not_positive", "onsite_minutes = 40", "onsite_minutes = 0", ["'network_burst'", "'onsite_minutes'"]),
    ("override_without_article", 'limits_article = "Art. 13, limits (2)"\n', "", ["'network_burst'", "'limits_article'"]),
    ("injury_not_boolean", "possible_injury = true", 'possible_injury = "yes"', ["'network_burst'", "'possible_injury'"]),
    ("empty_article", 'article = "Art. 13, urgent (4)"', 'article = ""', ["'not_warm'", "'article'", "empty"]),
    ("bad_code", 'code = "not_warm"', 'code = "Not Warm"', ["'code'", "'Not Warm'"]),
    ("unknown_major_source", 'major = ["press"]', 'major = ["newspaper"]', ["[sources]", "'major'", "'newspaper'"]),
    ("missing_close_level", "close_hours = { major = 12, general = 24 }", "close_hours = { major = 12 }",
     ["close_hours", "'general'"]),
    ("missing_reminder", "report = 60\n", "", ["[reminders]", "'report'"]),
    ("missing_limits_table", "[limits]\n", "[limitz]\n", ["'limitz'"]),
    ("toml_syntax", "accept_minutes = 30", "accept_minutes = ", ["not valid TOML", "line 2"]),
]


@pytest.mark.parametrize(
    ("old", "new", "words"), [row[1:] for row in BROKEN_POLICIES], ids=[row[0] for row in BROKEN_POLICIES]
)
def test_a_malformed_policy_file_raises_policy_error_naming_the_problem(tmp_path, old, new, words):
    assert VALID_POLICY.count(old) == 1, "the test's edit must hit exactly one place"
    path = tmp_path / "policy.toml"
    path.write_text(VALID_POLICY.replace(old, new), encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    for word in words:
        assert word in message, message
    assert isinstance(raised.value, RulesError)


def test_the_valid_test_policy_loads_with_defaults_filled_in(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(VALID_POLICY, encoding="utf-8")
    policy = load_policy(str(path))
    assert policy.category("not_warm").onsite_minutes == 60
    assert policy.category("not_warm").possible_injury is False
    assert policy.category("network_burst").onsite_minutes == 40


def test_a_missing_policy_file_raises_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nowhere.toml")


def test_policy_error_keeps_entry_and_key_for_callers(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(VALID_POLICY.replace('centre_kind = "network"', 'centre_kind = "pipes"'), encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert (raised.value.path, raised.value.entry, raised.value.key) == (str(path), "network_burst", "centre_kind")


# --------------------------------------------------------------------------- purity


@pytest.mark.parametrize("module", sorted(p.name for p in Path(DEFAULT_POLICY_PATH).parent.glob("*.py")))
def test_rules_modules_stay_pure(module):
    # rules/ is pure and synchronous: no Telegram, no database, no event loop.
    tree = ast.parse((Path(DEFAULT_POLICY_PATH).parent / module).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"telegram", "aiosqlite", "asyncio", "bot", "handlers", "storage"}, roots


def test_the_shipped_policy_sets_the_outage_notice_periods_art_23():
    rules = load_policy().outages
    assert (rules.notice_period, rules.subscriber_reminder) == (timedelta(hours=48), timedelta(hours=12))
    assert (rules.posting_reminder_lead, rules.emergency_posting) == (timedelta(hours=6), timedelta(hours=2))


def test_a_company_may_lengthen_the_notice_period_in_its_policy(tmp_path):
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("notice_period_hours = 48", "notice_period_hours = 72")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    assert load_policy(path).outages.notice_period == timedelta(hours=72)


def test_an_unknown_outage_key_is_refused(tmp_path):
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("notice_period_hours = 48", "notice_period_hours = 48\nnotice_hours = 1")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError):
        load_policy(path)
