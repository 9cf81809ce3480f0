"""The emulator rejects what Telegram rejects; each test fails if its check is removed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden

from tgemu import Emulator, EmulatorClient, User

# A real 1×1 greyscale PNG: the emulator, like Telegram, refuses a photo it cannot decode.
IMG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c6360000000"
                    "02000148afa4710000000049454e44ae426082")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


async def last_error(tg: EmulatorClient, method: str) -> str | None:
    calls = await tg.calls(method)
    assert calls, f"no {method} call recorded"
    return calls[-1].error


async def started_user(tg: EmulatorClient, name: str = "Alice") -> User:
    user = await tg.user(name)
    await user.send("/start")
    return user


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


# ---------------------------------------------------------------- text limits

@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("   ", None, "Bad Request: message text is empty"),
        ("<b></b>", "HTML", "Bad Request: message text is empty"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("<b>" + "я" * 4097 + "</b>", "HTML", "Bad Request: message is too long"),
    ],
    ids=["whitespace-only", "empty-after-parsing", "4097-chars", "4097-chars-after-parsing"],
)
async def test_message_text_outside_1_to_4096_chars_is_rejected(
    tg: EmulatorClient, tg_bot: Bot, text: str, parse_mode: str | None, description: str
) -> None:
    alice = await started_user(tg)
    with pytest.raises(BadRequest):
        await tg_bot.send_message(alice.id, text, parse_mode=parse_mode)
    assert await last_error(tg, "sendMessage") == description


async def test_length_is_counted_after_entity_parsing(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await started_user(tg)
    # 4096 visible characters plus markup: Telegram accepts it.
    sent = await tg_bot.send_message(alice.id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert len(sent.text) == 4096


async def test_caption_longer_than_1024_after_parsing_is_rejected(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    await tg_bot.send_photo(alice.id, IMG, caption="<i>" + "c" * 1024 + "</i>", parse_mode="HTML")
    with pytest.raises(BadRequest):
        await tg_bot.send_photo(alice.id, IMG, caption="c" * 1025)
    assert await last_error(tg, "sendPhoto") == "Bad Request: message caption is too long"


async def test_length_limits_count_code_points_so_an_emoji_counts_once(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    """Telegram (TDLib's utf8_length) counts a message's 4,096 and a caption's 1,024 in code
    points, not UTF-16 units: 4,096 emoji (8,192 UTF-16 units) are accepted, 4,097 are not."""
    alice = await started_user(tg)
    sent = await tg_bot.send_message(alice.id, "😀" * 4096)
    assert len(sent.text) == 4096
    with pytest.raises(BadRequest):
        await tg_bot.send_message(alice.id, "😀" * 4097)
    assert await last_error(tg, "sendMessage") == "Bad Request: message is too long"
    await tg_bot.send_photo(alice.id, IMG, caption="😀" * 1024)
    with pytest.raises(BadRequest):
        await tg_bot.send_photo(alice.id, IMG, caption="😀" * 1025)
    assert await last_error(tg, "sendPhoto") == "Bad Request: message caption is too long"


async def test_a_2990_emoji_report_fits_one_message_although_it_is_5980_utf16_units(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    text = "报告：" + "🔥" * 2990
    sent = await tg_bot.send_message(alice.id, text)
    assert sent.text == text


async def test_entity_offsets_count_utf16_units_while_the_limit_counts_code_points(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    sent = await tg_bot.send_message(alice.id, "😀" * 4095 + "<b>x</b>", parse_mode="HTML")
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 8190, 1)]


# ------------------------------------------------------------ inline keyboards

@pytest.mark.parametrize(
    ("markup", "description"),
    [
        ({"inline_keyboard": [[{"text": "Go", "callback_data": "温" * 22}]]},
         "Bad Request: BUTTON_DATA_INVALID"),  # 22 chars but 66 UTF-8 bytes
        ({"inline_keyboard": [[{"text": "Go", "callback_data": ""}]]},
         "Bad Request: BUTTON_DATA_INVALID"),
        ({"inline_keyboard": [[{"text": f"b{i}", "callback_data": str(i)}] for i in range(101)]},
         "Bad Request: reply markup is too long"),
        ({"inline_keyboard": [[{"text": "Nothing"}]]},
         "Bad Request: text buttons are unallowed in the inline keyboard"),
        ({"inline_keyboard": [[{"text": "", "callback_data": "x"}]]},
         "Bad Request: BUTTON_TEXT_EMPTY"),
        ({"inline_keyboard": [[{"text": "Two", "callback_data": "x", "url": "https://a.b"}]]},
         "Bad Request: can't parse inline keyboard button: exactly one of the optional fields "
         "must be used"),
        ({"inline_keyboard": [[{"text": "Bad url", "url": "javascript://x"}]]},
         "Bad Request: BUTTON_URL_INVALID"),
    ],
    ids=["callback-data-66-bytes", "callback-data-empty", "101-buttons", "no-action",
         "empty-text", "two-actions", "bad-url"],
)
async def test_invalid_inline_keyboards_are_rejected(
    emulator: Emulator, tg: EmulatorClient, markup: dict[str, Any], description: str
) -> None:
    import httpx

    alice = await started_user(tg)
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{emulator.api_base_url}123456:TEST-TOKEN/sendMessage",
                               json={"chat_id": alice.id, "text": "hi", "reply_markup": markup})
    assert resp.status_code == 400
    assert resp.json() == {"ok": False, "error_code": 400, "description": description}


async def test_keyboard_limits_accept_the_maximum(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await started_user(tg)
    hundred = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(100)])
    await tg_bot.send_message(alice.id, "many", reply_markup=hundred)
    await tg_bot.send_message(alice.id, "long data", reply_markup=keyboard(("Go", "x" * 64)))
    msg = await alice.next_message()
    assert len(msg.button_texts()) == 100


# ----------------------------------------------------------- callback answers

async def test_answer_callback_query_rules(
    emulator: Emulator, tg: EmulatorClient, tg_bot: Bot
) -> None:
    import asyncio

    alice = await started_user(tg)
    await tg_bot.send_message(alice.id, "Pick", reply_markup=keyboard(("Yes", "y")))
    msg = await alice.next_message()
    press = asyncio.create_task(alice.press(msg, "Yes"))
    updates = await tg_bot.get_updates(timeout=2, allowed_updates=["callback_query"])
    query = updates[-1].callback_query
    assert query is not None and query.data == "y"

    with pytest.raises(BadRequest):
        await query.answer("x" * 201)
    assert await last_error(tg, "answerCallbackQuery") == "Bad Request: MESSAGE_TOO_LONG"

    await query.answer("y" * 200)
    assert (await press).text == "y" * 200

    expired = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(BadRequest):
        await query.answer("again")
    assert await last_error(tg, "answerCallbackQuery") == expired
    with pytest.raises(BadRequest):
        await tg_bot.answer_callback_query("424242")
    assert await last_error(tg, "answerCallbackQuery") == expired


# --------------------------------------------------------------------- edits

async def test_editing_with_unchanged_content_is_rejected_as_not_modified(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    markup = keyboard(("A", "a"))
    sent = await tg_bot.send_message(alice.id, "<b>Same</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest):
        await sent.edit_text("<b>Same</b>", parse_mode="HTML", reply_markup=markup)
    assert await last_error(tg, "editMessageText") == NOT_MODIFIED
    with pytest.raises(BadRequest):
        await sent.edit_reply_markup(reply_markup=markup)
    assert await last_error(tg, "editMessageReplyMarkup") == NOT_MODIFIED


@pytest.mark.parametrize(
    ("new_text", "parse_mode", "with_markup"),
    [
        ("Same", None, True),             # same plain text, entities dropped
        ("<b>Other</b>", "HTML", True),   # different text
        ("<b>Same</b>", "HTML", False),   # same content, keyboard removed
    ],
    ids=["entities-differ", "text-differs", "markup-differs"],
)
async def test_editing_with_any_difference_is_accepted_and_bumps_version(
    tg: EmulatorClient, tg_bot: Bot, new_text: str, parse_mode: str | None, with_markup: bool
) -> None:
    alice = await started_user(tg)
    markup = keyboard(("A", "a"))
    sent = await tg_bot.send_message(alice.id, "<b>Same</b>", parse_mode="HTML", reply_markup=markup)
    before = await alice.next_message()
    edited = await sent.edit_text(new_text, parse_mode=parse_mode,
                                  reply_markup=markup if with_markup else None)
    assert edited.edit_date is not None
    after = await alice.wait_edited(before, timeout=2)
    assert after.version == 1
    assert (after.button_texts() == ["A"]) is with_markup


async def test_editing_missing_deleted_or_foreign_messages_is_rejected(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    user_msg = (await alice.transcript())[0]
    with pytest.raises(BadRequest):
        await tg_bot.edit_message_text("x", chat_id=alice.id, message_id=999)
    assert await last_error(tg, "editMessageText") == "Bad Request: message to edit not found"

    sent = await tg_bot.send_message(alice.id, "bye")
    await tg_bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(BadRequest):
        await tg_bot.edit_message_text("x", chat_id=alice.id, message_id=sent.message_id)
    assert await last_error(tg, "editMessageText") == "Bad Request: message to edit not found"
    with pytest.raises(BadRequest):
        await tg_bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)
    assert await last_error(tg, "editMessageReplyMarkup") == "Bad Request: message to edit not found"

    with pytest.raises(BadRequest):
        await tg_bot.edit_message_text("x", chat_id=alice.id, message_id=user_msg.message_id)
    assert await last_error(tg, "editMessageText") == "Bad Request: message can't be edited"


async def test_editing_a_caption_follows_the_same_rules(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await started_user(tg)
    sent = await tg_bot.send_photo(alice.id, IMG, caption="Old")
    with pytest.raises(BadRequest):
        await sent.edit_caption("Old")
    assert await last_error(tg, "editMessageCaption") == NOT_MODIFIED
    edited = await sent.edit_caption("New")
    assert edited.caption == "New"
    with pytest.raises(BadRequest):
        await sent.edit_caption("c" * 1025)
    assert await last_error(tg, "editMessageCaption") == "Bad Request: message caption is too long"


async def test_deleting_a_missing_message_is_rejected(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await started_user(tg)
    sent = await tg_bot.send_message(alice.id, "bye")
    assert await tg_bot.delete_message(alice.id, sent.message_id)
    for message_id in (sent.message_id, 777):
        with pytest.raises(BadRequest):
            await tg_bot.delete_message(alice.id, message_id)
        assert await last_error(tg, "deleteMessage") == "Bad Request: message to delete not found"
    msgs = await alice.transcript(include_deleted=True)
    assert msgs[-1].deleted


# ------------------------------------------------------------- chat access

async def test_unknown_chat_is_not_found(tg: EmulatorClient, tg_bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await tg_bot.send_message(987654321, "hi")
    assert await last_error(tg, "sendMessage") == "Bad Request: chat not found"


async def test_bot_cannot_initiate_a_conversation(tg: EmulatorClient, tg_bot: Bot) -> None:
    silent = await tg.user("Silent")
    with pytest.raises(Forbidden):
        await tg_bot.send_message(silent.id, "hi")
    assert await last_error(tg, "sendMessage") == (
        "Forbidden: bot can't initiate conversation with a user")


async def test_blocked_user_cannot_be_messaged_until_unblocked(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    await alice.block()
    with pytest.raises(Forbidden):
        await tg_bot.send_message(alice.id, "hi")
    assert await last_error(tg, "sendMessage") == "Forbidden: bot was blocked by the user"
    await alice.unblock()
    await tg_bot.send_message(alice.id, "welcome back")
    kinds = [next(k for k in u if k != "update_id") for u in await tg.pending_updates()]
    assert kinds == ["message", "my_chat_member", "my_chat_member"]


@pytest.mark.parametrize(
    ("chat_id", "kind"),
    [(-1001000000101, "supergroup"), (-4000101, "group")],
    ids=["supergroup", "basic-group"],
)
async def test_bot_removed_from_a_group_cannot_post_there(
    tg: EmulatorClient, tg_bot: Bot, chat_id: int, kind: str
) -> None:
    alice = await tg.user("Alice")
    grp = await tg.group("北区维修", [alice], chat_id=chat_id)
    assert grp.type == kind
    await tg_bot.send_message(grp.id, "hello group")
    await grp.remove_bot()
    with pytest.raises(Forbidden):
        await tg_bot.send_message(grp.id, "still here?")
    assert await last_error(tg, "sendMessage") == f"Forbidden: bot was kicked from the {kind} chat"


# ------------------------------------------------------------------ replies

async def test_replies_carry_reply_to_message_and_require_an_existing_target(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await started_user(tg)
    start = (await alice.transcript())[0]
    modern = await tg_bot.send_message(
        alice.id, "modern", reply_parameters=ReplyParameters(start.message_id))
    legacy = await tg_bot.send_message(alice.id, "legacy", reply_to_message_id=start.message_id)
    for sent in (modern, legacy):
        assert sent.reply_to_message is not None
        assert sent.reply_to_message.text == "/start"
    with pytest.raises(BadRequest):
        await tg_bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(555))
    assert await last_error(tg, "sendMessage") == "Bad Request: message to be replied not found"
    ok = await tg_bot.send_message(
        alice.id, "x", reply_parameters=ReplyParameters(555, allow_sending_without_reply=True))
    assert ok.reply_to_message is None


@pytest.mark.parametrize(
    ("call", "description"),
    [
        (lambda b, cid: b.send_chat_action(cid, "dancing"),
         "Bad Request: wrong parameter action in request"),
        (lambda b, cid: b.set_my_commands([("Bad Command", "x")]), "Bad Request: BOT_COMMAND_INVALID"),
        (lambda b, cid: b.get_file("nope"), "Bad Request: invalid file_id"),
        (lambda b, cid: b.send_photo(cid, "unknown-file-id"),
         "Bad Request: wrong file identifier/HTTP URL specified"),
    ],
    ids=["chat-action", "command-name", "get-file", "photo-file-id"],
)
async def test_other_invalid_parameters_are_rejected(
    tg: EmulatorClient, tg_bot: Bot, call: Callable[[Bot, int], Awaitable[Any]], description: str
) -> None:
    alice = await started_user(tg)
    with pytest.raises(BadRequest):
        await call(tg_bot, alice.id)
    calls = await tg.calls()
    assert calls[-1].error == description
