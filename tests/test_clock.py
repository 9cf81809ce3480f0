"""The deadline clock end to end (issue 4, Art. 7, 12–13): reminders, escalations, restarts."""
from __future__ import annotations

import pytest

from bot import app as heatbot_app
from bot import clockwork
from bot.app import build_application
from tests.conftest import make_config
from tests.story import report_cold_flat


async def sweep(app) -> int:
    return await clockwork.sweep(app.bot_data["svc"])


@pytest.fixture
async def ticket(bot, tg, world):
    """A cold-flat ticket received at 09:00: accept by 09:30, on site by 10:00, done by 21:00."""
    await world.crew(5003).send("/start")           # the centre lead has a private chat with the bot
    await world.crew(5003).next_message()
    await world.crew(7001).send("/start")           # so has the department head
    await world.crew(7001).next_message()
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    return resident, card


async def test_accept_reminder_reaches_the_centre_group_at_its_lead_time_once(bot, clock, world, ticket):
    group = world.groups["repair-north"]
    clock.advance(minutes=19)
    assert await sweep(bot) == 0
    clock.advance(minutes=1)                          # 09:20: 10 min before the accept limit
    assert await sweep(bot) == 1
    reminder = await group.next_message()
    assert "工单 0001 的受理时限 1月15日 09:30 快到了" in reminder.text and "迟发" not in reminder.text
    assert await sweep(bot) == 0


async def test_overdue_accept_alerts_lead_and_dispatch_once_and_the_card_turns_overdue(bot, clock, world, ticket):
    _, card = ticket
    group, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    clock.advance(minutes=20)
    await sweep(bot)
    await group.next_message()
    clock.advance(minutes=12)                         # 09:32: two minutes late
    assert await sweep(bot) == 1
    alert = await dispatch.next_message()
    assert "超时告警" in alert.text and "0001" in alert.text and "北区维修服务中心" in alert.text and "超时 2 分钟" in alert.text
    assert alert.button_texts() == ["👀 已知悉，我来跟进"]
    lead = await world.crew(5003).next_message()
    assert "超时" in lead.text and "0001" in lead.text
    card = await group.wait_edited(card)
    assert "已超时：受理时限已过 2 分钟" in card.text
    assert await sweep(bot) == 0


async def test_still_unresolved_after_the_interval_the_department_head_is_told_once(bot, clock, world, ticket):
    clock.advance(minutes=31)
    await sweep(bot)
    clock.advance(minutes=29)                         # 10:00: 30 min after the accept limit
    fired = await sweep(bot)
    assert fired >= 1
    head = await world.crew(7001).next_message()
    assert "超时升级" in head.text and "0001" in head.text
    clock.advance(minutes=1)
    await sweep(bot)
    messages = [m for m in await world.crew(7001).transcript() if m.from_bot and "超时升级" in m.text and "受理" in m.text]
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("presses", "kind", "code", "reminder_at", "due_at"),
    [
        ([], "受理", "accept", 20, 30),
        (["受理"], "到场", "onsite", 45, 60),
        (["受理", "已到场"], "处理完成", "close", 10 * 60, 12 * 60),
        (["受理", "已到场", "需长时间协调"], "书面报告", "report", 7 * 60, 8 * 60),   # Art. 13 limits (4)
    ],
    ids=["accept", "onsite", "close", "report"],
)
async def test_every_limit_reminds_at_its_lead_escalates_at_its_limit_and_goes_up_after_the_interval_each_once(
    bot, clock, world, ticket, presses, kind, code, reminder_at, due_at,
):
    _, card = ticket
    group, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    for step in presses:
        await world.crew(5001).press(card, step)
        if step == "需长时间协调":
            await group.next_message()                  # the prompt for the written report
        else:
            card = await group.wait_edited(card)

    async def until(chat, text):
        msg = await chat.next_message()
        while text not in msg.text:
            msg = await chat.next_message()
        return msg

    clock.advance(minutes=reminder_at)
    await sweep(bot)
    assert "快到了" in (await until(group, f"{kind}时限")).text
    clock.advance(minutes=due_at - reminder_at)
    await sweep(bot)
    assert "超时告警" in (await until(dispatch, f"{kind}时限")).text
    clock.advance(minutes=30)
    await sweep(bot)
    assert "超时升级" in (await until(world.crew(7001), f"{kind}时限")).text
    clock.advance(hours=30)
    await sweep(bot)
    svc = bot.bot_data["svc"]
    async with svc.db.transaction() as conn:
        async with conn.execute(
            "SELECT a.kind, COUNT(*) FROM alerts a JOIN deadlines d ON d.id = a.deadline_id "
            "WHERE a.ticket_id = 1 AND d.kind = ? GROUP BY a.kind", (code,),
        ) as cur:
            counts = dict(await cur.fetchall())
    assert counts == {"reminder": 1, "overdue": 1, "head": 1}


