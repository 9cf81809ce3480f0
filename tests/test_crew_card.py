"""Who may press a crew card, and what a press may change (issue 3, Art. 5, 10, 12–13)."""
from __future__ import annotations

import pytest

from tests.story import report_cold_flat, report_to_address


@pytest.fixture
async def card(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    return await world.groups["repair-north"].next_message()


async def test_a_stranger_pressing_accept_is_refused_and_nothing_changes(tg, world, card):
    group = world.groups["repair-north"]
    stranger = await tg.user("路人", language_code="zh")
    await group.add_member(stranger)
    answer = await stranger.press(card, "受理")
    assert answer.show_alert and "无法操作" in answer.text
    assert (await group.get(card.message_id)).version == card.version


async def test_crew_of_another_centre_is_refused(world, card):
    group = world.groups["repair-north"]
    south_crew = world.crew(5011)
    await group.add_member(south_crew)
    answer = await south_crew.press(card, "受理")
    assert "无法操作" in answer.text
    assert (await group.get(card.message_id)).button_texts()[0] == "✅ 受理"


async def test_a_dispatcher_may_press_any_card(world, card):
    group = world.groups["repair-north"]
    dispatcher = world.crew(6001)
    await group.add_member(dispatcher)
    answer = await dispatcher.press(card, "受理")
    assert "已受理" in answer.text


async def test_a_second_press_from_a_phone_still_showing_the_old_card_changes_nothing(world, card):
    group = world.groups["repair-north"]
    crew, mate = world.crew(5001), world.crew(5002)
    await crew.press(card, "受理")
    await group.wait_edited(card)
    # The mate's phone had not yet redrawn the card: their press carries the old button's data.
    answer = await mate.press_data(card, card.button("受理").callback_data)
    assert answer.text == "这一步已经完成了，不用再按。"
    assert (await ledger_kinds(world)).count("受理（") == 1


async def test_done_before_arrived_is_refused(world, card):
    group = world.groups["repair-north"]
    await world.crew(5001).press(card, "受理")
    card = await group.wait_edited(card)
    answer = await world.crew(5001).press_data(card, "t:1:close")
    assert answer.text == "请按顺序操作：先受理，再到场，最后处理完成。"
    assert (await group.get(card.message_id)).button_texts()[0] == "📍 已到场"


@pytest.mark.parametrize(
    "data", ["t:999:accept", "t:1:explode", "t:abc:accept", "zz:1", "t:1:accept:extra"],
    ids=["unknown-ticket", "unknown-action", "not-a-number", "unknown-prefix", "extra-part"],
)
async def test_a_forged_button_is_refused_with_an_alert(world, card, data):
    answer = await world.crew(5001).press_data(card, data)
    assert answer.text and answer.show_alert
    assert (await world.groups["repair-north"].get(card.message_id)).version == card.version


async def test_a_card_button_pressed_on_another_message_is_refused(tg, world, card):
    # The callback names ticket 1 but the press comes from a different message: the database,
    # not the callback data, decides which card is live.
    group = world.groups["repair-north"]
    await world.crew(5003).send("/ticket 1", chat=group)
    other = await group.next_message()
    answer = await world.crew(5001).press_data(other, "t:1:accept")
    assert answer.text == "这个按钮已失效，请看最新的消息。"


async def ledger_kinds(world) -> str:
    group = world.groups["repair-north"]
    await world.crew(5003).send("/ticket 0001", chat=group)
    return (await group.next_message()).text


async def test_the_card_shows_the_residents_contact_only_where_it_may(tg, world, card):
    # The holding centre's group: yes. Another centre's group: no (only the assigned centre
    # and dispatch see a resident's contact).
    north, south = world.groups["repair-north"], world.groups["repair-south"]
    await world.crew(5003).send("/ticket 1", chat=north)
    assert "13912345678" in (await north.next_message()).text
    await world.crew(5013).send("/ticket 1", chat=south)
    elsewhere = await south.next_message()
    assert "工单 0001" in elsewhere.text and "13912345678" not in elsewhere.text


async def test_ticket_command_is_for_staff_only(tg, card):
    resident = await tg.user("好奇的人", language_code="zh")
    await resident.send("/ticket 1")
    assert "只供工作人员使用" in (await resident.next_message()).text


async def test_the_ledger_records_each_step_with_actor(world, card):
    group = world.groups["repair-north"]
    crew = world.crew(5001)
    for step in ("受理", "已到场", "处理完成"):
        await crew.press(card, step)
        card = await group.wait_edited(card)
    await world.crew(5003).send("/ticket 0001", chat=group)
    history = (await group.next_message()).text
    for kind in ("报修受理登记", "派至服务中心", "受理（王师傅）", "到场（王师傅）", "处理完成（王师傅）"):
        assert kind in history


async def test_no_note_button_closes_the_note_prompt(world, card):
    group = world.groups["repair-north"]
    crew = world.crew(5001)
    for step in ("受理", "已到场", "处理完成"):
        await crew.press(card, step)
        card = await group.wait_edited(card)
    assert card.button_texts() == ["不填写说明"]
    await crew.press(card, "不填写说明")
    card = await group.wait_edited(card)
    assert card.button_texts() == [] and "请回复这条消息" not in card.text


async def test_a_reply_to_the_card_before_done_does_not_become_the_note(world, card):
    group = world.groups["repair-north"]
    await world.crew(5001).send("马上到", chat=group, reply_to=card)
    assert "还没有处理完成" in (await group.next_message()).text


async def test_a_ticket_that_cannot_be_routed_goes_to_dispatch_with_the_reason(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    # 建设小区 has no network centre: a burst there cannot be routed automatically (Art. 5).
    receipt = await report_cold_flat(resident, category="管网爆管", community="建设", pick="建设小区", temperature=None)
    assert "调度中心正在为您安排" in receipt.text and "40" not in receipt.text.split("到达")[0][-3:]
    card = await world.groups["dispatch"].next_message()
    assert "该小区没有对应的服务中心" in card.text and card.button_texts()[0] == "✅ 受理"
    assert "09:40" in card.text          # on site within 40 min for a network burst (Art. 13 limits (2))


async def test_a_resident_who_blocked_the_bot_is_flagged_to_dispatch(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    await resident.block()
    await world.crew(5001).press(card, "受理")
    alert = await world.groups["dispatch"].next_message()
    assert "请电话联系报修人" in alert.text and "0001" in alert.text and "13912345678" in alert.text
    await world.groups["repair-north"].wait_edited(card)         # the ticket itself moves on


async def test_a_photo_reaches_the_card_as_a_reply(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_to_address(resident, category="户内或楼内漏水", community="幸福", pick="幸福里")
    await resident.send("1-1-101")
    await resident.next_message()
    await resident.send("13912345678")
    await resident.next_message()
    await resident.next_message()
    await resident.send_photo(b"\xff\xd8\xff\xe0fake-jpeg-bytes")
    summary = await resident.next_message()               # photo and description: one step
    assert "照片：已附" in summary.text
    await resident.press(summary, "确认提交")
    group = world.groups["repair-north"]
    card = await group.next_message()
    photo = await group.next_message()
    assert photo.has_photo and photo.reply_to_message_id == card.message_id and "0001" in photo.caption


async def test_dispatch_assigns_an_unroutable_ticket_to_a_centre(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident, category="管网爆管", community="建设", pick="建设小区", temperature=None)
    dispatch = world.groups["dispatch"]
    card = await dispatch.next_message()
    assert card.button_texts() == ["✅ 受理", "📌 指派服务中心"]
    await dispatch.add_member(world.crew(5001))
    assert "无法操作" in (await world.crew(5001).press_data(card, "w:1:assign")).text
    await world.crew(6001).press(card, "指派服务中心")
    decision = await dispatch.next_message()
    while "管网管理站" not in " ".join(decision.button_texts()):
        decision = await dispatch.next_message()
    assert decision.button_texts()[0].endswith("管网管理站")     # the category's centre kind first
    await world.crew(6002).press(decision, "管网管理站")
    station_card = await world.groups["network-station"].next_message()
    assert "工单 0001" in station_card.text and station_card.button_texts()[0] == "✅ 受理"
    await world.crew(5021).press(station_card, "受理")
    assert "已受理" in (await world.groups["network-station"].wait_edited(station_card)).text
