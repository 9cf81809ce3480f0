"""Rosters (Art. 11, 12): who is on duty at an instant, who covers a centre, what a week leaves
uncovered; shifts across midnight, dated overrides, and the nights the clocks change."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from rules.roster import Roster, Shift, check_dates, check_week, current_shift, duty_for, on_duty, parse_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = 60

NORTH_DAY = Shift("north", 8 * H, 20 * H, (1, 2), name="day")
NORTH_NIGHT = Shift("north", 20 * H, 8 * H, (3,), covers=("south",), name="night")
SOUTH_DAY = Shift("south", 8 * H, 20 * H, (11,), name="day")
# Spring Festival: the south centre is closed all day; north's day shift covers it.
HOLIDAY_SOUTH = Shift("south", 8 * H, 20 * H, (), date=date(2026, 2, 17))
HOLIDAY_NORTH = Shift("north", 8 * H, 20 * H, (1,), date=date(2026, 2, 17), covers=("south",))
ROSTER = Roster((NORTH_DAY, NORTH_NIGHT, SOUTH_DAY, HOLIDAY_SOUTH, HOLIDAY_NORTH))


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as an instant."""
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(("now", "centre", "expected"), [
    pytest.param(sh(2026, 1, 15, 9), "north", (1, 2), id="day-shift-at-09"),
    pytest.param(sh(2026, 1, 15, 7, 59), "north", (3,), id="night-shift-still-on-at-07:59"),
    pytest.param(sh(2026, 1, 15, 8), "north", (1, 2), id="day-shift-from-08:00-sharp"),
    pytest.param(sh(2026, 1, 15, 20), "north", (3,), id="night-from-20:00"),
    pytest.param(sh(2026, 1, 16, 2), "north", (3,), id="night-crosses-midnight"),
    pytest.param(sh(2026, 1, 16, 2), "south", (), id="south-has-nobody-at-night"),
    pytest.param(sh(2026, 2, 17, 10), "south", (), id="holiday-override-empties-south"),
    pytest.param(sh(2026, 2, 17, 10), "north", (1,), id="holiday-override-replaces-north-day"),
    pytest.param(sh(2026, 2, 17, 2), "north", (3,), id="override-leaves-the-previous-night-alone"),
])
def test_who_is_on_duty_at_an_instant_art_11(now, centre, expected):
    assert on_duty(ROSTER, centre, now, SHANGHAI) == expected


@pytest.mark.parametrize(("now", "centre", "duty_centre", "covering_for", "staff", "unstaffed"), [
    pytest.param(sh(2026, 1, 15, 10), "south", "south", None, (11,), False, id="own-crew-by-day"),
    pytest.param(sh(2026, 1, 16, 2), "south", "north", "south", (3,), False, id="night-duty-centre-covers-at-02:00"),
    pytest.param(sh(2026, 2, 17, 10), "south", "north", "south", (1,), False, id="holiday-cover"),
    pytest.param(sh(2026, 1, 16, 2), "metering", "metering", None, (), False, id="no-roster-keeps-its-work"),
])
def test_which_centre_takes_a_centres_work_art_12(now, centre, duty_centre, covering_for, staff, unstaffed):
    duty = duty_for(ROSTER, centre, now, SHANGHAI)
    assert (duty.centre_id, duty.covering_for, duty.staff, duty.unstaffed) == (duty_centre, covering_for, staff, unstaffed)


def test_nobody_on_duty_and_nobody_covering_is_unstaffed():
    roster = Roster((SOUTH_DAY,))
    duty = duty_for(roster, "south", sh(2026, 1, 16, 2), SHANGHAI)
    assert (duty.centre_id, duty.staff, duty.unstaffed) == ("south", (), True)


def test_a_night_shift_is_one_handover_from_its_start_to_the_morning():
    evening = current_shift(ROSTER, "north", sh(2026, 1, 15, 21), SHANGHAI)
    morning = current_shift(ROSTER, "north", sh(2026, 1, 16, 7), SHANGHAI)
    day = current_shift(ROSTER, "north", sh(2026, 1, 16, 8), SHANGHAI)
    assert evening.key == morning.key == "north@2026-01-15T20:00"
    assert day.key == "north@2026-01-16T08:00"