async def test_the_first_dispatcher_to_acknowledge_owns_the_alert(bot, clock, world, ticket):
    dispatch = world.groups["dispatch"]
    clock.advance(minutes=31)
    await sweep(bot)
    alert = await dispatch.next_message()
    first = await world.crew(6001).press(alert, "已知悉")
    assert "由您跟进" in first.text
    assert "已知悉工单 0001" in (await dispatch.next_message()).text
    second = await world.crew(6002).press(alert, "已知悉")
    assert "已由" in second.text
    group = world.groups["repair-north"]
    await world.crew(5003).send("/ticket 1", chat=group)
    history = (await group.next_message()).text
    assert "acknowledged" in history or "已知悉" in history


async def test_a_stranger_cannot_acknowledge_an_alert(bot, tg, clock, world, ticket):
    dispatch = world.groups["dispatch"]
    clock.advance(minutes=31)
    await sweep(bot)
    alert = await dispatch.next_message()
    crew = world.crew(5001)
    await dispatch.add_member(crew)
    assert "无法操作" in (await crew.press(alert, "已知悉")).text


async def test_no_reminder_after_done(bot, clock, world, ticket):
    _, card = ticket
    group = world.groups["repair-north"]
    for step in ("受理", "已到场", "处理完成"):
        await world.crew(5001).press(card, step)
        card = await group.wait_edited(card)
    clock.advance(hours=20)
    assert await sweep(bot) == 0
    texts = [m.text for m in await group.transcript() if m.from_bot]
    assert not any("快到了" in t or "超时" in t for t in texts)


async def test_a_reminder_swept_just_before_done_is_delivered_before_the_done_edit(bot, clock, world, ticket):
    _, card = ticket
    group = world.groups["repair-north"]
    clock.advance(minutes=20)
    await sweep(bot)                                   # the reminder is committed first …
    await world.crew(5001).press(card, "受理")         # … then the crew accepts at once
    reminder = await group.next_message()
    accepted = await group.wait_edited(card)
    assert "快到了" in reminder.text and "已受理" in accepted.text
    calls = [c for c in await world.tg.calls() if c.method in ("sendMessage", "editMessageText") and str(c.params.get("chat_id")) == str(group.id)]
    order = [c.method for c in calls]
    assert order.index("sendMessage", 1) < order.index("editMessageText")


async def test_a_bot_down_for_twenty_minutes_fires_what_it_missed_once_marked_late(emulator, tg, world, db_path, clock):
    config = make_config(emulator, db_path)
    app = build_application(config, clock=clock)
    await heatbot_app.start(app)
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    await heatbot_app.stop(app)

    clock.advance(minutes=50)                          # down from 09:00 to 09:50, across 09:20 and 09:30
    app = build_application(config, clock=clock)
    await heatbot_app.start(app)                       # the start-up sweep fires what was missed
    alert = await world.groups["dispatch"].next_message(timeout=10)
    assert "迟发 20 分钟" in alert.text and "超时 20 分钟" in alert.text
    assert await sweep(app) == 0
    await heatbot_app.stop(app)

    app = build_application(config, clock=clock)       # and once more: nothing fires twice
    await heatbot_app.start(app)
    assert await sweep(app) == 0
    await heatbot_app.stop(app)
    reminders = [m.text for m in await world.groups["repair-north"].transcript() if m.from_bot and "快到了" in m.text]
    assert not any("受理时限" in r for r in reminders)   # a reminder for a passed limit is not sent late
    assert any("到场时限" in r and "迟发 5 分钟" in r for r in reminders)   # 09:45's, still ahead of 10:00
    alerts = [m for m in await world.groups["dispatch"].transcript() if m.from_bot and "超时告警" in m.text]
    assert len(alerts) == 1
    assert card.message_id


