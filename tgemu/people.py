"""What the people in the emulated world do: write in a chat, press a button.

Each action checks what a real Telegram client would let the person do, records the message,
and queues the update the bot would receive (if Telegram would deliver it to the bot).
"""
from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from .core import Telegram
from .models import CallbackRec, ChatRec, ControlError, MessageRec, UserRec
from .sizes import MAX_CALLBACK_DATA_BYTES, callback_data_fits, utf16_len
from .views import MEDIA_FIELDS

logger = logging.getLogger(__name__)

__all__ = ["user_send", "press", "check_can_press", "user_entities"]

_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}")
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def user_entities(text: str) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    cmd = _COMMAND_RE.match(text)
    if cmd:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(cmd.group(0))})
    for m in _MENTION_RE.finditer(text):
        if cmd and m.start() < cmd.end():
            continue
        entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]),
                         "length": utf16_len(m.group(0))})
    return entities


def _bot_should_see(tg: Telegram, chat: ChatRec, msg: MessageRec) -> bool:
    """Privacy mode: in a group the bot sees commands, mentions and replies to itself only."""
    if chat.is_private:
        return True
    if chat.bot_status != "member":
        return False
    if not chat.privacy:
        return True
    body = msg.text if msg.text is not None else (msg.caption or "")
    cmd = _COMMAND_RE.match(body)
    if cmd:
        target = cmd.group(0).partition("@")[2]
        if not target or target.lower() == tg.bot_username.lower():
            return True
    if f"@{tg.bot_username.lower()}" in body.lower():
        return True
    if msg.reply_to_message_id is not None:
        target_msg = chat.messages.get(msg.reply_to_message_id)
        if target_msg is not None and target_msg.from_bot:
            return True
    return False


def _check_can_write(user: UserRec, chat: ChatRec) -> None:
    if chat.is_private:
        if chat.user_id != user.id:
            raise ControlError(403, f"user {user.id} cannot write in private chat {chat.id}")
        if user.blocked:
            raise ControlError(409, f"user {user.id} has blocked the bot; unblock first")
    elif chat.is_channel:
        raise ControlError(400, f"chat {chat.id} is a channel: post with the channel's post(), not as a user")
    elif chat.migrated_to is not None:
        raise ControlError(409, f"group {chat.id} was upgraded to supergroup {chat.migrated_to}; write there")
    elif user.id not in chat.members:
        raise ControlError(403, f"user {user.id} is not a member of chat {chat.id}")


def user_send(tg: Telegram, user_id: int, chat_id: int | None, content: dict[str, Any],
              reply_to: int | None = None) -> MessageRec:
    user = tg.get_user(user_id)
    chat = tg.get_chat(chat_id if chat_id is not None else user_id)
    _check_can_write(user, chat)
    if chat.is_private:
        user.started = True
    if reply_to is not None and tg.get_message(chat, reply_to).deleted:
        raise ControlError(410, f"message {reply_to} was deleted")
    msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id, sender_id=user.id,
                     from_bot=False, date=tg.now(), reply_to_message_id=reply_to)
    text = content.get("text")
    if text is not None:
        if not text.strip():
            raise ControlError(400, "text must not be empty")
        msg.text = text
        msg.entities = user_entities(text)
    caption = content.get("caption")
    if caption:
        msg.caption = caption
        msg.caption_entities = user_entities(caption)
    for name in MEDIA_FIELDS:
        if content.get(name) is not None:
            setattr(msg, name, content[name])
    chat.messages[msg.message_id] = msg
    if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
        chat.reply_keyboard = None  # clients hide a one-time keyboard after use
    msg.delivered = _bot_should_see(tg, chat, msg)
    if msg.delivered:
        tg.enqueue_update("message", tg.message_to_api(msg))
    tg.touch(msg)
    return msg


def check_can_press(user: UserRec, chat: ChatRec, msg: MessageRec) -> None:
    """Only someone who sees the message, in a chat the bot is still in, can press its buttons."""
    if msg.deleted:
        raise ControlError(410, f"message {msg.message_id} was deleted; nothing to press")
    if chat.is_private and chat.user_id != user.id:
        raise ControlError(403, "user cannot see this private chat")
    if not chat.is_private and user.id not in chat.members:
        raise ControlError(403, "user is not a member of this group")
    if chat.is_private and user.blocked:
        raise ControlError(409, "user has blocked the bot")
    if not chat.is_private and chat.bot_status != "member":
        raise ControlError(409, "the bot is not in this group any more")


def press(tg: Telegram, user: UserRec, chat: ChatRec, msg: MessageRec, data: str) -> CallbackRec:
    """Queue the callback query a press sends; the caller waits for the bot's answer.

    Telegram's clients can only send what a button carries, and a button carries 1-64 bytes
    (the Bot API refuses a longer one with BUTTON_DATA_INVALID), so longer data is refused here:
    no real client could send it."""
    check_can_press(user, chat, msg)
    if not callback_data_fits(data):
        raise ControlError(400, f"callback data of {len(data.encode('utf-8'))} bytes: a button carries "
                                f"1-{MAX_CALLBACK_DATA_BYTES} bytes, so no Telegram client can send it")
    rec = CallbackRec(id=str(secrets.randbits(63)), user_id=user.id, chat_id=chat.id,
                      message_id=msg.message_id, data=data)
    tg.callbacks[rec.id] = rec
    update = tg.enqueue_update("callback_query", {
        "id": rec.id, "from": user.to_api(), "message": tg.message_to_api(msg),
        "chat_instance": tg.chat_instance(chat.id), "data": rec.data,
    })
    if update is None:
        raise ControlError(409, "callback_query updates are excluded by allowed_updates")
    return rec
