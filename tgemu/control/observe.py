"""Control routes that look at the world: transcripts, waits for the bot, the call log."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ControlError, MessageRec
from .common import as_int, body, chat_json, chat_of, message_of, route, tail

__all__: list[str] = []


@route("GET", "/chats/{chat_id}")
async def chat_info(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    return {**chat_json(chat), "reply_keyboard": chat.reply_keyboard}


@route("GET", "/chats/{chat_id}/messages")
async def transcript(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    include_deleted = request.query.get("include_deleted", "0").lower() in ("1", "true")
    after = as_int(request.query.get("after", "0"), "after")
    msgs = [tg.message_view(m) for m in sorted(chat.messages.values(), key=lambda m: m.message_id)
            if m.message_id > after and (include_deleted or not m.deleted)]
    return {"messages": msgs, "reply_keyboard": chat.reply_keyboard}


@route("GET", "/chats/{chat_id}/messages/{message_id}")
async def get_message(tg: Telegram, request: web.Request) -> Any:
    _, msg = message_of(tg, request)
    return tg.message_view(msg)


@route("GET", "/activity")
async def activity(tg: Telegram, request: web.Request) -> Any:
    """Every message, in any chat, sent, edited or deleted since sequence number ``after``, in
    the order of those changes (each message once, as it is now), and the latest number."""
    after = as_int(request.query.get("after", "0"), "after")
    changed = [m for chat in tg.chats.values() for m in chat.messages.values() if m.seq > after]
    changed.sort(key=lambda m: m.seq)
    return {"seq": tg.last_seq, "messages": [tg.message_view(m) for m in changed]}


@route("POST", "/chats/{chat_id}/wait_message")
async def wait_message(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    b = await body(request)
    after = as_int(b.get("after", 0), "after")
    timeout = float(b.get("timeout", 5.0))
    from_bot = bool(b.get("from_bot", True))

    def found() -> MessageRec | None:
        # Message ids are contiguous per chat, so only the new ones are scanned.
        for mid in range(max(after, 0) + 1, chat.next_message_id):
            m = chat.messages.get(mid)
            if m is not None and (m.from_bot or not from_bot):
                return m
        return None

    if not await tg.wait_until(lambda: found() is not None, timeout, chat_id=chat.id):
        raise ControlError(408, f"no new bot message in chat {chat.id} within {timeout}s",
                           {"transcript_tail": tail(tg, chat)})
    msg = found()
    assert msg is not None
    return tg.message_view(msg)


@route("POST", "/chats/{chat_id}/messages/{message_id}/wait_edited")
async def wait_edited(tg: Telegram, request: web.Request) -> Any:
    chat, msg = message_of(tg, request)
    b = await body(request)
    version = as_int(b.get("version", msg.version), "version")
    timeout = float(b.get("timeout", 5.0))
    if not await tg.wait_until(lambda: msg.version > version, timeout, chat_id=chat.id):
        raise ControlError(408, f"message {msg.message_id} was not edited within {timeout}s "
                                f"(still version {msg.version})",
                           {"transcript_tail": tail(tg, chat)})
    return tg.message_view(msg)


@route("GET", "/calls")
async def calls(tg: Telegram, request: web.Request) -> Any:
    method = request.query.get("method")
    return [c.to_json() for c in tg.calls if method is None or c.method.lower() == method.lower()]


@route("GET", "/updates")
async def pending_updates(tg: Telegram, request: web.Request) -> Any:
    return tg.updates


@route("GET", "/files/{file_id}")
async def file_bytes(tg: Telegram, request: web.Request) -> Any:
    rec = tg.files.get(request.match_info["file_id"])
    if rec is None:
        raise ControlError(404, "unknown file_id")
    return web.Response(body=rec.data, content_type=rec.mime_type or "application/octet-stream")


@route("GET", "/stats")
async def stats(tg: Telegram, request: web.Request) -> Any:
    return {
        "flood_429": tg.flood.refused,
        "pending_updates": len(tg.updates),
        "calls": len(tg.calls),
        "webhook_url": tg.webhook.get("url", ""),
        "pending_faults": sum(r.remaining for r in tg.faults.rules),
    }
