"""The deadline clock's pure rules (Art. 12–13): stages, late firing, delays."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.deadlines import DelayRefused, Stage, check_delay, is_late, next_check, parse_new_time, plan

DUE = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)         # an accept limit at 09:30 Shanghai
LEAD = timedelta(minutes=10)                             # policy: remind 10 min before accept
INTERVAL = timedelta(minutes=30)                         # policy: department head 30 min after


def at(minutes_from_due: float) -> datetime:
    return DUE + timedelta(minutes=minutes_from_due)


@pytest.mark.parametrize(
    ("stage", "now", "fired", "after", "next_at"),
    [
        (Stage.NONE, at(-11), [], Stage.NONE, at(-10)),
        (Stage.NONE, at(-10), [Stage.REMINDED], Stage.REMINDED, at(0)),
        (Stage.REMINDED, at(-5), [], Stage.REMINDED, at(0)),
        (Stage.REMINDED, at(0), [Stage.ESCALATED], Stage.ESCALATED, at(30)),
        (Stage.ESCALATED, at(30), [Stage.HEAD], Stage.HEAD, None),
        (Stage.HEAD, at(500), [], Stage.HEAD, None),
        # down across the due time: no reminder for a passed limit, the escalation instead
        (Stage.NONE, at(5), [Stage.ESCALATED], Stage.ESCALATED, at(30)),
        # down for an hour: both escalations, once each
        (Stage.NONE, at(60), [Stage.ESCALATED, Stage.HEAD], Stage.HEAD, None),
    ],
    ids=["before-reminder", "reminder-on-time", "between", "escalation-at-limit", "head-after-interval",
         "nothing-left", "missed-reminder-replaced", "missed-everything"],
)
def test_plan_fires_each_stage_once_in_order(stage, now, fired, after, next_at):
    p = plan(DUE, stage, now, LEAD, INTERVAL)
    assert [f.stage for f in p.fires] == fired
    assert p.stage == after and p.next_at == next_at


def test_a_fire_after_a_restart_says_how_late_it_is():
    p = plan(DUE, Stage.NONE, at(20), LEAD, INTERVAL)
    assert p.fires[0].late_by == timedelta(minutes=20)


def test_a_fire_a_few_seconds_late_is_on_time():
    p = plan(DUE, Stage.REMINDED, DUE + timedelta(seconds=5), LEAD, INTERVAL)
    assert p.fires[0].late_by == timedelta(0)


def test_next_check_after_the_last_stage_is_none():
    assert next_check(DUE, Stage.HEAD, LEAD, INTERVAL) is None


@pytest.mark.parametrize(("met", "late"), [(at(-1), False), (at(0), False), (at(1), True)],
                         ids=["early", "on-the-minute", "over"])
def test_an_overrun_counts_late(met, late):
    assert is_late(DUE, met) is late


CLOSE = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "new_due", "now", "code"),
    [
        ("onsite", at(60), at(1), "passed"),
        ("onsite", at(-20), at(-10), "before_now"),
        ("onsite", CLOSE + timedelta(minutes=1), at(-10), "beyond_close"),
        ("close", CLOSE + timedelta(hours=25), at(-10), "beyond_close"),
    ],
    ids=["asked-after-the-limit", "new-time-before-now", "onsite-beyond-close", "close-beyond-extension"],
)
def test_a_delay_is_refused_when_it_cannot_be_granted(kind, new_due, now, code):
    with pytest.raises(DelayRefused) as refused:
        check_delay(kind, DUE, new_due, now, CLOSE, timedelta(hours=24))
    assert refused.value.code == code


def test_a_delay_asked_in_time_for_a_later_time_within_the_close_limit_is_allowed():
    check_delay("onsite", DUE, at(90), at(-10), CLOSE, timedelta(hours=24))


SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW_LOCAL = datetime(2026, 1, 15, 9, 20, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "reason", "when"),
    [
        ("等待配件 18:30", "等待配件", datetime(2026, 1, 15, 18, 30, tzinfo=SHANGHAI)),
        ("parts on order 明天 09:00", "parts on order", datetime(2026, 1, 16, 9, 0, tzinfo=SHANGHAI)),
        ("road closed tomorrow 7:05", "road closed", datetime(2026, 1, 16, 7, 5, tzinfo=SHANGHAI)),
        ("阀门井积水，2026-01-17 10:00", "阀门井积水", datetime(2026, 1, 17, 10, 0, tzinfo=SHANGHAI)),
        ("堵车 10：15", "堵车", datetime(2026, 1, 15, 10, 15, tzinfo=SHANGHAI)),
        ("住户不在家，约好 16:00 入户", "住户不在家，约好 16:00 入户", datetime(2026, 1, 15, 16, 0, tzinfo=SHANGHAI)),
    ],
    ids=["today", "tomorrow-zh", "tomorrow-en", "date", "full-width-colon", "time-mid-sentence"],
)
def test_a_delay_reply_is_read_as_reason_and_local_time(text, reason, when):
    assert parse_new_time(text, NOW_LOCAL) == (reason, when)


@pytest.mark.parametrize(("text", "code"), [("18:30", "no_reason"), ("等一下", "bad_time"), ("等 25:00", "bad_time")],
                         ids=["no-reason", "no-time", "impossible-time"])
def test_a_delay_reply_without_reason_or_time_is_refused(text, code):
    with pytest.raises(DelayRefused) as refused:
        parse_new_time(text, NOW_LOCAL)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("kind", "new_due", "now", "close_by", "code"),
    [
        ("onsite", at(13 * 60), at(60), at(11 * 60), "beyond_close"),       # /level brought the close limit forward
        ("onsite", at(90), at(100), CLOSE, "before_now"),                    # the proposed time went by undecided
        ("close", at(40 * 60), at(60), at(11 * 60), "beyond_close"),         # beyond the new close + 24 h
    ],
    ids=["onsite past the new close limit", "proposed time already gone", "close beyond the new ceiling"],
)
def test_a_delay_is_checked_again_against_the_limits_when_dispatch_decides(kind, new_due, now, close_by, code):
    with pytest.raises(DelayRefused) as refused:
        check_delay(kind, DUE, new_due, now, close_by, timedelta(hours=24), deciding=True)
    assert refused.value.code == code


def test_a_delay_asked_in_time_may_still_be_approved_after_the_limit_it_moves():
    # Asked at 09:20 for 11:00; dispatch decides at 09:40, after the 09:30 limit (Art. 13: asked before).
    check_delay("onsite", DUE, at(90), at(10), CLOSE, timedelta(hours=24), deciding=True)
    with pytest.raises(DelayRefused):
        check_delay("onsite", DUE, at(90), at(10), CLOSE, timedelta(hours=24))