async def test_overdue_lists_overdue_and_soon_due_tickets_by_centre(bot, clock, world, ticket):
    dispatch = world.groups["dispatch"]
    clock.advance(minutes=35)
    await world.crew(6001).send("/overdue", chat=dispatch)
    text = (await dispatch.next_message()).text
    assert "北区维修服务中心" in text and "0001" in text and "受理已超时 5 分钟" in text and "到场还剩 25 分钟" in text


async def test_overdue_is_for_dispatch_only(bot, world, ticket):
    group = world.groups["repair-north"]
    await world.crew(5001).send("/overdue", chat=group)
    assert "只能由调度人员" in (await group.next_message()).text


async def test_dispatch_raising_the_level_recomputes_limits_from_the_time_received(bot, tg, clock, world):
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, category="室温异常", temperature="17")   # general: 24 h (Art. 13 limits (3))
    card = await world.groups["repair-north"].next_message()
    assert "完成 1月16日 09:00" in card.text
    clock.advance(hours=1)
    dispatch = world.groups["dispatch"]
    await world.crew(6001).send("/level 1 major", chat=dispatch)
    assert "最晚 1月15日 21:00 前处理完成" in (await dispatch.next_message()).text   # 12 h from 09:00, not from 10:00
    card = await world.groups["repair-north"].wait_edited(card)
    assert "重大" in card.text and "完成 1月15日 21:00" in card.text


@pytest.mark.parametrize(("command", "answer"), [("/level 1 urgent", "级别只能是"), ("/level 99 major", "没有找到工单 99"),
                                                 ("/category 1 volcano", "没有“volcano”这个类别")],
                         ids=["bad-level", "unknown-ticket", "bad-category"])
async def test_bad_overrides_are_answered(bot, world, ticket, command, answer):
    dispatch = world.groups["dispatch"]
    await world.crew(6001).send(command, chat=dispatch)
    assert answer in (await dispatch.next_message()).text


async def test_a_crew_member_cannot_override_the_level(bot, world, ticket):
    group = world.groups["repair-north"]
    await world.crew(5001).send("/level 1 general", chat=group)
    assert "只能由调度人员" in (await group.next_message()).text


async def test_a_possible_injury_alerts_leadership_at_creation(bot, tg, world):
    resident = await tg.user("王五", language_code="zh")
    await report_cold_flat(resident, category="井盖丢失", community="和平", pick="和平苑", description="井盖没了，很危险")
    alert = await world.groups["leadership"].next_message()
    assert "请领导关注" in alert.text and "0001" in alert.text and "第七条" in alert.text


async def test_raising_the_level_of_a_transferred_ticket_keeps_its_fresh_accept_clock(bot, clock, world):
    from tests.story import report_cold_flat as report

    resident = await world.tg.user("赵六", language_code="zh")
    await report(resident, category="室温异常", temperature="17")
    north, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    card = await north.next_message()
    clock.advance(minutes=20)
    await world.crew(5001).press(card, "退单")
    prompt = await north.next_message()
    await world.crew(5001).send("不是我们片区的", chat=north, reply_to=prompt)
    decision = await dispatch.next_message_where(lambda m: bool(m.buttons))
    await world.crew(6001).press(decision, "南区维修服务中心")
    south_card = await world.groups["repair-south"].next_message()
    assert "受理 1月15日 09:50" in south_card.text            # 30 min from the transfer (Art. 12)
    await world.crew(6001).send("/level 1 major", chat=dispatch)
    await dispatch.next_message()
    south_card = await world.groups["repair-south"].wait_edited(south_card)
    assert "受理 1月15日 09:50" in south_card.text and "完成 1月15日 21:00" in south_card.text
