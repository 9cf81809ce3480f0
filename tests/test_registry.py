"""The hotline staff registry (Art. 12): `heatbot org apply` on a running bot, its change log
and report to dispatch, /staff, the staff greeting, /whoami's registration, and start-up
with a changed organisation file. CLI runs go through the real entry point in a child process."""
from __future__ import annotations

import asyncio
from pathlib import Path

from bot import app as heatbot_app
from bot.app import build_application
from bot.orgfile import check_org
from storage import org as org_store
from storage import registry
from tests.conftest import ORG_FILE, make_config
from tests.story import cold_flat_scene
from tests.test_cli import child_env, heatbot

EXAMPLE = ORG_FILE.read_text(encoding="utf-8")
OLD_PHONE, NEW_PHONE = "13800000001", "13900000001"      # 王师傅 (5001), North Repair Centre crew


def org_file(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = EXAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_staff(user_id: int) -> list[tuple[str, str]]:
    """The person's [[staff]] entry removed, and they off every shift of the roster."""
    start = EXAMPLE.index(f"[[staff]]\nuser_id = {user_id}\n")
    end = EXAMPLE.index("[[staff]]", start + 1)
    rostered = f"staff = [{user_id}]\n"
    return [(EXAMPLE[start:end], "")] + [(rostered, "staff = []\n")] * EXAMPLE.count(rostered)


async def apply(path: Path, db_path: Path, *extra: str):
    return await heatbot("org", "apply", str(path), "--db", str(db_path), *extra, env=child_env(), cwd=path.parent)


async def applied_by_hand(conn) -> list:
    """Changes of the applies after start-up's first registration, newest first."""
    return [c for c in await registry.recent_changes(conn, 1000) if c.applied_by != "start-up" or c.change != "added"]


def is_report(msg) -> bool:
    return "人员登记变更" in msg.text


async def test_org_apply_changes_a_phone_while_the_bot_runs_and_reports_it_to_dispatch(bot, world, db_path, tmp_path):
    new = org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE))
    run = await apply(new, db_path, "--by", "孙丽")
    assert run.code == 0, run
    assert f"staff 5001 (王师傅): phone: {OLD_PHONE} -> {NEW_PHONE}" in run.out
    svc = bot.bot_data["svc"]
    # The running bot reads the registry from the database: the new phone without a restart.
    assert (await org_store.get_staff(svc.db.conn, 5001)).phone == NEW_PHONE
    report = await world.groups["dispatch"].next_message_where(is_report)
    assert "王师傅" in report.text and OLD_PHONE in report.text and NEW_PHONE in report.text and "孙丽" in report.text
    [change] = await applied_by_hand(svc.db.conn)
    assert (change.applied_by, change.section, change.item, change.field, change.old, change.new) == (
        "孙丽", "staff", "5001", "phone", OLD_PHONE, NEW_PHONE)


async def test_a_shift_moved_by_an_hour_is_one_change_with_clock_times(bot, world, db_path, tmp_path):
    day_shift = 'name = "白班"\nstart = "08:00"\nend = "20:00"\nstaff = [5001]'
    run = await apply(org_file(tmp_path, "org.toml", (day_shift, day_shift.replace('end = "20:00"', 'end = "19:00"')),
                               ('name = "夜班"\nstart = "20:00"', 'name = "夜班"\nstart = "19:00"')), db_path)
    assert run.code == 0, run
    assert "shifts repair-north:白班 (白班): end: 20:00 -> 19:00" in run.out
    assert "shifts repair-north:夜班 (夜班): start: 20:00 -> 19:00" in run.out
    report = await world.groups["dispatch"].next_message_where(is_report)
    assert "班次" in report.text and "20:00 → 19:00" in report.text and "shifts" not in report.text


async def test_the_next_card_shows_a_phone_applied_while_the_bot_runs(bot, tg, world, db_path, tmp_path):
    assert (await apply(org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE)), db_path)).code == 0
    scene = await cold_flat_scene(bot, tg, world)
    told = await scene.step(world.crew(5001), "受理")
    # The resident is told who accepted, with the work phone (policy show_crew_phone): the
    # applied one, read from the database at Accept.
    assert NEW_PHONE in told.text and OLD_PHONE not in told.text


async def test_a_broken_file_changes_nothing_and_every_problem_is_printed_with_its_line(bot, world, db_path, tmp_path):
    broken = org_file(tmp_path, "org.toml", (OLD_PHONE, "call-me"), ('role = "centre_lead"', 'role = "boss"'))
    run = await apply(broken, db_path)
    assert run.code == 1
    problems = [line for line in run.out.splitlines() if ":line " in line]
    assert len(problems) == 2 and "call-me" in problems[0] and "boss" in problems[1]
    assert "nothing changed" in run.err
    svc = bot.bot_data["svc"]
    assert (await org_store.get_staff(svc.db.conn, 5001)).phone == OLD_PHONE
    assert await applied_by_hand(svc.db.conn) == []


