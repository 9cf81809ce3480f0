"""What `org check` adds for the registry: a chat used by two roles, ids too long for button
data (every one of them), staff's valid-from/to dates; and the diff, generic over the model."""
from __future__ import annotations

import dataclasses
from datetime import date

from bot import callbacks
from bot.orgfile import Org, check_org
from rules.orgdiff import diff_orgs
from tests.conftest import ORG_FILE
from tests.test_cli import child_env, heatbot

EXAMPLE = ORG_FILE.read_text(encoding="utf-8")


def edited(*edits: tuple[str, str]) -> str:
    text = EXAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def errors(text: str) -> list[str]:
    org, issues = check_org(text)
    assert org is None
    return [str(i) for i in issues if not i.warning]


def test_a_centre_group_that_is_also_the_dispatch_group_is_refused_naming_both_roles():
    text = edited(("chat_id = -1001000000101", "chat_id = -1001000000001"))
    [problem] = errors(text)
    assert "dispatch group" in problem and "repair-north" in problem
    assert problem.startswith(f"line {text.splitlines().index('chat_id = -1001000000001') + 1}:")


def test_customer_service_and_leadership_in_one_chat_is_refused():
    [problem] = errors(edited(("leadership_chat_id = -1001000000003", "leadership_chat_id = -1001000000002")))
    assert "customer service group" in problem and "leadership group" in problem


def test_every_id_too_long_for_button_data_is_reported_not_only_the_first():
    # The room left is measured by packing the real codecs' widest buttons (bot/callbacks).
    room = callbacks.MAX_BYTES - (max(callbacks.size(b.pack()) for b in callbacks.community_buttons("x")) - 1)
    long_a, long_b = "a" * (room + 1), "小" * (room // 3 + 1)
    problems = errors(edited(('id = "heping"', f'id = "{long_a}"'), ('id = "xingfuli"', f'id = "{long_b}"')))
    assert len([p for p in problems if "too long for button data" in p]) == 2
    assert room + 1 > 0 and all(callbacks.size(b.pack()) <= 64 for b in callbacks.community_buttons("a" * room))


def test_staff_dates_are_read_and_a_valid_to_before_valid_from_is_refused():
    org, _ = check_org(edited(('user_id = 5001\nname = "王师傅"', 'user_id = 5001\nname = "王师傅"\nvalid_from = 2026-01-01\nvalid_to = 2026-03-31')))
    person = next(s for s in org.staff if s.user_id == 5001)
    assert (person.valid_from, person.valid_to) == (date(2026, 1, 1), date(2026, 3, 31))
    assert person.valid_on(date(2026, 2, 1)) and not person.valid_on(date(2026, 4, 1))
    [problem] = errors(edited(('user_id = 5001\nname = "王师傅"', 'user_id = 5001\nname = "王师傅"\nvalid_from = 2026-03-01\nvalid_to = 2026-01-31')))
    assert "before" in problem
    [problem] = errors(edited(('user_id = 5001\nname = "王师傅"', 'user_id = 5001\nname = "王师傅"\nvalid_from = "soon"')))
    assert "valid_from" in problem and "date" in problem


def test_the_diff_is_field_by_field_for_every_section():
    before, _ = check_org(EXAMPLE)
    after, _ = check_org(edited(('hotline = "0471-6960101"', 'hotline = "0471-6960999"'),
                                ('aliases = ["和平", "heping", "hepingyuan", "HPY"]', 'aliases = ["和平", "heping"]'),
                                ("leadership_chat_id = -1001000000003", "leadership_chat_id = -1001000000004"),
                                ('role = "crew"', 'role = "centre_lead"')))
    got = {(c.section, c.item, c.change, c.field, c.old, c.new) for c in diff_orgs(before, after)}
    assert got == {
        ("centres", "repair-north", "changed", "hotline", "0471-6960101", "0471-6960999"),
        ("communities", "heping", "changed", "aliases", "和平, heping, hepingyuan, HPY", "和平, heping"),
        ("settings", "leadership_chat_id", "changed", "leadership_chat_id", "-1001000000003", "-1001000000004"),
        ("staff", "5001", "changed", "role", "crew", "centre_lead"),
    }


def test_the_diff_shows_a_field_the_model_gains_later():
    # The roster adds its own fields to the organisation; the diff needs no change for them.
    @dataclasses.dataclass(frozen=True)
    class Shift:
        id: str
        centre_id: str
        staff: tuple[int, ...]

    @dataclasses.dataclass(frozen=True)
    class WithRosters(Org):
        shifts: tuple[Shift, ...] = ()

    base, _ = check_org(EXAMPLE)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Org)}
    old = WithRosters(**fields, shifts=(Shift("north-day", "repair-north", (5001,)),))
    new = WithRosters(**fields, shifts=(Shift("north-day", "repair-north", (5001, 5002)), Shift("north-night", "repair-north", (5002,))))
    got = [(c.section, c.item, c.change, c.field, c.new) for c in diff_orgs(old, new)]
    assert got == [("shifts", "north-day", "changed", "staff", "5001, 5002"),
                   ("shifts", "north-night", "added", None, "id=north-night; centre_id=repair-north; staff=5002")]


async def test_heatbot_run_refuses_the_example_organisation_unless_allowed(tmp_path):
    from tests.test_cli import bot_env
    run = await heatbot("run", env=bot_env(tmp_path, HEATBOT_ALLOW_EXAMPLE_ORG=""), cwd=tmp_path)
    run.assert_one_clear_line("org.example.toml", "HEATBOT_ALLOW_EXAMPLE_ORG=1")


async def test_org_check_of_a_file_with_a_shared_chat_prints_the_line_and_fails(tmp_path):
    path = tmp_path / "org.toml"
    path.write_text(edited(("chat_id = -1001000000101", "chat_id = -1001000000001")), encoding="utf-8")
    run = await heatbot("org", "check", str(path), env=child_env(), cwd=tmp_path)
    assert run.code == 1 and "dispatch group" in run.out and ":line " in run.out


def test_who_may_see_the_registry_and_its_log():
    from rules.org import Staff
    from rules.roles import commands_for, may_see_registry, may_see_registry_log
    dispatcher = Staff(6001, "孙丽", "13800000601", None, "dispatcher")
    head = Staff(7001, "林国栋", "13800000701", None, "department_head")
    crew = Staff(5001, "王师傅", "13800000001", "repair-north", "crew")
    # Dispatch, in its group, sees everyone; a centre's people only their own centre, in its group.
    assert may_see_registry(dispatcher, in_dispatch_group=True, group_centre=None)
    assert may_see_registry(head, in_dispatch_group=True, group_centre=None)
    assert not may_see_registry(crew, in_dispatch_group=True, group_centre=None)
    assert may_see_registry(crew, in_dispatch_group=False, group_centre="repair-north")
    assert not may_see_registry(crew, in_dispatch_group=False, group_centre="repair-south")
    assert not may_see_registry(dispatcher, in_dispatch_group=False, group_centre=None)
    assert not may_see_registry(None, in_dispatch_group=True, group_centre=None)
    assert may_see_registry_log(dispatcher) and not may_see_registry_log(crew)
    assert "staff" in commands_for("dispatcher") and "staff" not in commands_for("crew")
