"""Closing the loop with the resident (Art. 8): "is it warm now?" at Done, a rating and a
comment, "not solved" reopening the ticket, and dispatch's phone follow-up list.

The real Application against the emulator, a real SQLite file and the fake clock; the sweeper
is run by hand after the clock moves, never waited for.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot import followup
from storage import deadlines, followups, tickets
from tgemu import Msg, User
from tests import story
from tests.story import report_to_address


class Scene(story.Scene):
    async def finish(self, crew: User) -> Msg:
        """Arrived and Done on the live card; returns the follow-up question."""
        await self.step(crew, "已到场")
        return await self.step(crew, "处理完成")


@pytest.fixture
async def scene(bot, tg, world) -> Scene:
    s = await story.cold_flat_scene(bot, tg, world, Scene)
    await s.step(world.crew(5001), "受理")
    return s


async def test_done_asks_the_resident_at_once_whether_the_home_is_warm_with_two_buttons(scene, world):
    question = await scene.finish(world.crew(5001))
    assert "工单 0001 已完成" in question.text and "暖和了吗" in question.text
    assert question.button_texts() == ["👍 解决了", "👎 还没解决"]
    assert "followup_asked" in await scene.kinds()


async def test_solved_then_a_rating_and_a_comment_land_in_the_ledger_with_who_and_when(scene, world, clock):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👍 解决了")
    rating = await scene.resident.next_message()
    assert "打个分" in rating.text and "5⭐" in rating.button_texts()
    await scene.resident.press(rating, "4⭐")
    comment = await scene.resident.next_message()
    assert "⭐⭐⭐⭐" in comment.text
    await scene.resident.send("师傅很负责")
    thanks = await scene.resident.next_message()
    assert "谢谢" in thanks.text
    fu = await followups.get(scene.conn, 1)
    assert (fu.state, fu.solved, fu.rating, fu.comment) == ("done", True, 4, "师傅很负责")
    events = {e.kind: e for e in await tickets.list_events(scene.conn, 1)}
    for kind in ("followup_solved", "followup_rating", "followup_comment"):
        assert events[kind].actor_id == scene.resident.id and events[kind].at == clock.now()
    assert events["followup_rating"].detail["rating"] == 4


async def test_a_rating_pressed_twice_is_answered_and_counted_once(scene, world):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👍 解决了")
    rating = await scene.resident.next_message()
    await scene.resident.press(rating, "5⭐")
    await scene.resident.next_message()
    again = await scene.resident.press(rating, "2⭐")
    assert again.text == "这个问题您已经回答过了。"
    assert (await followups.get(scene.conn, 1)).rating == 5
    assert (await scene.kinds()).count("followup_rating") == 1


async def test_another_residents_press_on_the_follow_up_is_refused_in_their_language(scene, world, tg):
    question = await scene.finish(world.crew(5001))
    other = await tg.user("Bob", language_code="en")
    await other.send("/start")
    own = await other.next_message()
    # Bob forges ticket 1's "not solved" data on a message in his own chat.
    answer = await other.press_data(own, question.button("👎 还没解决").callback_data)
    assert answer.text == "This is someone else's ticket; you cannot answer it."
    assert (await scene.ticket()).status == "closed"


async def test_not_solved_reopens_the_ticket_with_a_fresh_card_and_fresh_limits(scene, world, clock):
    question = await scene.finish(world.crew(5001))
    clock.advance(hours=2)
    answer = await scene.resident.press(question, "👎 还没解决")
    assert "重新打开" in answer.text
    told = await scene.resident.next_message()
    assert "已重新打开（第 1 次）" in told.text
    card = await scene.north.next_message_where(lambda m: "重新打开（第 1 次）" in m.text)
    assert card.message_id != scene.card.message_id and card.button_texts()[0] == "📍 已到场"
    ticket = await scene.ticket()
    assert (ticket.status, ticket.reopen_count, ticket.centre_id) == ("accepted", 1, "repair-north")
    onsite = await deadlines.get(scene.conn, 1, "onsite")
    # Art. 13: on site within 60 minutes and, a major event, closed within 12 hours, from the reopen.
    close = await deadlines.get(scene.conn, 1, "close")
    assert (onsite.state, onsite.due_at, ticket.onsite_by) == ("open", clock.now() + timedelta(minutes=60), onsite.due_at)
    assert (close.state, close.due_at, ticket.close_by) == ("open", clock.now() + timedelta(hours=12), close.due_at)
    events = await tickets.list_events(scene.conn, 1)
    reopened = [e for e in events if e.kind == "reopened"]
    assert reopened[0].detail == {"centre": "repair-north", "round": 1} and reopened[0].actor_id == scene.resident.id
    # The resident's words go onto the card.
    await scene.resident.send("暖气片还是凉的")
    assert "已转告" in (await scene.resident.next_message()).text
    card = await scene.north.wait_edited(card)
    assert "暖气片还是凉的" in card.text


async def test_the_old_card_is_dead_after_a_reopen(scene, world):
    question = await scene.finish(world.crew(5001))
    old = scene.card
    await scene.resident.press(question, "👎 还没解决")
    await scene.north.next_message_where(lambda m: "重新打开" in m.text)
    answer = await world.crew(5001).press_data(old, "t:1:arrive")
    assert answer.text == "这个按钮已失效，请看最新的消息。"


async def test_a_ticket_reopened_twice_goes_to_dispatch_as_well(scene, world):
    crew = world.crew(5001)
    question = await scene.finish(crew)
    await scene.resident.press(question, "👎 还没解决")
    await scene.resident.next_message()
    scene.card = await scene.north.next_message_where(lambda m: "重新打开（第 1 次）" in m.text)
    question = await scene.finish(crew)
    assert "暖和了吗" in question.text
    await scene.resident.press(question, "👎 还没解决")
    alert = await scene.dispatch.next_message_where(lambda m: "重新打开" in m.text)
    assert "工单 0001" in alert.text and "第 2 次" in alert.text
    assert (await scene.ticket()).reopen_count == 2


async def test_the_first_reopen_is_not_sent_to_dispatch(scene, world, tg):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👎 还没解决")
    await scene.north.next_message_where(lambda m: "重新打开" in m.text)
    assert not [m for m in await scene.dispatch.transcript() if "重新打开" in m.text]


async def test_an_old_round_follow_up_button_is_stale_after_the_ticket_is_closed_again(scene, world):
    crew = world.crew(5001)
    first = await scene.finish(crew)
    await scene.resident.press(first, "👎 还没解决")
    await scene.resident.next_message()
    scene.card = await scene.north.next_message_where(lambda m: "重新打开" in m.text)
    await scene.finish(crew)
    answer = await scene.resident.press(first, "👍 解决了")
    assert answer.text == "这个按钮已失效，请看最新的消息。"


async def test_not_solved_on_a_ticket_dispatch_closed_as_out_of_scope_is_explained_not_reopened(scene, world):
    question = await scene.finish(world.crew(5001))
    async with scene.app.bot_data["svc"].db.transaction() as conn:
        await conn.execute("UPDATE tickets SET outcome = 'out_of_scope' WHERE id = 1")
    answer = await scene.resident.press(question, "👎 还没解决")
    assert answer.text == "这张工单不属于服务范围，不能重新打开。"
    told = await scene.resident.next_message()
    assert "不属于供热服务范围" in told.text
    assert (await scene.ticket()).status == "closed"


async def test_an_answer_after_thirty_days_is_refused_with_a_way_to_report_again(scene, world, clock):
    question = await scene.finish(world.crew(5001))
    clock.advance(days=31)
    answer = await scene.resident.press(question, "👎 还没解决")
    assert answer.text == "已超过回复期限，请重新报修。"
    told = await scene.resident.next_message()
    assert "超过 30 天" in told.text and "📝 我要报修" in told.button_texts()
    assert (await scene.ticket()).status == "closed"


@pytest.mark.parametrize("text, refused", [("长" * 5000, "太长了"), ("\u200b\u200b", "没有看到文字")], ids=["5000-chars", "invisible"])
async def test_a_comment_too_long_or_empty_is_refused_and_asked_again(scene, world, text, refused):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👍 解决了")
    rating = await scene.resident.next_message()
    await scene.resident.press(rating, "不打分")
    await scene.resident.next_message()
    await scene.resident.send(text)
    assert refused in (await scene.resident.next_message()).text
    assert (await followups.get(scene.conn, 1)).state == "comment"


async def test_a_comment_of_only_emoji_is_kept_as_the_residents_opinion(scene, world):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👍 解决了")
    rating = await scene.resident.next_message()
    await scene.resident.press(rating, "5⭐")
    await scene.resident.next_message()
    await scene.resident.send("👍👍👍")
    assert "谢谢" in (await scene.resident.next_message()).text
    assert (await followups.get(scene.conn, 1)).comment == "👍👍👍"


async def test_no_answer_in_24_hours_puts_the_ticket_on_dispatchs_phone_list(scene, world, clock):
    await scene.finish(world.crew(5001))
    clock.advance(hours=23, minutes=59)
    assert await followup.sweep(scene.svc) == 0
    clock.advance(minutes=2)
    assert await followup.sweep(scene.svc) == 1
    assert await followup.sweep(scene.svc) == 0
    notice = await scene.dispatch.next_message_where(lambda m: "电话回访名单" in m.text)
    assert "0001" in notice.text
    dispatcher = world.crew(6001)
    await dispatcher.send("/followups", chat=scene.dispatch)
    listing = await scene.dispatch.next_message_where(lambda m: m.text.startswith("电话回访名单"))
    assert "0001" in listing.text and "13912345678" in listing.text
    assert listing.button_texts() == ["0001 满意", "0001 基本满意", "0001 不满意", "0001 联系不上"]
    answer = await dispatcher.press(listing, "0001 基本满意")
    assert answer.text == "好的"
    assert "基本满意" in (await scene.dispatch.next_message_where(lambda m: "已记录工单 0001" in m.text)).text
    fu = await followups.get(scene.conn, 1)
    assert (fu.state, fu.phone_result) == ("phoned", "basic")
    phoned = [e for e in await tickets.list_events(scene.conn, 1) if e.kind == "followup_phoned"]
    assert phoned[0].actor_id == 6001 and phoned[0].at == clock.now()
    again = await dispatcher.press(listing, "0001 不满意")
    assert again.text == "这个问题您已经回答过了。"


async def test_the_phone_list_is_for_dispatch_only(scene, world):
    crew = world.crew(5001)
    await crew.send("/followups", chat=scene.north)
    refusal = await scene.north.next_message_where(lambda m: "/followups" in m.text and "调度" in m.text)
    assert "13912345678" not in refusal.text


async def test_a_reopen_by_a_resident_who_then_blocked_the_bot_still_reaches_the_crew_and_dispatch_is_asked_to_phone(scene, world):
    question = await scene.finish(world.crew(5001))
    await scene.resident.press(question, "👎 还没解决")
    await scene.resident.block()
    card = await scene.north.next_message_where(lambda m: "重新打开（第 1 次）" in m.text)
    assert card.button_texts()[0] == "📍 已到场"
    await world.crew(5001).press(card, "📍 已到场")      # the resident would be told: they cannot be
    call = await scene.dispatch.next_message_where(lambda m: "请电话联系报修人" in m.text)
    assert "0001" in call.text


async def test_an_english_resident_is_followed_up_in_english(bot, tg, world):
    resident = await tg.user("Tom", language_code="en")
    await report_to_address(resident, category="Home not warm", community="heping", pick="Heping Garden")
    await resident.send("3-2-501")
    await resident.next_message()
    await resident.send("13912345678")
    await resident.next_message()
    await resident.press(await resident.next_message(), "Skip")
    await resident.next_message()                   # photo, a sentence or a voice note
    await resident.send("Cold radiators")
    await resident.press(await resident.next_message(), "Confirm")
    await resident.next_message()
    north = world.groups["repair-north"]
    card = await north.next_message()
    for button in ("受理", "已到场", "处理完成"):
        await world.crew(5001).press(card, button)
        card = await north.wait_edited(card)
        question = await resident.next_message()
    assert "Is your home warm now?" in question.text and question.button_texts() == ["👍 Solved", "👎 Not solved"]
    answer = await resident.press(question, "Not solved")
    assert answer.text == "Reopened; a crew will come back."
    assert "reopened (time 1)" in (await resident.next_message()).text


async def test_a_ticket_filed_for_a_caller_without_telegram_goes_onto_the_phone_list_at_done(bot, world):
    from bot.filing import Filing, file_ticket
    from rules.policy import Source

    svc = bot.bot_data["svc"]
    async with svc.db.transaction() as conn:
        await file_ticket(conn, svc, Filing(category="not_warm", source=Source.HOTLINE, lang="zh", name="赵大妈",
                                            phone="13600001111", community_id="heping", address="7-1-101"))
    svc.wake_sender()
    north = world.groups["repair-north"]
    card = await north.next_message()
    for button in ("受理", "已到场", "处理完成"):
        await world.crew(5001).press(card, button)
        card = await north.wait_edited(card)
    assert await followup.sweep(svc) == 1          # nobody to ask in Telegram: phoned (Art. 8)
    dispatcher = world.crew(6001)
    dispatch = world.groups["dispatch"]
    await dispatcher.send("/followups", chat=dispatch)
    listing = await dispatch.next_message_where(lambda m: m.text.startswith("电话回访名单"))
    assert "赵大妈 13600001111" in listing.text
