"""The 08:00 line in the dispatch group: yesterday's tickets by source and level (Art. 4,
Art. 10 (1)), posted once, through the real sender to the emulator."""
from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import Application

from bot import daily
from bot.clock import FakeClock
from bot.filing import Filing, file_ticket
from demo.world import World
from rules.policy import Source


async def file(bot: Application, source: Source, category: str = "not_warm") -> None:
    svc = bot.bot_data["svc"]
    async with svc.db.transaction() as conn:
        await file_ticket(conn, svc, Filing(category=category, source=source, lang="zh", community_id="heping",
                                            address="1-1-101", description="x"))
    svc.wake_sender()


async def test_yesterdays_tickets_are_counted_by_source_and_level_at_eight_once(bot: Application, world: World,
                                                                               clock: FakeClock):
    svc = bot.bot_data["svc"]
    await file(bot, Source.RESIDENT, "room_temp")        # general
    await file(bot, Source.RESIDENT, "not_warm")         # major by category
    await file(bot, Source.HOTLINE, "room_temp")
    await file(bot, Source.MAYOR_HOTLINE, "room_temp")   # major by source (Art. 13, urgent (1))
    dispatch = world.groups["dispatch"]

    clock.set(datetime(2026, 1, 15, 23, 59, tzinfo=UTC))   # 07:59 on the 16th in Shanghai
    assert not await daily.post_daily_count(svc)
    await file(bot, Source.PRESS, "room_temp")           # the 16th: counted tomorrow, not today

    clock.set(datetime(2026, 1, 16, 0, 0, tzinfo=UTC))     # 08:00
    assert await daily.post_daily_count(svc)
    line = await dispatch.next_message_where(lambda m: "统计" in m.text)
    assert "1月15日" in line.text and "共 4 件" in line.text
    assert "居民自报：2 件（重大 1，一般 1）" in line.text
    assert "热线电话：1 件（重大 0，一般 1）" in line.text
    assert "12345：1 件（重大 1，一般 0）" in line.text
    assert "媒体" not in line.text

    clock.advance(minutes=20)
    assert not await daily.post_daily_count(svc)          # once a day, whatever the sweeper does


async def test_a_quiet_day_is_reported_as_quiet_and_a_bot_down_all_morning_skips_it(bot: Application, world: World,
                                                                                     clock: FakeClock):
    svc = bot.bot_data["svc"]
    clock.set(datetime(2026, 1, 16, 0, 30, tzinfo=UTC))    # 08:30 on the 16th: the 15th had no tickets
    assert await daily.post_daily_count(svc)
    assert "没有新工单" in (await world.groups["dispatch"].next_message_where(lambda m: "统计" in m.text)).text
    clock.set(datetime(2026, 1, 17, 2, 0, tzinfo=UTC))     # 10:00 on the 17th: past the hour
    assert not await daily.post_daily_count(svc)