@pytest.mark.parametrize(("utc", "expected"), [
    # 29 March 2026: Berlin springs from 02:00 to 03:00; the night is an hour shorter.
    pytest.param(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), (3,), id="spring-01:30-CET-night"),
    pytest.param(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), (3,), id="spring-03:30-CEST-night"),
    pytest.param(datetime(2026, 3, 29, 5, 59, tzinfo=UTC), (3,), id="spring-07:59-CEST-night"),
    pytest.param(datetime(2026, 3, 29, 6, 0, tzinfo=UTC), (1, 2), id="spring-08:00-CEST-day"),
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, both at night.
    pytest.param(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), (3,), id="autumn-first-02:30"),
    pytest.param(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), (3,), id="autumn-second-02:30"),
    pytest.param(datetime(2026, 10, 25, 6, 59, tzinfo=UTC), (3,), id="autumn-07:59-CET-night"),
    pytest.param(datetime(2026, 10, 25, 7, 0, tzinfo=UTC), (1, 2), id="autumn-08:00-CET-day"),
])
def test_shifts_follow_the_wall_clock_on_the_nights_the_clocks_change(utc, expected):
    assert on_duty(ROSTER, "north", utc, BERLIN) == expected


def test_the_changed_night_is_one_shift_with_one_handover():
    before = current_shift(ROSTER, "north", datetime(2026, 3, 28, 19, 30, tzinfo=UTC), BERLIN)   # 20:30 CET
    after = current_shift(ROSTER, "north", datetime(2026, 3, 29, 5, 0, tzinfo=UTC), BERLIN)     # 07:00 CEST
    assert before.key == after.key


def test_the_example_week_has_no_gap_overlap_or_double_duty():
    assert check_week(ROSTER) == []


@pytest.mark.parametrize(("shifts", "kind", "who"), [
    pytest.param((SOUTH_DAY,), "gap", "south", id="south-alone-leaves-its-nights-uncovered"),
    pytest.param((NORTH_DAY, NORTH_NIGHT, Shift("north", 19 * H, 21 * H, (9,))), "overlap", "north", id="two-north-shifts-at-19:00"),
    pytest.param((NORTH_DAY, NORTH_NIGHT, SOUTH_DAY, Shift("south", 20 * H, 8 * H, (3,))), "double_duty", "3",
                 id="one-person-on-two-nights"),
])
def test_a_week_with_a_fault_is_reported(shifts, kind, who):
    found = [f for f in check_week(Roster(tuple(shifts))) if f.kind == kind]
    assert [f.who for f in found][:1] == [who]


def test_a_gap_is_reported_as_one_range_per_stretch():
    gaps = check_week(Roster((Shift("south", 8 * H, 20 * H, (11,), days=frozenset(range(5))),)))
    # The Mon-Thu nights, and Friday 20:00 to Monday 08:00 as one stretch across the week's end.
    assert len(gaps) == 5
    assert max(f.ends - f.starts for f in gaps).total_seconds() == (2 * 24 + 12) * 3600


def test_a_centre_never_staffed_is_one_week_long_gap():
    gaps = check_week(Roster((Shift("south", 8 * H, 20 * H, ()),)))
    assert [(f.kind, (f.ends - f.starts).days) for f in gaps] == [("gap", 7)]


def test_a_holiday_override_that_leaves_a_centre_alone_is_a_dated_gap():
    roster = Roster((NORTH_DAY, NORTH_NIGHT, SOUTH_DAY, HOLIDAY_SOUTH))
    found = check_dates(roster)
    assert [(f.kind, f.who, f.starts.date()) for f in found] == [("gap", "south", date(2026, 2, 17))]


@pytest.mark.parametrize(("text", "end", "expected"), [
    pytest.param("08:00", False, 480, id="morning"),
    pytest.param("25:00", False, None, id="hour-25"),
    pytest.param("26:00", True, None, id="hour-26-as-end"),
    pytest.param("24:00", True, 0, id="midnight-as-end"),
    pytest.param("24:00", False, None, id="midnight-24-not-a-start"),
    pytest.param("8:00", False, None, id="one-digit-hour"),
    pytest.param("08:60", False, None, id="minute-60"),
])
def test_a_time_of_day_is_read_strictly(text, end, expected):
    assert parse_clock(text, end=end) == expected
