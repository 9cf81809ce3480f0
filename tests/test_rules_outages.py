"""Pure outage rules (issue 6; Art. 10 (2), 14, 15, 23 (4)): times, notice period, fitting Telegram."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.outages import (
    TEXT_MAX, Kind, OutageInputError, check_text, check_times, fit_message, group_by_centre, is_active, needs_approval,
    parse_end, parse_time, posting_due, split_names, split_text, subscriber_reminder_at,
)
from rules.text import telegram_length

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=SH)     # 09:00 on a winter morning


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-20 08:00", datetime(2026, 1, 20, 8, 0, tzinfo=SH)),
        ("1月20日 8:00", datetime(2026, 1, 20, 8, 0, tzinfo=SH)),
        ("01-20 08:30", datetime(2026, 1, 20, 8, 30, tzinfo=SH)),
        ("明天 08:00", datetime(2026, 1, 16, 8, 0, tzinfo=SH)),
        ("tomorrow 8:00", datetime(2026, 1, 16, 8, 0, tzinfo=SH)),
        ("18：30", datetime(2026, 1, 15, 18, 30, tzinfo=SH)),
        ("现在", datetime(2026, 1, 15, 9, 0, tzinfo=SH)),
        ("12-28 08:00", datetime(2026, 12, 28, 8, 0, tzinfo=SH)),
    ],
    ids=["iso", "chinese-date", "month-day", "tomorrow-zh", "tomorrow-en", "fullwidth-colon", "now", "later-this-year"],
)
def test_a_dispatcher_can_type_a_time_the_way_people_write_it(text, expected):
    assert parse_time(text, NOW) == expected


def test_a_date_more_than_half_a_year_back_is_next_years():
    december = datetime(2026, 12, 20, 9, 0, tzinfo=SH)
    assert parse_time("1月5日 08:00", december) == datetime(2027, 1, 5, 8, 0, tzinfo=SH)


@pytest.mark.parametrize("text", ["soon", "25:00", "2026-02-30 08:00", "", "08"], ids=["words", "hour", "date", "empty", "no-minutes"])
def test_an_unreadable_time_is_refused_with_a_code(text):
    with pytest.raises(OutageInputError) as refused:
        parse_time(text, NOW)
    assert refused.value.code == "bad_time"


@pytest.mark.parametrize(("text", "hours"), [("8小时", 8), ("8h", 8), ("+12 hours", 12), ("1.5小时", 1.5)],
                         ids=["zh", "h", "plus-hours", "fraction"])
def test_an_expected_end_may_be_a_duration_after_the_start(text, hours):
    start = datetime(2026, 1, 20, 8, 0, tzinfo=SH)
    assert parse_end(text, start, NOW) == start + timedelta(hours=hours)


def test_an_end_before_the_start_is_refused():
    start = datetime(2026, 1, 20, 8, 0, tzinfo=SH)
    with pytest.raises(OutageInputError) as refused:
        check_times(Kind.PLANNED, start, start - timedelta(hours=1), NOW)
    assert refused.value.code == "end_before_start"


def test_an_end_already_past_is_refused():
    with pytest.raises(OutageInputError) as refused:
        check_times(Kind.EMERGENCY, NOW - timedelta(hours=3), NOW - timedelta(hours=1), NOW)
    assert refused.value.code == "end_passed"


@pytest.mark.parametrize(
    ("kind", "start_in", "warnings"),
    [
        (Kind.PLANNED, timedelta(hours=72), ()),
        (Kind.PLANNED, timedelta(hours=47), ("short_notice",)),
        (Kind.PLANNED, timedelta(hours=-1), ("past",)),
        (Kind.CALIBRATION, timedelta(hours=24), ("short_notice",)),
        (Kind.EMERGENCY, timedelta(hours=-1), ()),
    ],
    ids=["planned-in-time", "planned-short-notice", "planned-in-the-past", "calibration-short-notice", "emergency-already-started"],
)
def test_a_start_in_the_past_or_inside_the_48h_notice_period_warns_art_23(kind, start_in, warnings):
    start = NOW + start_in
    assert check_times(kind, start, start + timedelta(hours=8), NOW) == warnings


@pytest.mark.parametrize(
    ("kind", "start_in", "due_in"),
    [
        (Kind.PLANNED, timedelta(hours=72), timedelta(hours=24)),
        (Kind.PLANNED, timedelta(hours=20), timedelta(hours=10)),
        (Kind.PLANNED, timedelta(minutes=30), timedelta(hours=1)),
        (Kind.EMERGENCY, timedelta(0), timedelta(hours=2)),
    ],
    ids=["48h-before-start", "short-notice-halfway", "at-least-an-hour", "emergency-at-once"],
)
def test_the_posting_deadline_is_48h_before_the_start_or_as_soon_as_possible(kind, start_in, due_in):
    assert posting_due(kind, NOW + start_in, NOW) == NOW + due_in


def test_residents_are_reminded_12h_before_a_planned_start_but_not_when_the_notice_itself_is_that_late():
    assert subscriber_reminder_at(Kind.PLANNED, NOW + timedelta(hours=72), NOW) == NOW + timedelta(hours=60)
    assert subscriber_reminder_at(Kind.PLANNED, NOW + timedelta(hours=6), NOW) is None
    assert subscriber_reminder_at(Kind.EMERGENCY, NOW, NOW) is None


def test_only_a_planned_shutdown_needs_approval_art_14():
    assert needs_approval("planned") and not needs_approval("emergency") and not needs_approval("calibration")


def _render(reason: str, shortened: bool) -> str:
    return f"<b>计划停热通知</b>\n原因：{reason}" + ("\n（节选）" if shortened else "")


def test_a_notice_that_fits_is_sent_whole():
    assert fit_message(_render, "换热站检修") == [_render("换热站检修", False)]


@pytest.mark.parametrize("length", [3000, 4000, 10_000], ids=["3000", "4000", "10000"])
def test_a_very_long_reason_is_shortened_to_fit_telegram_never_refused(length):
    reason = "管网改造" * (length // 4)
    parts = fit_message(lambda r, s: _render(r, s) + "\n" + "说明" * 600, reason)
    assert len(parts) == 1
    assert telegram_length(parts[0]) <= TEXT_MAX
    assert "（节选）" in parts[0] and "…" in parts[0]


def test_a_notice_too_long_even_without_its_reason_is_split_at_line_ends():
    lines = [f"<b>小区 {i}</b> " + "楼" * 50 for i in range(200)]
    parts = fit_message(lambda r, s: "\n".join(lines) + f"\n原因：{r}", "原因")
    assert len(parts) > 1
    assert all(telegram_length(p) <= TEXT_MAX for p in parts)
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_split_text_counts_code_points_like_telegram():
    text = "😀" * 5000            # two UTF-16 units each, but Telegram counts each once
    parts = split_text(text, TEXT_MAX)
    assert [len(p) for p in parts] == [4096, 904]


def test_communities_are_grouped_by_the_centre_that_posts_there():
    by_centre, orphans = group_by_centre([("heping", "repair-north"), ("xingfuli", "repair-north"), ("yangguang", "repair-south"),
                                          ("new", None)])
    assert by_centre == {"repair-north": ["heping", "xingfuli"], "repair-south": ["yangguang"]}
    assert orphans == ["new"]


def test_names_typed_with_any_separator_are_split_once_each():
    assert split_names("和平, 幸福里、阳光；和平") == ["和平", "幸福里", "阳光"]


@pytest.mark.parametrize(
    ("kind", "status", "start_in", "restored", "active"),
    [
        ("emergency", "published", timedelta(hours=-1), False, True),
        ("planned", "published", timedelta(hours=1), False, False),
        ("planned", "pending", timedelta(hours=-1), False, False),
        ("planned", "published", timedelta(hours=-1), True, False),
        ("calibration", "published", timedelta(hours=-1), False, False),
    ],
    ids=["started", "not-yet", "not-approved", "restored", "calibration-keeps-heat"],
)
def test_an_outage_is_active_from_its_start_until_restored(kind, status, start_in, restored, active):
    now = NOW.astimezone(UTC)
    assert is_active(kind, status, now + start_in, now if restored else None, now) is active


def test_free_text_fields_are_checked_for_length_and_emptiness():
    assert check_text("  DN300 ", 200) == "DN300"
    with pytest.raises(OutageInputError) as empty:
        check_text("   ", 200)
    assert empty.value.code == "empty"
    with pytest.raises(OutageInputError) as long:
        check_text("x" * 201, 200)
    assert long.value.code == "too_long" and long.value.params["limit"] == 200
