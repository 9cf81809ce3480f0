"""Rosters end to end (Art. 11, 12): routing by the roster at the time received, the duty centre
covering the night, the card mentioning the crew on duty, private reminders, nobody on duty,
and shift handover (交接班) with its "已接班" button. The real Application, emulator and
SQLite file; the fake clock is moved and the sweeper run by hand."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import app as heatbot_app
from bot import clockwork, handover
from bot.app import build_application
from bot.clock import FakeClock
from bot.orgfile import load_org
from storage import org as org_store
from storage import tickets
from tests.conftest import ORG_FILE, make_config
from tests.story import report_cold_flat

NORTH_NIGHT_COVERS = '''end = "08:00"
staff = [5002]
covers = ["repair-south"]
'''


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock() -> FakeClock:
    """02:00 on 16 January in Shanghai: the night shift is on."""
    return FakeClock(shanghai(16, 2))


@pytest.fixture
def start_bot(emulator, db_path: Path, clock: FakeClock, tmp_path: Path) -> Callable:
    """Start the bot on the example organisation file with ``edit`` applied to its text."""

    @asynccontextmanager
    async def run(edit: Callable[[str], str] = lambda text: text, **config) -> AsyncIterator:
        path = tmp_path / "org.toml"
        path.write_text(edit(ORG_FILE.read_text(encoding="utf-8")), encoding="utf-8")
        app = build_application(make_config(emulator, db_path, org_path=path, **config), clock=clock)
        await heatbot_app.start(app)
        try:
            yield app
        finally:
            await heatbot_app.stop(app)

    return run


def mentioned(msg) -> list[int]:
    return [e["user"]["id"] for e in msg.entities if e["type"] == "text_mention"]


async def started(user) -> None:
    """The person has a private chat with the bot (as staff do after /start)."""
    await user.send("/start")
    await user.next_message()


async def test_a_report_at_two_in_the_morning_goes_to_the_night_duty_centre_and_mentions_its_crew(bot, tg, world):
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, community="阳光", pick="阳光花园")
    card = await world.groups["repair-north"].next_message()
    assert "值班中心代管" in card.text and "南区维修服务中心" in card.text
    assert mentioned(card) == [5002]
    svc = bot.bot_data["svc"]
    ticket = await tickets.get_ticket(svc.db.conn, 1)
    routed = [e for e in await tickets.list_events(svc.db.conn, 1) if e.kind == "routed"]
    assert ticket.centre_id == "repair-north" and routed[0].detail == {"centre": "repair-north", "covering_for": "repair-south"}
    # The night duty crew can take it: it is their centre's ticket now.
    await world.crew(5002).press(card, "受理")
    assert (await tickets.get_ticket(svc.db.conn, 1)).status == "accepted"


async def test_by_day_the_south_centre_keeps_its_own_report_and_mentions_its_day_crew(bot, tg, world, clock):
    clock.set(shanghai(16, 10))
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, community="阳光", pick="阳光花园")
    card = await world.groups["repair-south"].next_message()
    assert "值班中心代管" not in card.text and mentioned(card) == [5011, 5012]


async def test_a_metering_report_at_night_goes_to_its_centre_unmentioned_as_before(bot, tg, world):
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, category="热量表问题", temperature=None)
    card = await world.groups["metering"].next_message()
    assert mentioned(card) == [] and "值班" not in card.text
    assert all("无人值班" not in m.text for m in await world.groups["dispatch"].transcript())


async def test_with_nobody_on_duty_the_card_still_goes_to_the_group_and_dispatch_is_alerted_at_once(start_bot, tg, world):
    async with start_bot(lambda text: text.replace(NORTH_NIGHT_COVERS, 'end = "08:00"\nstaff = [5002]\n', 1)):
        resident = await tg.user("李四", language_code="zh")
        await report_cold_flat(resident, community="阳光", pick="阳光花园")
        card = await world.groups["repair-south"].next_message()
        assert "无人值班" in card.text and mentioned(card) == []
        alert = await world.groups["dispatch"].next_message_where(lambda m: "无人值班" in m.text)
        assert "0001" in alert.text and "南区维修服务中心" in alert.text


async def test_a_crew_member_removed_mid_shift_is_no_longer_mentioned_nor_routed_to(bot, tg, world):
    svc = bot.bot_data["svc"]
    org = load_org(ORG_FILE)
    without = type(org)(**{**org.__dict__, "staff": tuple(s for s in org.staff if s.user_id != 5002)})
    async with svc.db.transaction() as conn:
        await org_store.replace_org(conn, without)
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, community="阳光", pick="阳光花园")
    # Nobody is left on the north night shift, so it covers no one: the south group gets the
    # card, nobody is mentioned, and dispatch hears of it at once.
    card = await world.groups["repair-south"].next_message()
    assert mentioned(card) == [] and "无人值班" in card.text
    await world.groups["dispatch"].next_message_where(lambda m: "无人值班" in m.text)


async def test_reminders_go_privately_to_the_crew_on_duty_then_the_lead_and_dispatch(bot, tg, world, clock):
    night, lead = world.crew(5002), world.crew(5003)
    await started(night)
    await started(lead)
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident)                   # 和平苑, north's own community
    card = await world.groups["repair-north"].next_message()
    assert mentioned(card) == [5002]
    svc = bot.bot_data["svc"]
    clock.advance(minutes=20)                          # 02:20: ten minutes to the accept limit
    await clockwork.sweep(svc)
    reminder = await night.next_message()
    assert "您在值班" in reminder.text and "0001" in reminder.text and "快到了" in reminder.text
    clock.advance(minutes=11)                          # 02:31: past the limit
    await clockwork.sweep(svc)
    overdue = await night.next_message()
    assert "您在值班" in overdue.text and "超时" in overdue.text
    assert "超时" in (await lead.next_message()).text
    await world.groups["dispatch"].next_message_where(lambda m: "超时告警" in m.text)


async def test_a_work_order_from_the_12345_platform_at_night_is_routed_by_the_roster_too(web_bot, world):
    """Every source takes the same road (bot/filing.py): the Open311 API as well as residents."""
    import httpx

    from tests.test_open311 import work_order
    port = web_bot.bot_data["web"].port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/open311/v2", timeout=10) as client:
        response = await client.post("/requests.json", data=work_order(address_string="阳光花园 5-1-302"))
        assert response.status_code in (200, 201), response.text
    card = await world.groups["repair-north"].next_message()
    assert "值班中心代管" in card.text and mentioned(card) == [5002]
    assert (await tickets.get_ticket(web_bot.bot_data["svc"].db.conn, 1)).centre_id == "repair-north"


# ------------------------------------------------------------------------ shift handover


@pytest.fixture
def morning(clock: FakeClock) -> FakeClock:
    clock.set(shanghai(16, 7, 50))
    return clock


async def test_at_eight_the_day_shift_gets_a_handover_once_and_a_centre_member_takes_it_over(morning, bot, tg, world):
    clock, svc, north = morning, bot.bot_data["svc"], world.groups["repair-north"]
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident)                   # 07:50: accept by 08:20, on the day shift
    await north.next_message()
    assert await handover.sweep(svc) == 0              # the night shift was running when the bot started
    clock.set(shanghai(16, 8))
    assert await handover.sweep(svc) >= 1
    posted = await north.next_message_where(lambda m: "交接班" in m.text)
    assert "0001" in posted.text and "本班内到期" in posted.text and mentioned(posted) == [5001]
    assert posted.button_texts() == ["✅ 已接班"]
    assert await handover.sweep(svc) == 0
    # Only the centre's own staff may take the shift over; a stranger in the group may not.
    stranger = await tg.user("路人", language_code="zh")
    await north.add_member(stranger)
    assert "只有本中心" in (await stranger.press(posted, "已接班")).text
    assert "已记录" in (await world.crew(5001).press(posted, "已接班")).text
    taken = await north.next_message_where(lambda m: "已接班（" in m.text)
    assert "王师傅" in taken.text
    assert "王师傅" in (await world.crew(5003).press(posted, "已接班")).text    # already taken over
    clock.set(shanghai(16, 8, 30))
    await handover.sweep(svc)
    assert all("无人点" not in m.text for m in await world.crew(5003).transcript())


async def test_a_handover_is_posted_once_across_a_restart(morning, start_bot, world):
    async with start_bot() as app:
        morning.set(shanghai(16, 8))
        await handover.sweep(app.bot_data["svc"])
        await world.groups["repair-north"].next_message_where(lambda m: "交接班" in m.text)
    async with start_bot() as app:                     # the same database: nothing posted again
        svc = app.bot_data["svc"]
        assert await handover.sweep(svc) == 0
        async with svc.db.conn.execute("SELECT COUNT(*) FROM outbox WHERE purpose = 'handover' AND chat_id = ?",
                                       (world.groups["repair-north"].chat_id,)) as cur:
            assert (await cur.fetchone())[0] == 1


async def test_a_bot_down_across_the_shift_change_posts_the_handover_when_it_is_back(morning, start_bot, world):
    async with start_bot():
        pass                                           # 07:50: the night shift is recorded
    morning.set(shanghai(16, 9, 30))                   # back at 09:30: the day shift missed its handover
    async with start_bot() as app:
        await handover.sweep(app.bot_data["svc"])
        await world.groups["repair-north"].next_message_where(lambda m: "交接班" in m.text)


async def test_an_unacknowledged_handover_tells_the_lead_once_after_the_policy_minutes(morning, bot, world):
    clock, svc, lead = morning, bot.bot_data["svc"], world.crew(5013)
    await started(lead)
    clock.set(shanghai(16, 8))
    await handover.sweep(svc)
    await world.groups["repair-south"].next_message_where(lambda m: "交接班" in m.text)
    clock.set(shanghai(16, 8, 14))
    await handover.sweep(svc)
    clock.set(shanghai(16, 8, 15))
    await handover.sweep(svc)
    told = await lead.next_message()
    assert "15 分钟内无人点" in told.text and "南区维修服务中心" in told.text
    clock.set(shanghai(16, 8, 45))
    await handover.sweep(svc)
    assert len([m for m in await lead.transcript() if "无人点" in m.text]) == 1


# ------------------------------------------------------------------------ daylight saving time


async def test_in_berlin_on_the_night_clocks_spring_forward_routing_and_handover_follow_the_wall_clock(start_bot, tg, world, clock):
    berlin = ZoneInfo("Europe/Berlin")
    clock.set(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))       # 03:30 CEST, an hour after 02:00 became 03:00
    async with start_bot(tz=berlin) as app:
        resident = await tg.user("李四", language_code="zh")
        await report_cold_flat(resident, community="阳光", pick="阳光花园")
        card = await world.groups["repair-north"].next_message()
        assert mentioned(card) == [5002] and "值班中心代管" in card.text
        svc = app.bot_data["svc"]
        clock.set(datetime(2026, 3, 29, 5, 59, tzinfo=UTC))   # 07:59 CEST: still the night
        assert await handover.sweep(svc) == 0
        clock.set(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))    # 08:00 CEST: the day shift, once
        await handover.sweep(svc)
        posted = await world.groups["repair-north"].next_message_where(lambda m: "交接班" in m.text)
        assert "08:00–20:00" in posted.text and mentioned(posted) == [5001]
        assert await handover.sweep(svc) == 0


async def test_the_handover_lists_a_return_waiting_for_dispatch(morning, bot, tg, world):
    clock, svc, north = morning, bot.bot_data["svc"], world.groups["repair-north"]
    night = world.crew(5002)
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident)
    card = await north.next_message()
    await night.press(card, "受理")
    await night.press(await north.wait_edited(card), "退单")
    prompt = await north.next_message_where(lambda m: "退单原因" in m.text)
    await night.send("不是我们的管线，属于小区物业", chat=north, reply_to=prompt)
    await north.next_message_where(lambda m: "退单申请已报调度中心" in m.text)
    clock.set(shanghai(16, 8))
    await handover.sweep(svc)
    posted = await north.next_message_where(lambda m: "交接班" in m.text)
    assert "等调度审批：0001 退单申请" in posted.text and "0001 家中不热" in posted.text


async def test_the_handover_lists_shutdown_notices_still_to_post(morning, bot, world):
    """A published shutdown whose notice the north centre has not posted yet (Art. 14, 15, 23)."""
    from datetime import timedelta

    from storage import outages
    clock, svc, north = morning, bot.bot_data["svc"], world.groups["repair-north"]
    now = clock.now()
    async with svc.db.transaction() as conn:
        outage_id = await outages.insert_outage(conn, outages.NewOutage(
            kind="planned", reason="换热站检修", starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=6),
            communities=("heping",), chat_id=world.groups["dispatch"].chat_id, created_by=6001, created_name="孙丽",
            created_at=now), "published")
        await outages.create_posting(conn, outage_id, "repair-north", north.chat_id, ["heping"], now + timedelta(hours=6), None)
    clock.set(shanghai(16, 8))
    await handover.sweep(svc)
    posted = await north.next_message_where(lambda m: "交接班" in m.text)
    assert "待张贴停热通知：T001（1月16日 13:50 前）" in posted.text


async def test_a_centre_with_very_many_open_tickets_gets_a_handover_that_fits_one_message(morning, bot, world):
    """Telegram refuses a text over 4,096 characters; the handover lists the soonest and counts the rest."""
    from bot.filing import Filing, file_ticket
    from rules.policy import Source
    clock, svc, north = morning, bot.bot_data["svc"], world.groups["repair-north"]
    async with svc.db.transaction() as conn:
        for n in range(150):
            await file_ticket(conn, svc, Filing(category="room_temp", source=Source.HOTLINE, lang="zh", community_id="heping",
                                                address=f"和平苑 {n // 10 + 1}-1-{n % 10 + 101}", phone="13900000000"))
    clock.set(shanghai(16, 8))
    await handover.sweep(svc)
    posted = await north.next_message_where(lambda m: "交接班" in m.text, timeout=30)
    assert "未结工单 150 张" in posted.text and "另有" in posted.text and len(posted.text) <= 4096
