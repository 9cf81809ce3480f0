"""The organisation file's [[shifts]] (Art. 11, 12): bad times, unknown people and centres are
errors on their line; gaps, overlaps and double duty are warnings `org check` prints; the
"已接班" button's codec is strict."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.callbacks import HandoverAck
from bot.cli import main as cli_main
from bot.orgfile import check_org
from rules.roster import Shift

EXAMPLE = (Path(__file__).resolve().parent.parent / "org.example.toml").read_text(encoding="utf-8")
SOUTH_DAY = 'name = "白班"\nstart = "08:00"\nend = "20:00"\nstaff = [5011, 5012]'
NORTH_NIGHT = 'end = "08:00"\nstaff = [5002]\ncovers = ["repair-south"]'


def edited(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_example_roster_is_loaded_with_its_night_duty_centre_and_holiday():
    org, issues = check_org(EXAMPLE)
    assert issues == []
    shifts = org.roster.shifts
    assert {s.centre_id for s in shifts} == {"repair-north", "repair-south", "network-station"}
    night = next(s for s in shifts if s.centre_id == "repair-north" and s.date is None and s.start == 20 * 60)
    assert (night.end, night.staff, night.covers) == (8 * 60, (5002,), ("repair-south",))
    assert any(s.date is not None and s.centre_id == "repair-south" and s.staff == () for s in shifts)


@pytest.mark.parametrize(("text", "needle", "words"), [
    pytest.param(edited(SOUTH_DAY, SOUTH_DAY.replace('"08:00"', '"25:00"').replace('"20:00"', '"26:00"')),
                 'start = "25:00"', "start '25:00' is not a time of day", id="shift-25:00-26:00"),
    pytest.param(edited(SOUTH_DAY, SOUTH_DAY.replace("5012]", "5999]")), "5999", "user 5999 is not in [[staff]]",
                 id="unknown-user"),
    pytest.param(edited(NORTH_NIGHT, NORTH_NIGHT.replace('"repair-south"', '"repair-west"')), "repair-west",
                 "'covers' names 'repair-west'", id="covers-unknown-centre"),
    pytest.param(edited('centre = "repair-south"\nname = "白班"', 'centre = "repair-west"\nname = "白班"'), "repair-west",
                 "unknown centre 'repair-west'", id="unknown-centre"),
    pytest.param(edited(SOUTH_DAY, SOUTH_DAY + '\ndays = ["mon", "funday"]'), "funday", "'days' must list days",
                 id="unknown-day"),
    pytest.param(edited(SOUTH_DAY, SOUTH_DAY + "\ndays = [\"mon\"]\ndate = 2026-02-18"), "date = 2026-02-18",
                 "give 'days' (a weekly shift) or 'date'", id="days-and-date"),
])
def test_a_broken_shift_is_an_error_on_its_line(text, needle, words):
    org, issues = check_org(text)
    assert org is None
    assert any(words in i.message and i.line == line_of(text, needle) and not i.warning for i in issues), "\n".join(map(str, issues))


@pytest.mark.parametrize(("text", "words"), [
    pytest.param(edited(NORTH_NIGHT, 'end = "08:00"\nstaff = [5002]'),
                 "roster gap: centre 'repair-south' has nobody on duty and no duty centre covering it, every day 20:00 - 08:00",
                 id="south-nights-uncovered"),
    pytest.param(edited(SOUTH_DAY, SOUTH_DAY + '\n\n[[shifts]]\ncentre = "repair-south"\nstart = "19:00"\nend = "21:00"\nstaff = [5013]'),
                 "roster overlap: centre 'repair-south' has two staffed shifts at once, every day 19:00 - 20:00",
                 id="two-south-shifts-at-19:00"),
    pytest.param(edited('staff = [5022]', 'staff = [5022, 5002]'),
                 "double duty: user 5002 is on duty for network-station and repair-north at once, every day 20:00 - 08:00",
                 id="one-person-two-centres"),
])
def test_gaps_overlaps_and_double_duty_are_warnings(text, words):
    org, issues = check_org(text)
    found = [i for i in issues if words in i.message]
    assert org is not None and found and all(i.warning for i in found), "\n".join(map(str, issues))


def test_a_holiday_override_leaving_a_centre_alone_is_a_dated_gap():
    text = edited('name = "春节白班"\ndate = 2026-02-17\nstart = "08:00"\nend = "20:00"\nstaff = [5001]\ncovers = ["repair-south"]',
                  'name = "春节白班"\ndate = 2026-02-17\nstart = "08:00"\nend = "20:00"\nstaff = [5001]')
    _, issues = check_org(text)
    assert [i.message for i in issues if i.warning] == [
        "roster gap: centre 'repair-south' has nobody on duty and no duty centre covering it, 2026-02-17 08:00 - 2026-02-17 20:00",
    ]


def test_org_check_prints_a_roster_gap_and_fails(tmp_path, capsys):
    path = tmp_path / "org.toml"
    path.write_text(edited(NORTH_NIGHT, 'end = "08:00"\nstaff = [5002]'), encoding="utf-8")
    assert cli_main(["org", "check", str(path)]) == 1
    assert "roster gap: centre 'repair-south'" in capsys.readouterr().out


def test_a_shift_across_midnight_is_twelve_hours():
    assert Shift("x", 20 * 60, 8 * 60, ()).minutes == 12 * 60 and Shift("x", 8 * 60, 8 * 60, ()).minutes == 24 * 60


@pytest.mark.parametrize("data", ["h:0", "h:01", "h:-1", "h:1:x", "h:", "h:²", "h:" + "9" * 30])
def test_a_forged_handover_button_parses_to_none(data):
    assert HandoverAck.parse(data) is None


def test_the_handover_button_packs_and_parses_back():
    assert HandoverAck(7).pack() == "h:7" and HandoverAck.parse("h:7") == HandoverAck(7)
