"""/stats in Telegram and the weekly and monthly report to the leadership group (Art. 8,
Art. 10 (1)): the real bot, the emulator, a real database, the fake clock."""
from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime

from telegram.ext import Application

from bot import app as heatbot_app
from bot import charts, stats
from bot.app import build_application
from bot.clock import FakeClock
from demo.world import World
from tests.conftest import make_config
from tests.story import cold_flat_scene

DISPATCHER, HEAD, CREW_NORTH = 6001, 7001, 5001


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


async def ask(world: World, user_id: int, chat: str, text: str):
    group = world.groups[chat]
    await world.crew(user_id).send(text, chat=group)
    return await group.next_message_where(lambda m: m.from_bot)


async def test_stats_week_in_the_dispatch_group_answers_with_each_centres_figures_and_a_chart(bot, tg, world: World,
                                                                                            clock: FakeClock):
    scene = await cold_flat_scene(bot, tg, world)          # ticket 0001 at 09:00 Thursday 15 January
    clock.advance(minutes=10)
    await scene.step(world.crew(CREW_NORTH), "受理")         # accepted within 30 minutes: on time

    table = await ask(world, DISPATCHER, "dispatch", "/stats week")
    assert "本周统计" in table.text and "1月12日" in table.text and "1月15日" in table.text   # Monday to today
    north = next(line for line in table.text.splitlines() if line.startswith("北区维修服务中心"))
    following = table.text.splitlines()[table.text.splitlines().index(north) + 1]
    assert "受理 1" in following and "按时受理 100%" in following and "满意 —" in following
    assert "共受理 1 件" in table.text

    photo = await world.groups["dispatch"].next_message_where(lambda m: m.from_bot)
    assert photo.kind == "photo" and photo.caption == "各服务中心按时率"
    assert png_size(await tg.file_bytes(photo.file_id)) == (charts.WIDTH_PX, charts.HEIGHT_PX)


async def test_stats_is_refused_in_a_centre_group_and_to_a_crew_member_and_open_to_the_leadership_group(bot, world: World):
    refused = await ask(world, CREW_NORTH, "repair-north", "/stats")
    assert "调度中心群" in refused.text and "领导群" in refused.text
    answer = await ask(world, HEAD, "leadership", "/stats month")
    assert "本月统计" in answer.text and "1月1日" in answer.text
    assert (await world.groups["leadership"].next_message_where(lambda m: m.from_bot)).kind == "photo"


async def test_a_period_stats_does_not_know_gets_the_usage_and_no_chart(bot, world: World):
    usage = await ask(world, DISPATCHER, "dispatch", "/stats year")
    assert "/stats week" in usage.text
    assert "今日统计" in (await ask(world, DISPATCHER, "dispatch", "/stats")).text     # nothing after it: today


def test_the_period_words_people_type_are_understood():
    assert [stats.parse_period(w) for w in ("", "Today", "week", "W", "本周", "month", "本月", "year")] == \
        ["today", "today", "week", "week", "week", "month", "month", None]


async def reports_in(group) -> list:
    return [m for m in await group.transcript() if m.from_bot and "考核统计" in m.text]


