"""When the weekly and monthly reports are due (rules/reports.py), and which dates /stats covers."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.policy import PolicyError, load_policy
from rules.reports import DEFAULT_RULES, ReportRules, due_reports, stats_period

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_nothing_is_due_on_monday_before_eight():
    assert due_reports(at(2026, 1, 12, 7, 59), TZ) == []     # 12 January 2026 is a Monday


def test_monday_at_eight_brings_last_weeks_report_monday_to_sunday():
    [due] = due_reports(at(2026, 1, 12, 8, 0), TZ)
    assert (due.kind, due.first, due.last) == ("week", date(2026, 1, 5), date(2026, 1, 11))
    assert due.key == "week:2026-01-05"


def test_a_bot_down_at_eight_still_sends_within_the_catch_up_window_and_not_after():
    assert [d.key for d in due_reports(at(2026, 1, 13, 7, 59), TZ)] == ["week:2026-01-05"]
    assert due_reports(at(2026, 1, 13, 8, 0), TZ) == []
    assert due_reports(at(2026, 1, 16, 9, 0), TZ) == []


def test_the_first_of_the_month_brings_last_months_report():
    due = due_reports(at(2026, 2, 1, 8, 30), TZ)      # a Sunday: no weekly report
    assert [(d.kind, d.first, d.last, d.key) for d in due] == [("month", date(2026, 1, 1), date(2026, 1, 31), "month:2026-01")]


def test_a_monday_the_first_brings_both_reports():
    due = due_reports(at(2026, 6, 1, 8, 0), TZ)       # 1 June 2026 is a Monday
    assert sorted(d.key for d in due) == ["month:2026-05", "week:2026-05-25"]


def test_the_month_is_the_companys_month_not_utcs():
    # 1 February 08:00 in Shanghai is 31 January 00:00 UTC: still February's send day locally.
    now = at(2026, 2, 1, 8, 0).astimezone(ZoneInfo("UTC"))
    assert [d.key for d in due_reports(now, TZ)] == ["month:2026-01"]


def test_january_report_sent_in_the_new_year_covers_december():
    [due] = [d for d in due_reports(at(2026, 1, 1, 8, 0), TZ) if d.kind == "month"]
    assert (due.first, due.last) == (date(2025, 12, 1), date(2025, 12, 31))


def test_another_send_day_and_time_from_the_policy():
    rules = ReportRules(weekly_day=4, monthly_day=3, send_at=time(17, 30), catch_up=timedelta(hours=2))
    assert due_reports(at(2026, 1, 16, 17, 29), TZ, rules) == []        # a Friday
    [due] = due_reports(at(2026, 1, 16, 17, 30), TZ, rules)
    assert (due.first, due.last) == (date(2026, 1, 5), date(2026, 1, 11))
    assert [d.key for d in due_reports(at(2026, 3, 3, 18, 0), TZ, rules)] == ["month:2026-02"]


@pytest.mark.parametrize("kind, first", [("today", date(2026, 1, 14)), ("week", date(2026, 1, 12)), ("month", date(2026, 1, 1))])
def test_stats_covers_today_this_week_or_this_month_so_far(kind, first):
    assert stats_period(kind, at(2026, 1, 14, 10, 0), TZ) == (first, date(2026, 1, 14))


def test_the_shipped_policy_sends_monday_at_eight():
    assert load_policy().reports == DEFAULT_RULES


@pytest.mark.parametrize("line, key", [('weekly_day = "someday"', "weekly_day"), ("monthly_day = 31", "monthly_day"),
                                       ('send_at = "8 o\'clock"', "send_at"), ("surprise = 1", "surprise")])
def test_a_bad_reports_section_is_refused_naming_the_key(tmp_path, line, key):
    text = load_policy.__globals__["DEFAULT_POLICY_PATH"].read_text(encoding="utf-8")
    good = {"weekly_day": 'weekly_day = "monday"', "monthly_day": "monthly_day = 1", "send_at": 'send_at = "08:00"'}
    text = text.replace(good[key], line) if key in good else text.replace("[reports]\n", f"[reports]\n{line}\n")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=key):
        load_policy(path)