async def test_two_files_applied_at_once_are_applied_one_after_the_other_never_mixed(bot, world, db_path, tmp_path):
    first = org_file(tmp_path, "a.toml", (OLD_PHONE, NEW_PHONE))
    second = org_file(tmp_path, "b.toml", ("13800000002", "13900000002"))
    runs = await asyncio.gather(apply(first, db_path), apply(second, db_path))
    assert [r.code for r in runs] == [0, 0], runs
    conn = bot.bot_data["svc"].db.conn
    async with conn.execute("SELECT id, text FROM org_applies ORDER BY id") as cur:
        applies = await cur.fetchall()
    # Start-up's registration, then the two applies, each diffed against the one before it.
    assert len(applies) == 3
    last_text = applies[-1][1]
    last_org, _ = check_org(last_text)
    staff = {s.user_id: s.phone for s in await registry.all_staff(conn)}
    assert staff == {s.user_id: s.phone for s in last_org.staff}        # exactly the last file
    changes = await applied_by_hand(conn)
    latest = [c for c in changes if c.apply_id == applies[-1][0]]
    earlier = [c for c in changes if c.apply_id == applies[-2][0]]
    assert len(earlier) == 1 and len(latest) == 2       # the later one also undoes the earlier's phone


async def test_removing_a_person_who_holds_an_open_ticket_keeps_it_with_the_centre_and_tells_the_lead(
        bot, tg, world, db_path, tmp_path):
    lead = world.crew(5003)
    await lead.send("/start")
    await lead.next_message()
    scene = await cold_flat_scene(bot, tg, world)
    await scene.step(world.crew(5001), "受理")
    run = await apply(org_file(tmp_path, "org.toml", *without_staff(5001)), db_path)
    assert run.code == 0 and "- staff 5001 (王师傅)" in run.out and "ticket 0001" in run.out
    ticket = await scene.ticket()
    assert ticket.centre_id == "repair-north" and ticket.status == "accepted"
    told = await lead.next_message()
    assert "0001" in told.text and "王师傅" in told.text
    report = await world.groups["dispatch"].next_message_where(is_report)
    assert "删除" in report.text and "0001" in report.text


async def test_a_file_applied_while_a_ticket_is_being_accepted_leaves_both_done(bot, tg, world, db_path, tmp_path):
    scene = await cold_flat_scene(bot, tg, world)
    new = org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE))
    accepted, run = await asyncio.gather(scene.step(world.crew(5001), "受理"), apply(new, db_path))
    assert run.code == 0
    assert (await scene.ticket()).status == "accepted" and (await scene.ticket()).accepted_by == 5001
    assert (await org_store.get_staff(scene.conn, 5001)).phone == NEW_PHONE


async def test_an_unchanged_file_records_nothing(bot, db_path, tmp_path):
    run = await apply(org_file(tmp_path, "org.toml"), db_path)
    assert run.code == 0 and "no changes" in run.out
    assert await applied_by_hand(bot.bot_data["svc"].db.conn) == []


async def test_dry_run_prints_the_diff_and_changes_nothing(bot, db_path, tmp_path):
    run = await apply(org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE)), db_path, "--dry-run")
    assert run.code == 0 and NEW_PHONE in run.out and "dry run" in run.out
    assert (await org_store.get_staff(bot.bot_data["svc"].db.conn, 5001)).phone == OLD_PHONE


async def test_org_apply_without_a_database_is_one_clear_line(tmp_path):
    run = await apply(org_file(tmp_path, "org.toml"), tmp_path / "none.db")
    run.assert_one_clear_line("no database")


async def test_start_up_on_a_file_other_than_the_one_applied_last_is_logged_and_reported(
        emulator, world, db_path, clock, tmp_path):
    # The bot ran on a changed file; it is restarted on the old one: the revert is a logged
    # apply by "start-up", reported to dispatch, not a silent one.
    changed = org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE))
    for org_path in (changed, ORG_FILE):
        app = build_application(make_config(emulator, db_path, org_path=org_path), clock=clock)
        await heatbot_app.start(app)
        if org_path == ORG_FILE:
            report = await world.groups["dispatch"].next_message_where(is_report)
            conn = app.bot_data["svc"].db.conn
            changes = await registry.recent_changes(conn, 10)
        await heatbot_app.stop(app)
    assert "启动" in report.text and NEW_PHONE in report.text
    assert [(c.applied_by, c.field, c.old, c.new) for c in changes if c.apply_id == changes[0].apply_id] == [
        ("start-up", "phone", NEW_PHONE, OLD_PHONE)]


async def test_the_first_start_registers_everyone_without_a_report(bot, world):
    conn = bot.bot_data["svc"].db.conn
    changes = await registry.recent_changes(conn, 100)
    assert {c.change for c in changes} == {"added"} and any(c.item == "5001" for c in changes)
    # Nothing queued for dispatch (checked in the outbox, written in start-up's transaction).
    async with conn.execute("SELECT count(*) FROM outbox WHERE purpose = 'org_report'") as cur:
        assert (await cur.fetchone())[0] == 0


# ------------------------------------------------------------------------------------- /staff