async def test_monday_at_eight_leadership_gets_last_weeks_figures_chart_once_even_across_a_restart(
        bot: Application, tg, world: World, clock: FakeClock, emulator, database):
    scene = await cold_flat_scene(bot, tg, world)           # Thursday 15 January: in the week of the 12th
    leadership = world.groups["leadership"]
    svc = bot.bot_data["svc"]

    clock.set(datetime(2026, 1, 18, 23, 59, tzinfo=UTC))    # Monday 19 January 07:59 in Shanghai
    assert await stats.send_due_reports(svc) == []
    clock.set(datetime(2026, 1, 19, 0, 0, tzinfo=UTC))      # 08:00
    await stats.send_due_reports(svc)                       # (or the sweeper, whichever comes first)
    table = await leadership.next_message_where(lambda m: m.from_bot and "考核统计" in m.text)
    assert "上周考核统计" in table.text and "1月12日—1月18日" in table.text and "共受理 1 件" in table.text
    photo = await leadership.next_message_where(lambda m: m.from_bot)
    assert photo.kind == "photo"
    png_size(await tg.file_bytes(photo.file_id))
    page = await leadership.next_message_where(lambda m: m.from_bot)
    assert page.kind == "document" and "1月12日—1月18日" in page.caption
    html = (await tg.file_bytes(page.file_id)).decode("utf-8")
    # The printable report carries the three charts as images inside the one file.
    assert html.count('src="data:image/png;base64,') == 3 and "北区维修服务中心" in html

    clock.advance(minutes=30)
    assert await stats.send_due_reports(svc) == []
    await heatbot_app.stop(bot)
    again = build_application(make_config(emulator, database), clock=clock)
    await heatbot_app.start(again)
    try:
        assert await stats.send_due_reports(again.bot_data["svc"]) == []
        await asyncio.sleep(0.3)                            # let a wrongly queued message arrive
        assert len(await reports_in(leadership)) == 1
        assert len(await reports_in(scene.dispatch)) == 0
    finally:
        await heatbot_app.stop(again)


async def test_the_first_of_the_month_brings_last_months_report(bot: Application, tg, world: World, clock: FakeClock):
    await cold_flat_scene(bot, tg, world)
    svc = bot.bot_data["svc"]
    clock.set(datetime(2026, 2, 1, 0, 5, tzinfo=UTC))       # Sunday 1 February 08:05
    await stats.send_due_reports(svc)
    table = await world.groups["leadership"].next_message_where(lambda m: m.from_bot and "考核统计" in m.text)
    assert "上月考核统计" in table.text and "1月1日—1月31日" in table.text and "共受理 1 件" in table.text


async def test_a_bot_down_past_the_catch_up_window_skips_the_week(bot: Application, world: World, clock: FakeClock):
    svc = bot.bot_data["svc"]
    clock.set(datetime(2026, 1, 20, 1, 0, tzinfo=UTC))      # Tuesday 09:00: more than 24 h after Monday 08:00
    assert await stats.send_due_reports(svc) == []
    await asyncio.sleep(0.3)
    assert await reports_in(world.groups["leadership"]) == []


async def test_a_charts_bytes_are_dropped_once_its_photo_has_left(bot: Application, world: World):
    await ask(world, DISPATCHER, "dispatch", "/stats week")
    await world.groups["dispatch"].next_message_where(lambda m: m.from_bot and m.kind == "photo")
    svc = bot.bot_data["svc"]

    async def with_file() -> int:
        async with svc.db.conn.execute("SELECT COUNT(*) FROM outbox WHERE file IS NOT NULL") as cur:
            return (await cur.fetchone())[0]

    async def pending() -> int:
        async with svc.db.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
            return (await cur.fetchone())[0]

    for _ in range(200):                        # the sender records the send just after Telegram answered
        if await pending() == 0:
            break
        await asyncio.sleep(0.02)
    await stats.send_due_reports(svc)           # the sweeper's pass also tidies up
    assert await with_file() == 0


def test_who_may_ask_for_stats_where():
    from rules.roles import may_see_stats
    from storage.org import Staff

    def member(role: str, centre: str | None = None) -> Staff:
        return Staff(1, "x", None, centre, role)

    dispatcher, head, lead = member("dispatcher"), member("department_head"), member("centre_lead", "repair-north")
    assert may_see_stats(dispatcher, in_dispatch_group=True, in_leadership_group=False)
    assert may_see_stats(head, in_dispatch_group=True, in_leadership_group=False)
    assert not may_see_stats(lead, in_dispatch_group=True, in_leadership_group=False)     # a centre's lead in dispatch
    assert may_see_stats(None, in_dispatch_group=False, in_leadership_group=True)         # a company leader not on file
    assert not may_see_stats(dispatcher, in_dispatch_group=False, in_leadership_group=False)   # privately or in a centre group
