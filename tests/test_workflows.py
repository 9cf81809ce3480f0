"""Report delay, Return (退单) and Needs coordination (issue 4 items 5–7, Art. 5–6, 12–13).

The real Application against the emulator, a real SQLite file and the fake clock; the sweeper
is run by hand after the clock moves, never waited for.
"""
from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import clockwork as bot_clockwork
from tgemu import Msg, User
from bot.texts import Texts
from storage import deadlines
from tests import story

# The story's ticket: reported 09:00 (Shanghai), "home not warm" is major (Art. 13 urgent (4)):
# accept by 09:30 (Art. 12), on site by 10:00 (limits (1)), closed by 21:00 (limits (3)).


class Scene(story.Scene):
    async def alerts(self, kind: str) -> int:
        async with self.conn.execute("SELECT COUNT(*) FROM alerts WHERE ticket_id = 1 AND kind = ?", (kind,)) as cur:
            return (await cur.fetchone())[0]

    async def requests(self) -> list[tuple[str, str]]:
        async with self.conn.execute("SELECT kind, status FROM requests ORDER BY id") as cur:
            return [tuple(r) for r in await cur.fetchall()]


@pytest.fixture
async def scene(bot, tg, world) -> Scene:
    return await story.cold_flat_scene(bot, tg, world, Scene)


async def ask_delay(scene: Scene, crew: User, reply: str) -> Msg:
    """Press 申请延时, answer the prompt; return the decision message dispatch receives."""
    answer = await crew.press(scene.card, "申请延时")
    assert answer.text == "请在群里回复机器人的提示消息。"
    prompt = await scene.north.next_message()
    assert "回复这条消息" in prompt.text and "延时原因和新的时间" in prompt.text
    await crew.send(reply, chat=scene.north, reply_to=prompt)
    assert "已报调度中心审批" in (await scene.north.next_message()).text
    return await scene.dispatch.next_message()


async def ask_return(scene: Scene, crew: User, reason: str) -> Msg:
    await crew.press(scene.card, "退单")
    prompt = await scene.north.next_message()
    assert "退单原因" in prompt.text
    await crew.send(reason, chat=scene.north, reply_to=prompt)
    assert "退单申请已报调度中心" in (await scene.north.next_message()).text
    return await scene.dispatch.next_message()


# ------------------------------------------------------------------------ delay (Art. 13)


async def test_an_approved_delay_moves_the_limit_and_no_escalation_fires_at_the_old_time(scene, world, clock):
    crew, dispatcher = world.crew(5001), world.crew(6001)
    await scene.step(crew, "受理")
    ask = await ask_delay(scene, crew, "等待配件 11:30")
    assert "延时申请" in ask.text and "10:00" in ask.text and "11:30" in ask.text and "等待配件" in ask.text
    assert ask.button_texts() == ["✅ 批准延时", "❌ 不批准"]

    assert (await dispatcher.press(ask, "批准延时")).text == "已批准。"
    assert (await dispatcher.press(ask, "批准延时")).text == "孙丽 已经处理过了（已同意）。"   # twice: one decision
    told = await scene.north.next_message()
    assert "已批准" in told.text and "11:30" in told.text
    assert "11:30" in (await scene.resident.next_message()).text   # the resident hears the new on-site time
    onsite = await deadlines.get(scene.svc.db.conn, 1, "onsite")
    assert onsite.delayed and onsite.due_at.astimezone(scene.svc.tz).strftime("%H:%M") == "11:30"
    assert len(await scene.events("delay_approved")) == 1

    clock.advance(minutes=65)                                      # 10:05, past the old limit
    await bot_clockwork.sweep(scene.svc)
    assert await scene.alerts("overdue") == 0
    await scene.step(crew, "已到场")                                # 10:05, before 11:30: on time
    onsite = await deadlines.get(scene.svc.db.conn, 1, "onsite")
    assert onsite.state == "met" and onsite.late is False


