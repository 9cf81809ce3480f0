"""The two JSON renderings of a message.

The Bot API ``Message`` object is what python-telegram-bot parses; the flat *view* is what
the control API and :class:`~tgemu.client.EmulatorClient` show a test (plain text, buttons,
version, deleted flag).
"""
from __future__ import annotations

import logging
from typing import Any

from .models import ChatRec, MessageRec, UserRec, buttons_of, chat_to_api, reply_keyboard_of

logger = logging.getLogger(__name__)

__all__ = ["message_to_api", "message_view", "MEDIA_FIELDS"]

MEDIA_FIELDS = ("photo", "document", "contact", "location", "sticker", "voice")


def message_to_api(msg: MessageRec, chat: ChatRec, users: dict[int, UserRec], bot_user: UserRec,
                   with_reply: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"message_id": msg.message_id}
    if chat.is_channel:
        # Channel posts are signed by the channel: no "from", the channel as sender_chat.
        data["sender_chat"] = chat_to_api(chat, users)
    else:
        data["from"] = (bot_user if msg.from_bot else users[msg.sender_id]).to_api()
    data["chat"] = chat_to_api(chat, users)
    data["date"] = msg.date
    for service in ("migrate_to_chat_id", "migrate_from_chat_id"):
        if getattr(msg, service) is not None:
            data[service] = getattr(msg, service)
    if msg.text is not None:
        data["text"] = msg.text
        if msg.entities:
            data["entities"] = msg.entities
    for name in MEDIA_FIELDS:
        value = getattr(msg, name)
        if value is not None:
            data[name] = value
    if msg.caption:
        data["caption"] = msg.caption
        if msg.caption_entities:
            data["caption_entities"] = msg.caption_entities
    # Message.reply_markup only ever carries inline keyboards in the Bot API.
    if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
        data["reply_markup"] = msg.reply_markup
    if msg.edit_date is not None:
        data["edit_date"] = msg.edit_date
    if with_reply and msg.reply_to_message_id is not None:
        target = chat.messages.get(msg.reply_to_message_id)
        if target is not None and not target.deleted:
            data["reply_to_message"] = message_to_api(target, chat, users, bot_user, with_reply=False)
    return data


def _file_id(msg: MessageRec) -> str | None:
    if msg.photo:
        return msg.photo[-1]["file_id"]
    for media in (msg.document, msg.sticker, msg.voice):
        if media:
            return media["file_id"]
    return None


def message_view(msg: MessageRec, users: dict[int, UserRec]) -> dict[str, Any]:
    markup = msg.reply_markup or {}
    return {
        "message_id": msg.message_id,
        "chat_id": msg.chat_id,
        "from_bot": msg.from_bot,
        "sender_id": msg.sender_id,
        "sender_name": "bot" if msg.from_bot else users[msg.sender_id].display_name if msg.sender_id in users else "channel",
        "date": msg.date,
        "kind": msg.kind,
        "text": msg.text or "",
        "caption": msg.caption,
        "entities": msg.entities or msg.caption_entities,
        "has_photo": msg.photo is not None,
        "file_id": _file_id(msg),
        "buttons": buttons_of(msg.reply_markup),
        "reply_keyboard": reply_keyboard_of(msg.reply_markup),
        "remove_keyboard": bool(markup.get("remove_keyboard")),
        "force_reply": bool(markup.get("force_reply")),
        "reply_to_message_id": msg.reply_to_message_id,
        "deleted": msg.deleted,
        "version": msg.version,
        "delivered": msg.delivered,
        "contact": msg.contact,
        "location": msg.location,
        "seq": msg.seq,
    }
