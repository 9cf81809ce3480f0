"""Control routes where a person acts: write a message, press a button, delete a message."""
from __future__ import annotations

import base64
import logging
from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ControlError, MessageRec, UserRec
from ..people import press as press_button
from ..people import user_send
from .common import as_int, body, message_of, optional_int, route, tail

logger = logging.getLogger(__name__)

__all__: list[str] = []


@route("POST", "/messages")
async def send(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    user = tg.get_user(as_int(b.get("user_id"), "user_id"))
    msg = user_send(tg, user.id, optional_int(b, "chat_id"), _content(tg, user, b),
                    reply_to=optional_int(b, "reply_to"))
    return tg.message_view(msg)


@route("POST", "/press")
async def press(tg: Telegram, request: web.Request) -> Any:
    """Press a button by its text, or send raw callback data (a stale button an out-of-date phone
    still shows, or a forged client); answers once the bot has answered the callback query."""
    b = await body(request)
    user = tg.get_user(as_int(b.get("user_id"), "user_id"))
    chat = tg.get_chat(as_int(b.get("chat_id"), "chat_id"))
    msg = tg.get_message(chat, as_int(b.get("message_id"), "message_id"))
    timeout = float(b.get("timeout", 5.0))
    if b.get("data") is not None:
        data = str(b["data"])
        label = f"data {data!r}"
    else:
        button = _find_button(msg, str(b.get("button", "")), tail(tg, chat))
        if "callback_data" not in button:
            raise ControlError(400, f"button {button.get('text')!r} has no callback_data "
                                    "(URL/other buttons do not reach the bot)")
        data = button["callback_data"]
        label = f"button {button.get('text')!r}"
    rec = press_button(tg, user, chat, msg, data)
    if not await tg.wait_until(lambda: rec.answered, timeout):
        raise ControlError(504, f"bot did not answer callback query for {label} within {timeout}s",
                           {"transcript_tail": tail(tg, chat)})
    assert rec.answer is not None
    return rec.answer


@route("POST", "/chats/{chat_id}/messages/{message_id}/delete")
async def delete_as_person(tg: Telegram, request: web.Request) -> Any:
    _, msg = message_of(tg, request)
    if msg.deleted:
        raise ControlError(410, "message already deleted")
    msg.deleted = True  # Telegram does not tell bots about deletions
    tg.touch(msg)
    return tg.message_view(msg)


def _content(tg: Telegram, user: UserRec, b: dict[str, Any]) -> dict[str, Any]:
    kind = b.get("kind", "text")
    if kind == "text":
        if not isinstance(b.get("text"), str):
            raise ControlError(400, "text is required")
        return {"text": b["text"]}
    if kind == "contact":
        phone = str(b.get("phone_number") or "")
        if not phone:
            raise ControlError(400, "phone_number is required")
        own = bool(b.get("own", True))
        contact: dict[str, Any] = {"phone_number": phone,
                                   "first_name": b.get("first_name") or user.first_name}
        if b.get("last_name") or (own and user.last_name):
            contact["last_name"] = b.get("last_name") or user.last_name
        if own:
            contact["user_id"] = user.id
        return {"contact": contact}
    if kind == "location":
        try:
            lat, lon = float(b["latitude"]), float(b["longitude"])
        except (KeyError, TypeError, ValueError):
            raise ControlError(400, "latitude and longitude are required") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ControlError(400, "coordinates out of range")
        return {"location": {"latitude": lat, "longitude": lon}}
    if kind == "photo":
        try:
            data = base64.b64decode(b.get("data_b64") or "", validate=True)
        except ValueError:
            raise ControlError(400, "data_b64 must be base64") from None
        if not data:
            raise ControlError(400, "photo data is required")
        rec = tg.new_file(data, "photos", ".jpg", "image/jpeg")
        return {"photo": tg.photo_sizes(rec), "caption": b.get("caption")}
    if kind == "sticker":
        rec = tg.new_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", ".webp", "image/webp")
        return {"sticker": {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                            "type": "regular", "width": 512, "height": 512,
                            "is_animated": False, "is_video": False,
                            "emoji": b.get("emoji") or "👍", "file_size": len(rec.data)}}
    if kind == "voice":
        duration = as_int(b.get("duration", 2), "duration")
        rec = tg.new_file(b"OggS" + b"\x00" * 60, "voice", ".oga", "audio/ogg")
        return {"voice": {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                          "duration": duration, "mime_type": "audio/ogg",
                          "file_size": len(rec.data)}}
    raise ControlError(400, f"unknown message kind {kind!r}")


def _find_button(msg: MessageRec, wanted: str, context: list[dict[str, Any]]) -> dict[str, Any]:
    markup = msg.reply_markup or {}
    buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
    texts = [b.get("text", "") for b in buttons]
    exact = [b for b in buttons if b.get("text") == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = [b for b in buttons if wanted and wanted in b.get("text", "")]
    if len(exact) > 1 or len(partial) > 1:
        raise ControlError(409, f"button text {wanted!r} is ambiguous among {texts}")
    if partial:
        return partial[0]
    raise ControlError(404, f"message {msg.message_id} has no button {wanted!r}; buttons: {texts}",
                       {"transcript_tail": context})
