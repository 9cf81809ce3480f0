"""Control API and client: people, groups and privacy mode, presses, waits, transcripts."""

from __future__ import annotations

import asyncio

import pytest
from telegram import (
    Bot,
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import Forbidden

from tgemu import EmulatorClient, EmulatorError, NoAnswerError, NoMessageError

ACCEPT = InlineKeyboardMarkup([[InlineKeyboardButton("Accept job", callback_data="accept"),
                                InlineKeyboardButton("Decline", callback_data="decline")]])


async def message_texts(bot: Bot) -> list[str]:
    return [u.message.text for u in await bot.get_updates(timeout=0) if u.message]


@pytest.mark.parametrize(
    ("text", "delivered"),
    [
        ("/status", True),
        ("/status@heatbot_bot", True),
        ("/status@other_bot", False),
        ("hey @heatbot_bot the heating is off", True),
        ("just chatting", False),
    ],
    ids=["command", "command-for-us", "command-for-another-bot", "mention", "plain-text"],
)
async def test_privacy_mode_filters_group_messages(
    tg: EmulatorClient, tg_bot: Bot, text: str, delivered: bool
) -> None:
    alice = await tg.user("Alice")
    grp = await tg.group("北区维修", [alice], chat_id=-1001000000101)
    sent = await alice.send(text, chat=grp)
    assert sent.delivered is delivered
    assert (await message_texts(tg_bot) == [text]) is delivered
    assert [m.text for m in await grp.transcript()] == [text]  # always in the transcript


async def test_replies_to_the_bot_pass_privacy_mode(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    grp = await tg.group("Crew", [alice])
    chatter = await alice.send("random", chat=grp)
    bot_msg = await tg_bot.send_message(grp.id, "Who takes job 7?")
    card = await grp.next_message()
    await alice.send("not a reply to the bot", chat=grp, reply_to=chatter)
    await alice.send("me", chat=grp, reply_to=card)
    updates = await tg_bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["me"]
    assert updates[0].message.reply_to_message.message_id == bot_msg.message_id


async def test_group_without_privacy_receives_everything(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    grp = await tg.group("Open", [alice], privacy=False)
    await alice.send("just chatting", chat=grp)
    assert await message_texts(tg_bot) == ["just chatting"]


async def test_user_message_entities_and_group_chat_json(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("张三", username="zhang_san", language_code="zh")
    grp = await tg.group("北区维修", [alice], chat_id=-1001000000101)
    await alice.send("/report@heatbot_bot ask @someone", chat=grp)
    (update,) = await tg_bot.get_updates(timeout=0)
    msg = update.message
    assert msg.chat.type == "supergroup" and msg.chat.title == "北区维修"
    assert msg.from_user.language_code == "zh" and msg.from_user.username == "zhang_san"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [
        ("bot_command", 0, 19), ("mention", 24, 8)]


async def test_press_waits_for_the_bots_answer(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    card = await alice.next_message()

    async def bot_side() -> None:
        updates = await tg_bot.get_updates(timeout=2, allowed_updates=["callback_query"])
        query = updates[-1].callback_query
        assert query.message.message_id == card.message_id and query.data == "accept"
        assert query.from_user.id == alice.id and query.chat_instance
        await asyncio.sleep(0.2)  # the press must still be waiting
        await query.answer("Taken", show_alert=True)

    helper = asyncio.create_task(bot_side())
    answer = await alice.press(card, "Accept")  # unique substring of "Accept job"
    await helper
    assert (answer.text, answer.show_alert) == ("Taken", True)


async def test_press_fails_when_the_bot_never_answers(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    card = await alice.next_message()
    with pytest.raises(NoAnswerError, match="did not answer"):
        await alice.press(card, "Decline", timeout=0.3)


@pytest.mark.parametrize(
    ("button", "delete_first", "status"),
    [("Nope", False, 404), ("Accept job", True, 410)],
    ids=["unknown-button", "deleted-message"],
)
async def test_impossible_presses_are_control_errors_not_updates(
    tg: EmulatorClient, tg_bot: Bot, button: str, delete_first: bool, status: int
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    sent = await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    card = await alice.next_message()
    if delete_first:
        await tg_bot.delete_message(alice.id, sent.message_id)
    before = len(await tg.pending_updates())
    with pytest.raises(EmulatorError) as info:
        await alice.press(card, button)
    assert info.value.status == status
    assert len(await tg.pending_updates()) == before


async def test_next_message_times_out_with_the_transcript_tail(tg: EmulatorClient) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    with pytest.raises(NoMessageError) as info:
        await alice.next_message(timeout=0.2)
    assert isinstance(info.value, AssertionError) and isinstance(info.value, TimeoutError)
    assert "Alice: /start" in str(info.value)


async def test_next_message_returns_each_new_bot_message_once(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    waiter = asyncio.create_task(alice.next_message(timeout=3))
    await asyncio.sleep(0.1)
    await tg_bot.send_message(alice.id, "one")
    await tg_bot.send_message(alice.id, "two")
    assert (await waiter).text == "one"
    assert (await alice.next_message()).text == "two"


async def test_wait_edited_and_get_show_the_current_state(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    sent = await tg_bot.send_message(alice.id, "Status: open", reply_markup=ACCEPT)
    card = await alice.next_message()
    with pytest.raises(NoMessageError):
        await alice.wait_edited(card, timeout=0.1)
    waiter = asyncio.create_task(alice.wait_edited(card, timeout=3))
    await asyncio.sleep(0.05)
    await sent.edit_text("Status: closed")
    edited = await waiter
    assert (edited.text, edited.version, edited.buttons) == ("Status: closed", 1, [])
    assert (await alice.get(card.message_id)).text == "Status: closed"


async def test_reply_keyboards_force_reply_and_removal(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "Share?", reply_markup=ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Phone", request_contact=True),
          KeyboardButton("📍 Where", request_location=True)]],
        resize_keyboard=True, one_time_keyboard=True, is_persistent=True))
    shown = await alice.next_message()
    assert shown.reply_keyboard is not None
    assert [(b.text, b.request_contact, b.request_location) for b in shown.reply_keyboard[0]] == [
        ("📱 Phone", True, False), ("📍 Where", False, True)]
    assert (await alice.reply_keyboard())[0][0].text == "📱 Phone"
    await alice.send_contact("13800000000")
    assert await alice.reply_keyboard() is None  # one-time keyboard hides after use

    await tg_bot.send_message(alice.id, "Reply please", reply_markup=ForceReply())
    assert (await alice.next_message()).force_reply
    await tg_bot.send_message(alice.id, "Done", reply_markup=ReplyKeyboardRemove())
    assert (await alice.next_message()).remove_keyboard


async def test_transcript_hides_or_flags_deleted_messages_and_renders(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("张三")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "你好", reply_markup=ACCEPT)
    oops = await alice.send("oops")
    await alice.delete_message(oops)
    assert [m.text for m in await alice.transcript()] == ["/start", "你好"]
    everything = await alice.transcript(include_deleted=True)
    assert [m.deleted for m in everything] == [False, False, True]
    rendered = await alice.render_transcript()
    lines = rendered.splitlines()
    assert lines[0].endswith("] 张三: /start")
    assert lines[1].endswith("] bot: 你好  [Accept job] [Decline]")


async def test_calls_history_records_methods_and_errors(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    with pytest.raises(Forbidden):
        await tg_bot.send_message(alice.id, "hi")
    calls = await tg.calls("sendMessage")
    assert (calls[-1].ok, calls[-1].status) == (False, 403)
    assert calls[-1].params["text"] == "hi" and "123456:TEST-TOKEN" not in str(calls)


async def test_commands_chat_and_member_queries(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    bob = await tg.user("Bob")
    grp = await tg.group("Crew", [alice], bot_admin=True)
    await tg_bot.set_my_commands([BotCommand("start", "Start"), BotCommand("report", "Report")])
    assert [c.command for c in await tg_bot.get_my_commands()] == ["start", "report"]
    await tg_bot.delete_my_commands()
    assert await tg_bot.get_my_commands() == ()
    chat = await tg_bot.get_chat(grp.id)
    assert chat.title == "Crew"
    assert (await tg_bot.get_chat_member(grp.id, alice.id)).status == "member"
    assert (await tg_bot.get_chat_member(grp.id, bob.id)).status == "left"
    assert (await tg_bot.get_chat_member(grp.id, tg_bot.id)).status == "administrator"
    assert await tg_bot.leave_chat(grp.id)
    with pytest.raises(Forbidden):
        await tg_bot.send_message(grp.id, "back?")


async def test_bot_can_delete_others_messages_in_groups_only_as_admin(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    from telegram.error import BadRequest

    alice = await tg.user("Alice")
    plain = await tg.group("Plain", [alice])
    admin = await tg.group("Admin", [alice], bot_admin=True)
    for grp in (plain, admin):
        await alice.send("/cmd", chat=grp)
    with pytest.raises(BadRequest):
        await tg_bot.delete_message(plain.id, 1)
    assert (await tg.calls("deleteMessage"))[-1].error == "Bad Request: message can't be deleted"
    assert await tg_bot.delete_message(admin.id, 1)


async def test_reset_forgets_the_world(tg: EmulatorClient) -> None:
    alice = await tg.user("Alice", user_id=4242)
    await tg.reset()
    again = await tg.user("Alice", user_id=4242)
    assert again.id == alice.id
    with pytest.raises(EmulatorError) as info:
        await tg.user("Alice", user_id=4242)
    assert info.value.status == 409


async def test_press_data_sends_stale_callback_data_from_an_old_card(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    sent = await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    old_card = await alice.next_message()
    await sent.edit_text("Job 7: accepted")  # the button is gone from the current message

    async def bot_side() -> str:
        updates = await tg_bot.get_updates(timeout=2, allowed_updates=["callback_query"])
        query = updates[-1].callback_query
        await query.answer("already done")
        return query.data

    helper = asyncio.create_task(bot_side())
    answer = await alice.press_data(old_card, old_card.button("Accept job").callback_data or "")
    assert await helper == "accept"
    assert answer.text == "already done"


@pytest.mark.parametrize("data", ["a" * 65, "工" * 22, ""], ids=["65-ascii-bytes", "66-utf8-bytes", "empty"])
async def test_press_data_a_button_could_not_carry_is_refused_and_never_reaches_the_bot(
    tg: EmulatorClient, tg_bot: Bot, data: str
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    card = await alice.next_message()
    before = len(await tg.pending_updates())
    with pytest.raises(EmulatorError) as info:
        await alice.press_data(card, data)
    assert info.value.status == 400 and "bytes" in info.value.message
    assert len(await tg.pending_updates()) == before


async def test_press_data_of_exactly_64_bytes_reaches_the_bot(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    await tg_bot.send_message(alice.id, "Job 7", reply_markup=ACCEPT)
    card = await alice.next_message()
    data = "工" * 21 + "a"  # 63 + 1 bytes of UTF-8

    async def bot_side() -> str:
        updates = await tg_bot.get_updates(timeout=2, allowed_updates=["callback_query"])
        await updates[-1].callback_query.answer()
        return updates[-1].callback_query.data

    helper = asyncio.create_task(bot_side())
    await alice.press_data(card, data)
    assert await helper == data


async def test_activity_lists_changes_in_every_chat_in_order_once_each(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    group = await tg.group("Crew", [alice])
    await alice.send("/start")
    start, _ = await tg.activity()
    first = await tg_bot.send_message(alice.id, "one")
    await tg_bot.send_message(group.id, "two")
    await first.edit_text("one, edited")
    seq, msgs = await tg.activity(after=start)
    assert [(m.chat_id, m.text, m.version) for m in msgs] == [(group.id, "two", 0), (alice.id, "one, edited", 1)]
    assert (await tg.activity(after=seq))[1] == []