async def test_a_rejected_delay_keeps_the_clock_and_the_escalation_fires(scene, world, clock):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    ask = await ask_delay(scene, crew, "等待配件 11:30")
    assert (await world.crew(6002).press(ask, "不批准")).text == "已驳回。"
    assert "未批准" in (await scene.north.next_message()).text
    assert "马静 未批准延时" in (await scene.dispatch.next_message()).text
    clock.advance(minutes=61)                                      # 10:01
    await bot_clockwork.sweep(scene.svc)
    assert await scene.alerts("overdue") == 1
    assert "超时告警" in (await scene.dispatch.next_message(timeout=10)).text
    assert not (await deadlines.get(scene.svc.db.conn, 1, "onsite")).delayed


async def test_two_dispatchers_approving_at_once_make_one_decision(scene, world):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    ask = await ask_delay(scene, crew, "等待配件 11:30")
    answers = await asyncio.gather(world.crew(6001).press(ask, "批准延时"), world.crew(6002).press(ask, "不批准"))
    texts = sorted(a.text for a in answers)
    assert len([t for t in texts if t in ("已批准。", "已驳回。")]) == 1
    assert len([t for t in texts if "已经处理过了" in t]) == 1
    assert len(await scene.events("delay_approved")) + len(await scene.events("delay_rejected")) == 1


async def test_a_delay_asked_after_the_limit_passed_is_refused(scene, world, clock):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    clock.advance(minutes=61)                                      # on-site limit 10:00 has passed
    answer = await crew.press(scene.card, "申请延时")
    assert "已过" in answer.text and "不能再申请延时" in answer.text and answer.show_alert
    assert await scene.requests() == []


async def test_a_delay_reply_that_arrives_after_the_limit_is_refused(scene, world, clock):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    await crew.press(scene.card, "申请延时")
    prompt = await scene.north.next_message()
    clock.advance(minutes=61)
    await crew.send("等待配件 11:30", chat=scene.north, reply_to=prompt)
    assert "已过，不能再申请延时" in (await scene.north.next_message()).text
    assert await scene.requests() == [("delay", "cancelled")]


async def test_bad_delay_replies_get_a_clear_answer_and_the_prompt_stays_open(scene, world):
    crew, mate = world.crew(5001), world.crew(5002)
    await scene.step(crew, "受理")
    await crew.press(scene.card, "申请延时")
    prompt = await scene.north.next_message()
    cases = [
        (crew, "等待配件 08:00", "必须晚于现在和原到场时限"),          # before now
        (crew, "等待配件 明天 09:00", "不能晚于 1月15日 21:00"),      # beyond the close limit
        (crew, "等待配件", "没看懂新的时间"),
        (crew, "11:30", "请写明延时原因"),
        (mate, "等待配件 11:30", "这条提示是给 王师傅 的"),           # only the requester (or dispatch)
    ]
    for who, text, expected in cases:
        await who.send(text, chat=scene.north, reply_to=prompt)
        assert expected in (await scene.north.next_message()).text, text
    assert await scene.requests() == [("delay", "awaiting_reply")]
    await crew.send("等待配件 11:30", chat=scene.north, reply_to=prompt)
    assert "已报调度中心审批" in (await scene.north.next_message()).text
    await crew.send("等待配件 11:45", chat=scene.north, reply_to=prompt)   # the same prompt, answered again
    assert "已经处理过或已失效" in (await scene.north.next_message()).text


async def test_delay_and_return_pressed_by_a_stranger_or_another_centres_crew_are_refused(scene, tg, world):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    stranger = await tg.user("路人", language_code="zh")
    south_crew = world.crew(5011)
    for person in (stranger, south_crew):
        await scene.north.add_member(person)
        for button in ("申请延时", "退单"):
            answer = await person.press(scene.card, button)
            assert answer.show_alert and "无法操作" in answer.text
    assert await scene.requests() == []


async def test_a_forged_decision_outside_dispatch_is_refused(scene, world):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    await ask_delay(scene, crew, "等待配件 11:30")
    answer = await crew.press_data(scene.card, "d:1:ok")
    assert answer.text == "只有调度人员或部门负责人可以在调度群里审批。"
    assert await scene.requests() == [("delay", "pending")]


