"""``/register``: dispatch's record of praise, criticism and press reports, the inputs of the
centres' assessment (Art. 10 (1), Art. 18-24), end to end."""
from __future__ import annotations

from telegram.ext import Application

from demo.world import World
from tgemu import EmulatorClient

DISPATCHER = 6001
NORTH_LEAD = 5003          # 赵建国


async def test_praise_for_a_named_crew_is_recorded_listed_and_told_to_the_centres_lead(bot: Application, world: World):
    dispatch = world.groups["dispatch"]
    dispatcher = world.crew(DISPATCHER)
    await dispatcher.send("/register", chat=dispatch)
    listing = await dispatch.next_message()
    assert "还没有登记" in listing.text
    await dispatcher.press(listing, "登记一条")
    await dispatcher.press(await dispatch.next_message(), "表扬")
    await dispatcher.press(await dispatch.next_message(), "北区维修服务中心")
    await dispatcher.press(await dispatch.next_message(), "王师傅")
    await dispatcher.press(await dispatch.next_message(), "热线电话")
    question = await dispatch.next_message()
    await dispatcher.send("和平苑 3-2-501 的住户来电表扬王师傅<深夜>抢修", chat=dispatch, reply_to=question)
    question = await dispatch.next_message()
    await dispatcher.send("0042", chat=dispatch, reply_to=question)          # no such ticket
    assert "没有这个工单号" in (await dispatch.next_message()).text
    await dispatcher.press(await dispatch.next_message(), "跳过")
    summary = await dispatch.next_message()
    assert "表扬" in summary.text and "王师傅" in summary.text and "<深夜>" in summary.text
    await dispatcher.press(summary, "确认提交")
    assert "已登记" in (await dispatch.next_message()).text

    # Told in the centre's group, addressed to its lead (a bot cannot open a private chat).
    told = await world.groups["repair-north"].next_message()
    assert told.text.startswith("📒 赵建国") and "表扬" in told.text and "王师傅" in told.text and "孙丽" in told.text
    await dispatcher.send("/register", chat=dispatch)
    listing = await dispatch.next_message()
    assert "表扬" in listing.text and "北区维修服务中心" in listing.text and "<深夜>" in listing.text
    # The other centre hears nothing of it.
    south = [c for c in await world.tg.calls("sendMessage") if str(c.params.get("chat_id")) == str(world.groups["repair-south"].chat_id)]
    assert south == []


async def test_press_criticism_in_private_linked_to_a_ticket(bot: Application, world: World, tg: EmulatorClient):
    resident = await tg.user("张三", language_code="zh")
    from tests.story import report_cold_flat
    await report_cold_flat(resident)                              # ticket 0001, North Repair Centre
    dispatcher = world.crew(DISPATCHER)
    await dispatcher.send("/register")
    await dispatcher.press(await dispatcher.next_message(), "登记一条")
    await dispatcher.press(await dispatcher.next_message(), "媒体报道")
    await dispatcher.press(await dispatcher.next_message(), "南区维修服务中心")
    await dispatcher.press(await dispatcher.next_message(), "未点名")
    await dispatcher.press(await dispatcher.next_message(), "媒体")
    await dispatcher.next_message()
    await dispatcher.send("晚报报道阳光花园供暖不足")
    await dispatcher.next_message()
    await dispatcher.send("1")
    summary = await dispatcher.next_message()
    assert "工单 0001" in summary.text
    await dispatcher.press(summary, "确认提交")
    assert "已登记" in (await dispatcher.next_message()).text
    told = await world.groups["repair-south"].next_message()
    assert "陈志强" in told.text and "媒体报道" in told.text and "工单 0001" in told.text


async def test_only_dispatch_keeps_the_register(bot: Application, world: World):
    crew = world.crew(5001)
    await crew.send("/register")
    assert "调度中心负责" in (await crew.next_message()).text
    north = world.groups["repair-north"]
    await world.crew(NORTH_LEAD).send("/register", chat=north)
    answer = await north.next_message()
    assert "调度中心负责" in answer.text and not answer.button_texts()
