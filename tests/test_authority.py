"""Presses and commands are authorised against who pressed, where, and on which message (Art. 5, 7, 10, 13).

Each test forges what a person could send: button data from the wrong chat or message, numbers
that are not numbers, resident buttons in a crew group. The real Application, emulator and SQLite
file; the sweeper is run by hand after the fake clock moves.
"""
from __future__ import annotations

import logging

import pytest

from bot import clockwork
from tgemu import Msg, User
from storage import deadlines
from tests import story
from tests.story import report_cold_flat


class Scene(story.Scene):
    async def scalar(self, sql: str, *params):
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def outbox_rows(self, chat_id: int) -> int:
        return await self.scalar("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", chat_id)


@pytest.fixture
async def scene(bot, tg, world) -> Scene:
    """Ticket 0001, 家中不热 in 和平苑, reported 09:00 and routed to the north repair centre."""
    return await story.cold_flat_scene(bot, tg, world, Scene)


async def private_message(user: User) -> Msg:
    """Any message of the bot's in the person's own private chat, to forge a press from."""
    await user.send("/help")
    return await user.next_message()


async def overdue_alert(scene: Scene, world, clock) -> tuple[int, Msg]:
    """09:31: the accept limit is passed; dispatch gets the escalation with its button."""
    clock.advance(minutes=31)
    await clockwork.sweep(scene.svc)
    alert = await scene.dispatch.next_message_where(lambda m: "超时告警" in m.text)
    return await scene.scalar("SELECT id FROM alerts WHERE kind = 'overdue'"), alert


# ------------------------------------------------------------------------ acknowledging an escalation


async def test_another_centres_lead_cannot_acknowledge_an_escalation_even_from_their_own_chat(scene, world, clock):
    alert_id, alert = await overdue_alert(scene, world, clock)
    south_lead = world.crew(5013)
    forged = await south_lead.press_data(await private_message(south_lead), f"a:{alert_id}")
    await scene.dispatch.add_member(south_lead)
    pressed = await south_lead.press(alert, "已知悉")
    assert "无法操作" in pressed.text and forged.text != (await world.crew(6001).press(alert, "已知悉")).text
    acked = await deadlines.get_alert(scene.svc.db.conn, alert_id)
    assert acked.ack_by == 6001                     # the dispatcher, not the other centre's lead
    assert [e.actor for e in await scene.events("acknowledged")] == ["孙丽"]


async def test_the_tickets_own_lead_acknowledges_from_the_escalation_they_were_sent(scene, world, clock):
    lead = world.crew(5003)
    await private_message(lead)
    alert_id, _ = await overdue_alert(scene, world, clock)
    told = await lead.next_message_where(lambda m: "超时" in m.text and "0001" in m.text)
    answer = await lead.press(told, "已知悉")
    assert "由您跟进" in answer.text
    assert (await deadlines.get_alert(scene.svc.db.conn, alert_id)).ack_by == 5003


async def test_an_alert_is_acknowledged_only_from_the_message_that_carries_it(scene, world, clock):
    alert_id, _ = await overdue_alert(scene, world, clock)
    dispatcher = world.crew(6001)
    answer = await dispatcher.press_data(await private_message(dispatcher), f"a:{alert_id}")
    assert "由您跟进" not in answer.text
    assert (await deadlines.get_alert(scene.svc.db.conn, alert_id)).ack_by is None
    assert await scene.events("acknowledged") == []


async def test_an_art_7_leadership_alert_cannot_be_taken_by_another_centres_lead(scene, world, clock):
    svc = scene.svc
    async with svc.db.transaction() as conn:        # as a press or mayor's-hotline ticket raises it (Art. 7)
        await clockwork.alert_wide_impact(conn, svc, 1, ["mayor_hotline"], clock.now())
    svc.wake_sender()
    leadership = world.groups["leadership"]
    alert = await leadership.next_message_where(lambda m: bool(m.button_texts()))
    alert_id = await scene.scalar("SELECT id FROM alerts WHERE kind = 'wide_impact'")
    south_lead = world.crew(5013)
    await south_lead.press_data(await private_message(south_lead), f"a:{alert_id}")
    assert (await deadlines.get_alert(svc.db.conn, alert_id)).ack_by is None
    assert "由您跟进" in (await world.crew(7001).press(alert, "已知悉")).text
    assert (await deadlines.get_alert(svc.db.conn, alert_id)).ack_by == 7001


# ------------------------------------------------------------------------ dispatch decisions (Art. 10 (1), 13)


async def ask(scene: Scene, crew: User, button: str, reply: str) -> Msg:
    await crew.press(scene.card, button)
    prompt = await scene.north.next_message_where(lambda m: "回复这条消息" in m.text)
    await crew.send(reply, chat=scene.north, reply_to=prompt)
    return await scene.dispatch.next_message_where(lambda m: bool(m.button_texts()))