# ------------------------------------------------------------------------ return (Art. 5–6)


async def test_return_and_accept_in_the_same_second_leave_one_owner_and_a_transfer_gives_a_fresh_card(scene, world, clock):
    crew, mate = world.crew(5001), world.crew(5002)
    answers = await asyncio.gather(crew.press(scene.card, "退单"), mate.press(scene.card, "受理"))
    assert answers[0].text == "请在群里回复机器人的提示消息。" and "已受理" in answers[1].text
    ticket = await scene.ticket()
    assert (ticket.status, ticket.centre_id) == ("accepted", "repair-north")
    prompt = await scene.north.next_message()
    await scene.resident.next_message()                              # "accepted"
    clock.advance(minutes=5)                                         # 09:05
    await crew.send("这是小区公共管道的问题，应由南区负责", chat=scene.north, reply_to=prompt)
    assert "退单申请已报调度中心" in (await scene.north.next_message()).text
    ask = await scene.dispatch.next_message()
    assert "退单申请" in ask.text and "小区公共管道" in ask.text
    assert ask.button_texts()[0] == "➡️ 转至南区维修服务中心"          # the category's kind first
    assert "🚫 不属于服务范围，结单" in ask.button_texts() and "北区维修服务中心" not in " ".join(ask.button_texts())

    assert (await world.crew(6001).press(ask, "转至南区")).text == "已转至 南区维修服务中心。"
    south = world.groups["repair-south"]
    new_card = await south.next_message()
    assert "工单 0001" in new_card.text and new_card.button_texts()[0] == "✅ 受理" and "09:35" in new_card.text
    assert "由北区维修服务中心退回" in (await south.next_message()).text
    old = await scene.north.get(scene.card.message_id)
    while "转至" not in old.text:                                     # the old card becomes the notice
        old = await scene.north.wait_edited(old)
    assert "已经调度中心（孙丽）转至 南区维修服务中心" in old.text and old.buttons == []
    assert "南区维修服务中心" in (await scene.resident.next_message()).text

    ticket = await scene.ticket()
    assert (ticket.status, ticket.centre_id, ticket.card_chat_id) == ("new", "repair-south", south.chat_id)
    accept = await deadlines.get(scene.svc.db.conn, 1, "accept")
    assert accept.state == "open" and accept.due_at.astimezone(scene.svc.tz).strftime("%H:%M") == "09:35"
    [transfer] = await scene.events("transferred")
    assert (transfer.detail["from"], transfer.detail["to"], transfer.actor) == ("repair-north", "repair-south", "孙丽")
    # The old card no longer moves the ticket; the new centre's crew does.
    assert "无法操作" in (await crew.press_data(scene.card, "t:1:arrive")).text
    assert "已受理" in (await world.crew(5011).press(new_card, "受理")).text


async def test_a_transfer_racing_an_accept_on_the_old_card_leaves_the_new_centre_the_only_owner(scene, world):
    ask = await ask_return(scene, world.crew(5001), "不是我们的设备")
    await asyncio.gather(world.crew(6001).press(ask, "转至南区"), world.crew(5002).press(scene.card, "受理"))
    ticket = await scene.ticket()
    assert (ticket.status, ticket.centre_id, ticket.accepted_by) == ("new", "repair-south", None)
    assert (await deadlines.get(scene.svc.db.conn, 1, "accept")).state == "open"
    assert "✅ 受理" in (await world.groups["repair-south"].next_message()).button_texts()


async def test_a_rejected_return_keeps_the_ticket_and_its_clock(scene, world, clock):
    crew = world.crew(5001)
    ask = await ask_return(scene, crew, "不是我们的设备")
    assert (await world.crew(7001).press(ask, "不同意退单")).text == "已驳回。"    # the department head may decide
    assert "不同意工单" in (await scene.north.next_message()).text
    ticket = await scene.ticket()
    assert (ticket.status, ticket.centre_id) == ("new", "repair-north")
    assert (await deadlines.get(scene.svc.db.conn, 1, "accept")).state == "open"
    assert "已经处理过了（未同意）" in (await world.crew(6001).press(ask, "转至南区")).text