async def test_staff_in_dispatch_lists_every_centre_with_phones(bot, world):
    dispatch = world.groups["dispatch"]
    await world.crew(6001).send("/staff", chat=dispatch)
    listing = await dispatch.next_message()
    for name in ("北区维修服务中心", "王师傅", OLD_PHONE, "自控中心", "孙丽", "调度员"):
        assert name in listing.text


async def test_staff_in_a_centre_group_lists_that_centre_without_phones(bot, world):
    north = world.groups["repair-north"]
    await world.crew(5002).send("/staff", chat=north)
    listing = await north.next_message()
    assert "王师傅" in listing.text and "张师傅" not in listing.text and OLD_PHONE not in listing.text


async def test_staff_is_refused_to_a_crew_member_in_dispatch_and_to_a_resident(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/staff")
    assert "调度" in (await resident.next_message()).text
    await world.groups["dispatch"].add_member(world.crew(5001))
    await world.crew(5001).send("/staff log", chat=world.groups["dispatch"])
    refused = await world.groups["dispatch"].next_message()
    assert OLD_PHONE not in refused.text and "只能" in refused.text


async def test_staff_log_lists_the_applied_changes(bot, world, db_path, tmp_path):
    assert (await apply(org_file(tmp_path, "org.toml", (OLD_PHONE, NEW_PHONE)), db_path, "--by", "马静")).code == 0
    dispatch = world.groups["dispatch"]
    await dispatch.next_message_where(is_report)
    await world.crew(6002).send("/staff log", chat=dispatch)
    log = await dispatch.next_message()
    assert "马静" in log.text and NEW_PHONE in log.text and "工作电话" in log.text


async def test_staff_log_in_english_for_an_english_desk(emulator, tg, db_path, clock, tmp_path):
    from demo.world import build_world
    world = await build_world(tg, ORG_FILE, lang="en")
    app = build_application(make_config(emulator, db_path, lang="en"), clock=clock)
    await heatbot_app.start(app)
    try:
        dispatch = world.groups["dispatch"]
        await world.crew(6001).send("/staff log", chat=dispatch)
        log = await dispatch.next_message()
        assert "Staff registry changes" in log.text and not any("\u4e00" <= ch <= "\u9fff" for ch in log.text.split("\n")[0])
    finally:
        await heatbot_app.stop(app)


# ------------------------------------------------------------------------ greeting and /whoami

async def test_a_staff_member_who_sends_start_gets_the_staff_greeting_with_role_and_commands(bot, world):
    lead = world.crew(5003)
    await lead.send("/start")
    greeting = await lead.next_message()
    assert "中心负责人" in greeting.text and "北区维修服务中心" in greeting.text and "/staff" in greeting.text
    assert "我要报修" not in greeting.text.split("\n")[0]


async def test_whoami_tells_a_staff_member_their_role_and_centre(bot, world):
    crew = world.crew(5001)
    await crew.send("/whoami")
    answer = await crew.next_message()
    assert "维修人员" in answer.text and "北区维修服务中心" in answer.text


async def test_whoami_tells_a_resident_they_are_not_registered(bot, tg):
    person = await tg.user("张三", language_code="zh")
    await person.send("/whoami")
    assert "不在人员登记中" in (await person.next_message()).text


async def test_whoami_in_a_channel_answers_with_the_channel_id(bot, tg):
    channel = await tg.channel("通知频道")
    await channel.post("/whoami")
    answer = await channel.next_message()
    assert str(channel.id) in answer.text and "频道" in answer.text


async def test_other_channel_posts_are_ignored(bot, tg):
    channel = await tg.channel("通知频道")
    await channel.post("今天停热")
    await channel.post("/whoami@another_bot")      # for another bot in the channel
    await channel.post("/whoami")
    answer = await channel.next_message()          # the only answer is the one to the last post
    assert str(channel.id) in answer.text
    assert [m.text for m in await channel.transcript() if m.from_bot] == [answer.text]


async def test_a_registry_too_long_for_one_message_comes_in_several_each_within_telegrams_limit(
        emulator, tg, db_path, clock, tmp_path):
    from demo.world import build_world
    from rules.text import MAX_TEXT
    many = "".join(f'\n[[staff]]\nuser_id = {9000 + i}\nname = "临时工{i:03d}号"\nphone = "139{i:08d}"\n'
                   f'centre = "repair-north"\nrole = "crew"\nvalid_to = 2026-03-31\n' for i in range(150))
    path = tmp_path / "big.toml"
    path.write_text(EXAMPLE + many, encoding="utf-8")
    world = await build_world(tg, path)
    app = build_application(make_config(emulator, db_path, org_path=path), clock=clock)
    await heatbot_app.start(app)
    try:
        dispatch = world.groups["dispatch"]
        await world.crew(6001).send("/staff", chat=dispatch)
        pages = [await dispatch.next_message()]
        while "临时工149号" not in pages[-1].text:
            pages.append(await dispatch.next_message())
        assert len(pages) > 1 and all(len(p.text) <= MAX_TEXT for p in pages)
        text = "\n".join(p.text for p in pages)
        assert all(f"临时工{i:03d}号" in text for i in range(150)) and "孙丽" in text
    finally:
        await heatbot_app.stop(app)
