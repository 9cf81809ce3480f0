"""Repeat faults (Art. 23), repeated complaints (Art. 24) and a building's reports at once.

The real Application against the emulator, a real SQLite file and the fake clock.
"""
from __future__ import annotations

import pytest

from rules.followup import building_key, chinese_number, flat_key
from storage import tickets
from tests.story import report_cold_flat


async def count_tickets(bot) -> int:
    async with bot.bot_data["svc"].db.conn.execute("SELECT COUNT(*) FROM tickets") as cur:
        return (await cur.fetchone())[0]


async def kinds(bot, number: int) -> list[str]:
    return [e.kind for e in await tickets.list_events(bot.bot_data["svc"].db.conn, number)]


@pytest.mark.parametrize("address, flat, building", [
    ("3-2-501", "3-2-501", "3"),
    ("3号楼2单元501", "3-2-501", "3"),
    ("３－２－５０１", "3-2-501", "3"),
    ("三号楼二单元501室", "3-2-501", "3"),
    ("十二栋3单元0402", "12-3-402", "12"),
    ("九十九号楼501", "99-501", "99"),
    ("a-1-101", "A-1-101", "A"),
    ("501", None, None),
])
def test_an_address_names_one_flat_however_it_is_typed(address, flat, building):
    assert (flat_key(address), building_key(address)) == (flat, building)


@pytest.mark.parametrize("text, value", [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("九十九", 99), ("两", 2),
                                         ("一百", None), ("十十", None), ("三三", None), ("", None)])
def test_chinese_numerals_are_read_up_to_ninety_nine(text, value):
    assert chinese_number(text) == value


async def test_a_second_report_for_a_flat_with_an_open_ticket_is_a_complaint_not_a_new_card(bot, tg, world):
    north = world.groups["repair-north"]
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    card = await north.next_message()
    neighbour = await tg.user("张三的儿子", language_code="zh")
    told = await report_cold_flat(neighbour, address="３号楼２单元５０１")
    assert "您的报修 0001 正在处理中" in told.text and "待受理" in told.text
    assert await count_tickets(bot) == 1
    card = await north.wait_edited(card)
    assert "又反映了 1 次" in card.text
    assert (await tickets.get_ticket(bot.bot_data["svc"].db.conn, 1)).complaints == 1
    assert "complaint" in await kinds(bot, 1)
    assert [m for m in await north.transcript() if m.text.startswith("🔴")] == [card]


async def test_a_second_complaint_about_an_open_ticket_flags_it_to_dispatch(bot, tg, world):
    dispatch = world.groups["dispatch"]
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    await report_cold_flat(await tg.user("李四", language_code="zh"))
    assert not [m for m in await dispatch.transcript() if "重复投诉" in m.text]
    told = await report_cold_flat(await tg.user("王五", language_code="zh"))
    assert "调度中心督办" in told.text
    flag = await dispatch.next_message_where(lambda m: "重复投诉" in m.text)
    assert "工单 0001" in flag.text and "第 3 次" in flag.text


async def test_a_repeat_report_while_the_first_is_being_returned_to_dispatch_is_recorded_on_it(bot, tg, world):
    north, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    card = await north.next_message()
    crew = world.crew(5001)
    await crew.press(card, "受理")
    card = await north.wait_edited(card)
    await crew.press(card, "退单")
    prompt = await north.next_message_where(lambda m: "退单原因" in m.text)
    await crew.send("是管网问题", chat=north, reply_to=prompt)
    await dispatch.next_message_where(lambda m: "退单" in m.text)
    told = await report_cold_flat(await tg.user("张三的儿子", language_code="zh"))
    assert "0001 正在处理中" in told.text
    assert await count_tickets(bot) == 1 and "complaint" in await kinds(bot, 1)


async def close(world, group, card):
    crew = world.crew(5001)
    for button in ("受理", "已到场", "处理完成"):
        await crew.press(card, button)
        card = await group.wait_edited(card)
    return card


async def test_a_report_within_thirty_days_of_a_closed_one_is_marked_as_a_repeat_fault_and_counted(bot, tg, world, clock):
    north = world.groups["repair-north"]
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    await close(world, north, await north.next_message())
    clock.advance(days=29)
    await report_cold_flat(await tg.user("张三的儿子", language_code="zh"))
    card = await north.next_message_where(lambda m: "工单 0002" in m.text)
    assert "重复报修：0001 于 1月15日" in card.text
    repeat = [e for e in await tickets.list_events(bot.bot_data["svc"].db.conn, 2) if e.kind == "repeat_fault"]
    assert repeat[0].detail == {"of": 1, "centre": "repair-north"}


async def test_a_report_after_the_repeat_window_is_a_plain_new_ticket(bot, tg, world, clock):
    north = world.groups["repair-north"]
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    await close(world, north, await north.next_message())
    clock.advance(days=31)
    await report_cold_flat(await tg.user("张三的儿子", language_code="zh"))
    card = await north.next_message_where(lambda m: "工单 0002" in m.text)
    assert "重复报修" not in card.text and "repeat_fault" not in await kinds(bot, 2)


async def test_another_flat_of_the_same_building_is_not_a_repeat_of_a_home_not_warm(bot, tg, world):
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    told = await report_cold_flat(await tg.user("邻居", language_code="zh"), address="3-2-502")
    assert "报修已提交" in told.text and await count_tickets(bot) == 2


async def test_three_not_warm_reports_from_one_building_within_an_hour_raise_one_building_alert(bot, tg, world, clock):
    dispatch, station = world.groups["dispatch"], world.groups["network-station"]
    for i, flat in enumerate(("3-2-501", "3-1-101", "3-3-302", "3-4-402")):
        await report_cold_flat(await tg.user(f"住户{i}", language_code="zh"), address=flat)
        clock.advance(minutes=20)
    alert = await dispatch.next_message_where(lambda m: "整栋楼" in m.text)
    assert "3号楼" in alert.text and "0001、0002、0003" in alert.text
    assert "整栋楼" in (await station.next_message_where(lambda m: "整栋楼" in m.text)).text
    assert len([m for m in await dispatch.transcript() if "整栋楼" in m.text]) == 1


async def test_reports_from_one_building_spread_over_more_than_an_hour_raise_no_alert(bot, tg, world, clock):
    for i, flat in enumerate(("3-2-501", "3-1-101", "3-3-302")):
        await report_cold_flat(await tg.user(f"住户{i}", language_code="zh"), address=flat)
        clock.advance(minutes=31)
    assert not [m for m in await world.groups["dispatch"].transcript() if "整栋楼" in m.text]