async def test_out_of_scope_closes_the_ticket_and_the_explanation_reaches_the_resident(scene, world):
    crew, dispatcher = world.crew(5001), world.crew(6001)
    ask = await ask_return(scene, crew, "住户自装的地暖，不属于供热设施")
    assert (await dispatcher.press(ask, "不属于服务范围")).text.startswith("请在调度群回复提示消息")
    prompt = await scene.dispatch.next_message()
    assert "写给报修人的说明" in prompt.text
    await world.crew(5001).send("随便", chat=scene.north, reply_to=scene.card)   # a note on an open card is not a prompt answer
    assert "还没有处理完成" in (await scene.north.next_message()).text
    await dispatcher.send("自装地暖请联系安装单位维修，如需帮助可拨打热线。", chat=scene.dispatch, reply_to=prompt)
    told = await scene.resident.next_message()
    assert "不属于供热公司的服务范围" in told.text and "自装地暖请联系安装单位" in told.text
    card = await scene.north.wait_edited(scene.card)
    assert "已完成" in card.text and card.button_texts() == []
    ticket = await scene.ticket()
    assert (ticket.status, ticket.outcome) == ("closed", "out_of_scope")
    assert all(d.state != "open" for d in await deadlines.for_ticket(scene.svc.db.conn, 1))
    assert len(await scene.events("closed_out_of_scope")) == 1


# ------------------------------------------------------------------------ coordination (Art. 13 limits (4))


async def test_coordination_starts_the_report_clock_reminds_and_a_reply_meets_it(scene, world, clock):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    assert "到场后才能" in (await crew.press_data(scene.card, "w:1:coord")).text
    await scene.step(crew, "已到场")
    answer = await crew.press(scene.card, "需长时间协调")
    assert "17:00" in answer.text                                   # 09:00 + 8 h
    prompt = await scene.north.next_message()
    assert "书面报告" in prompt.text and "回复这条消息" in prompt.text
    assert "需与报修人长时间协调" in (await scene.dispatch.next_message()).text
    assert "正在计时" in (await crew.press(await scene.north.get(scene.card.message_id), "需长时间协调")).text

    clock.advance(hours=7)                                          # 16:00 = due − 60 min
    await bot_clockwork.sweep(scene.svc)
    reminder = await scene.north.next_message(timeout=10)
    assert "书面报告时限" in reminder.text and await scene.alerts("reminder") == 1

    await crew.send("住户家中管道需改造，已与物业约定明天 10:00 现场协调。", chat=scene.north, reply_to=prompt)
    assert "书面报告已提交调度中心" in (await scene.north.next_message()).text
    report = await scene.dispatch.next_message()
    assert "书面报告" in report.text and "明天 10:00 现场协调" in report.text
    met = await deadlines.get(scene.svc.db.conn, 1, "report")
    assert met.state == "met" and met.late is False
    [event] = await scene.events("report_submitted")
    assert "物业" in event.detail["report"]


async def test_the_prompts_own_example_is_a_valid_answer(scene, world):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    await crew.press(scene.card, "申请延时")
    prompt = await scene.north.next_message()
    example = next(line for line in prompt.text.splitlines() if line.startswith("等待配件"))
    assert example == "等待配件 11:00"                                # on-site limit 10:00 + 1 h
    await crew.send(example, chat=scene.north, reply_to=prompt)
    assert "已报调度中心审批" in (await scene.north.next_message()).text


async def test_an_english_speaker_gets_english_answers(scene, tg, world):
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    visitor = await tg.user("Sam", language_code="en")
    await scene.north.add_member(visitor)
    assert (await visitor.press(scene.card, "申请延时")).text == "Only the centre handling this ticket can do that."
    await crew.press(scene.card, "申请延时")
    prompt = await scene.north.next_message()
    await visitor.send("parts 11:30", chat=scene.north, reply_to=prompt)
    assert "This prompt is for 王师傅" in (await scene.north.next_message()).text
    assert (await visitor.press_data(scene.card, "d:1:ok")).text.startswith("Only a dispatcher")