async def test_a_decision_pressed_on_one_requests_message_cannot_decide_another(scene, world):
    crew, dispatcher = world.crew(5001), world.crew(6001)
    await crew.press(scene.card, "受理")
    scene.card = await scene.north.wait_edited(scene.card)
    delay_ask = await ask(scene, crew, "申请延时", "等待配件 11:30")          # request 1
    return_ask = await ask(scene, crew, "退单", "不是我们的管线")              # request 2
    answer = await dispatcher.press_data(delay_ask, "d:2:no")
    assert "失效" in answer.text
    assert await scene.scalar("SELECT COUNT(*) FROM requests WHERE status = 'pending'") == 2
    assert await scene.scalar("SELECT COUNT(*) FROM requests") == 2
    assert (await scene.dispatch.get(delay_ask.message_id)).button_texts() == delay_ask.button_texts()
    assert (await dispatcher.press(return_ask, "不同意退单")).text == "已驳回。"
    assert (await dispatcher.press(delay_ask, "批准延时")).text == "已批准。"


async def test_an_approved_delay_cannot_end_after_a_close_limit_brought_forward(bot, tg, world):
    resident = await tg.user("李四", language_code="zh")
    await report_cold_flat(resident, category="室温异常")    # general: closed within 24 h (Art. 13 limits (3))
    north, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    card = await north.next_message()
    scene = Scene(bot, resident, north, dispatch, card)
    crew, dispatcher = world.crew(5001), world.crew(6001)
    await crew.press(card, "受理")
    scene.card = await north.wait_edited(card)
    delay_ask = await ask(scene, crew, "申请延时", "等待配件 23:00")          # on site by 23:00: fine while closing tomorrow
    await dispatcher.send("/level 1 major", chat=dispatch)                # now major: closed by 21:00
    await dispatch.next_message_where(lambda m: "21:00" in m.text)
    answer = await dispatcher.press(delay_ask, "批准延时")
    assert "已批准" not in answer.text and "21:00" in answer.text
    onsite = await deadlines.get(scene.svc.db.conn, 1, "onsite")
    assert not onsite.delayed and onsite.due_at.astimezone(scene.svc.tz).strftime("%H:%M") == "10:00"
    assert await scene.events("delay_approved") == []
    assert await scene.scalar("SELECT status FROM requests WHERE id = 1") != "pending"   # the crew may ask again
    told = await north.next_message_where(lambda m: "作废" in m.text)          # the crew is told why, and may ask again
    assert "23:00" in told.text and "21:00" in told.text


# ------------------------------------------------------------------------ resident buttons in a crew group


@pytest.mark.parametrize("data", ["menu:my", "menu:report", "lang:en", "i:a1b2c3:confirm", "o:s:heping"],
                         ids=["my reports", "new report", "language", "intake step", "outage subscription"])
async def test_resident_buttons_pressed_in_a_group_act_on_nothing_and_say_where_they_work(scene, world, data):
    crew = world.crew(5001)
    before = await scene.outbox_rows(scene.north.id)
    answer = await crew.press_data(scene.card, data)
    assert "私聊" in answer.text and answer.show_alert
    assert await scene.outbox_rows(scene.north.id) == before       # no menu, no ticket list posted in the group
    assert await scene.scalar("SELECT COUNT(*) FROM drafts") == 0


async def test_a_resident_button_in_a_group_is_refused_in_the_pressers_language(scene, tg):
    visitor = await tg.user("Tom", language_code="en")
    await scene.north.add_member(visitor)
    answer = await visitor.press_data(scene.card, "menu:my")
    assert "private chat" in answer.text


# ------------------------------------------------------------------------ numbers that are not numbers


@pytest.mark.parametrize("number", ["²", "99999999999999999999999", "١", "0"],
                         ids=["superscript two", "beyond 64 bits", "arabic-indic one", "zero"])
async def test_a_ticket_number_that_is_not_one_is_answered_no_such_ticket(scene, world, caplog, number):
    lead = world.crew(5003)
    with caplog.at_level(logging.ERROR):
        await lead.send(f"/ticket {number}", chat=scene.north)
        assert "没有找到工单" in (await scene.north.next_message()).text
        await world.crew(6001).send(f"/level {number} major", chat=scene.dispatch)
        assert "没有找到工单" in (await scene.dispatch.next_message()).text
        await world.crew(6001).send(f"/category {number} other", chat=scene.dispatch)
        assert "没有找到工单" in (await scene.dispatch.next_message()).text
        answer = await world.crew(5001).press_data(scene.card, f"t:{number}:accept")
        assert "没有这张工单" in answer.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_card_request_for_a_ticket_beyond_64_bits_is_answered_no_such_ticket(scene, world, caplog):
    with caplog.at_level(logging.ERROR):
        answer = await world.crew(5001).press_data(scene.card, "w:99999999999999999999999:delay")
    assert "没有这张工单" in answer.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