WORKFLOW_TEXTS = {
    "delay_prompt": dict(uid=1, name="王", number="0001", limit="到场", due=None, example_day="tomorrow", example_time="09:00"),
    "return_prompt": dict(uid=1, name="王", number="0001"),
    "report_prompt": dict(uid=1, name="王", number="0001", due=None),
    "report_started": dict(number="0001", name="王", centre="北区", due=None),
    "prompt_gone": dict(number="0001"),
    "reply_dispatch_only": dict(number="0001"),
    "reply_not_yours": dict(number="0001", requester="王"),
    "reply_empty": dict(number="0001"),
    "ticket_closed": dict(number="0001"),
    "delay_limit_gone": dict(number="0001", limit="到场"),
    **{f"delay_refused.{code}": dict(number="0001", code=code, limit="到场", due=None, ceiling=None)
       for code in ("passed", "before_now", "beyond_close", "no_reason", "bad_time")},
    "no_dispatch": dict(number="0001"),
    "delay_ask": dict(number="0001", centre="北区", name="王", limit="到场", due=None, new_due=None, reason="r", category="c", place="p"),
    "delay_sent": dict(number="0001", limit="到场", new_due=None),
    "return_ask": dict(number="0001", centre="北区", name="王", reason="r", category="c", status="s", place="p"),
    "return_sent": dict(number="0001"),
    "report_received": dict(number="0001", name="王", report="r", late=True, centre="北区"),
    "report_saved": dict(number="0001", late=True),
    "delay_approved": dict(number="0001", by="孙", limit="到场", new_due=None),
    "delay_rejected": dict(number="0001", by="孙", limit="到场", due=None),
    "decided": dict(number="0001", by="孙", what="w"),
    "return_rejected": dict(number="0001", by="孙"),
    "transferred_in": dict(number="0001", from_centre="北区", by="孙", reason="r", accept_by=None),
    "transferred_out": dict(number="0001", to_centre="南区", by="孙"),
    "explain_prompt": dict(uid=1, name="孙", number="0001", reason="r"),
    "closed_out_of_scope": dict(number="0001", by="孙", explanation="e"),
    "resident_new_onsite": dict(number="0001", new_due=None),
    "resident_transferred": dict(number="0001", centre="南区"),
    "resident_out_of_scope": dict(number="0001", explanation="e"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(WORKFLOW_TEXTS), ids=list(WORKFLOW_TEXTS))
def test_every_workflow_text_renders_and_a_chinese_resident_reads_no_english(lang, name):
    texts = Texts(ZoneInfo("Asia/Shanghai"))
    ctx = {k: (datetime(2026, 1, 15, 2, 0, tzinfo=UTC) if v is None else v) for k, v in WORKFLOW_TEXTS[name].items()}
    text = texts.render(lang, "workflow." + name.split(".")[0], **ctx)
    assert text.strip()
    if lang == "zh" and name.startswith("resident_"):
        assert not re.search(r"[A-Za-z]{2,}", re.sub(r"<[^>]+>", "", text)), text


async def test_after_a_transfer_the_old_card_loses_its_buttons_and_the_residents_contact(bot, tg, world):
    from tests.story import report_cold_flat as report

    resident = await tg.user("钱七", language_code="zh")
    await report(resident)
    north, dispatch = world.groups["repair-north"], world.groups["dispatch"]
    card = await north.next_message()
    await world.crew(5001).press(card, "退单")
    prompt = await north.next_message()
    await world.crew(5001).send("这户属于南区", chat=north, reply_to=prompt)
    decision = await dispatch.next_message_where(lambda m: bool(m.buttons))
    await world.crew(6001).press(decision, "南区维修服务中心")
    old = await north.wait_edited(card)
    assert old.buttons == [] and "13912345678" not in old.text and "南区维修服务中心" in old.text
    settled = await dispatch.wait_edited(decision)
    assert settled.buttons == [] and "已处理：" in settled.text
    again = await world.crew(6002).press_data(settled, decision.button("南区维修服务中心").callback_data)
    assert "已经处理过了" in again.text                     # a settled question is not decided twice
