"""Control API (``/_emu/...``): how tests play the humans and inspect the world.

All routes speak JSON. Misuse by a test (unknown user, pressing a missing
button, ...) answers 4xx with ``{"error": "..."}``; waits that expire answer
408 (no message) or 504 (callback query not answered) with context.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .botapi import new_callback_id
from .models import CallbackRec, ChatRec, ControlError, MessageRec, UserRec

if TYPE_CHECKING:
    from .server import Emulator

logger = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[Any]]


def _wrap(fn: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await fn(request)
        except ControlError as exc:
            return web.json_response({"error": exc.message, **exc.extra}, status=exc.status)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result)

    return handler


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise ControlError(400, "control API expects a JSON object body") from None
    if not isinstance(data, dict):
        raise ControlError(400, "control API expects a JSON object body")
    return data


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _user_json(user: UserRec) -> dict[str, Any]:
    return {**user.to_api(), "blocked": user.blocked, "started": user.started}


def _chat_json(chat: ChatRec) -> dict[str, Any]:
    return {"id": chat.id, "type": chat.type, "title": chat.title, "members": sorted(chat.members),
            "privacy": chat.privacy, "bot_admin": chat.bot_admin, "bot_status": chat.bot_status}


def setup_control_routes(emu: Emulator, app: web.Application) -> None:
    def route(verb: str, path: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            app.router.add_route(verb, "/_emu" + path, _wrap(fn))
            return fn

        return register

    def chat_of(request: web.Request) -> ChatRec:
        return emu.get_chat(_int(request.match_info["chat_id"], "chat_id"))

    def message_of(request: web.Request) -> tuple[ChatRec, MessageRec]:
        chat = chat_of(request)
        return chat, emu.get_message(chat, _int(request.match_info["message_id"], "message_id"))

    def tail(chat: ChatRec, n: int = 8) -> list[dict[str, Any]]:
        msgs = sorted(chat.messages.values(), key=lambda m: m.message_id)[-n:]
        return [emu.message_view(m) for m in msgs]

    @route("POST", "/users")
    async def create_user(request: web.Request) -> Any:
        b = await _body(request)
        user = emu.add_user(
            first_name=str(b.get("first_name") or ""),
            last_name=b.get("last_name"),
            username=b.get("username"),
            language_code=b.get("language_code"),
            user_id=_int(b["user_id"], "user_id") if b.get("user_id") is not None else None,
        )
        return _user_json(user)

    @route("POST", "/users/{user_id}/block")
    async def block(request: web.Request) -> Any:
        user = emu.get_user(_int(request.match_info["user_id"], "user_id"))
        if not user.blocked:
            user.blocked = True
            if user.started:
                emu.my_chat_member_update(emu.chats[user.id], user, "member", "kicked")
        return _user_json(user)

    @route("POST", "/users/{user_id}/unblock")
    async def unblock(request: web.Request) -> Any:
        user = emu.get_user(_int(request.match_info["user_id"], "user_id"))
        if user.blocked:
            user.blocked = False
            if user.started:
                emu.my_chat_member_update(emu.chats[user.id], user, "kicked", "member")
        return _user_json(user)

    @route("POST", "/groups")
    async def create_group(request: web.Request) -> Any:
        b = await _body(request)
        chat = emu.add_group(
            title=str(b.get("title") or "Group"),
            members=[_int(m, "member") for m in b.get("members") or []],
            chat_id=_int(b["chat_id"], "chat_id") if b.get("chat_id") is not None else None,
            privacy=bool(b.get("privacy", True)),
            bot_admin=bool(b.get("bot_admin", False)),
        )
        return _chat_json(chat)

    @route("POST", "/groups/{chat_id}/members")
    async def add_member(request: web.Request) -> Any:
        chat = chat_of(request)
        b = await _body(request)
        user = emu.get_user(_int(b.get("user_id"), "user_id"))
        chat.members.add(user.id)
        return _chat_json(chat)

    @route("POST", "/groups/{chat_id}/remove_bot")
    async def remove_bot(request: web.Request) -> Any:
        chat = chat_of(request)
        if chat.is_private:
            raise ControlError(400, "use block() for private chats")
        b = await _body(request)
        actor_id = b.get("by_user_id") or (min(chat.members) if chat.members else None)
        actor = emu.get_user(_int(actor_id, "by_user_id")) if actor_id else emu.bot_user
        if chat.bot_status == "member":
            chat.bot_status = "kicked"
            emu.my_chat_member_update(chat, actor, "member", "kicked")
        return _chat_json(chat)

    @route("POST", "/messages")
    async def send(request: web.Request) -> Any:
        b = await _body(request)
        user = emu.get_user(_int(b.get("user_id"), "user_id"))
        chat_id = _int(b["chat_id"], "chat_id") if b.get("chat_id") is not None else None
        reply_to = _int(b["reply_to"], "reply_to") if b.get("reply_to") is not None else None
        content = _content(emu, user, b)
        msg = emu.user_send(user.id, chat_id, content, reply_to=reply_to)
        return emu.message_view(msg)

    @route("POST", "/press")
    async def press(request: web.Request) -> Any:
        b = await _body(request)
        user = emu.get_user(_int(b.get("user_id"), "user_id"))
        chat = emu.get_chat(_int(b.get("chat_id"), "chat_id"))
        msg = emu.get_message(chat, _int(b.get("message_id"), "message_id"))
        timeout = float(b.get("timeout", 5.0))
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
        if b.get("data") is not None:
            # Raw callback data: a stale button from an older version of the message as an
            # out-of-date phone would still show it, or a forged client.
            data = str(b["data"])
            if not data:
                raise ControlError(400, "data must not be empty")
            label = f"data {data!r}"
        else:
            button = _find_button(msg, str(b.get("button", "")), tail(chat))
            if "callback_data" not in button:
                raise ControlError(400, f"button {button.get('text')!r} has no callback_data "
                                        "(URL/other buttons do not reach the bot)")
            data = button["callback_data"]
            label = f"button {button.get('text')!r}"
        rec = CallbackRec(id=new_callback_id(), user_id=user.id, chat_id=chat.id,
                          message_id=msg.message_id, data=data)
        emu.callbacks[rec.id] = rec
        update = emu.enqueue_update("callback_query", {
            "id": rec.id,
            "from": user.to_api(),
            "message": emu.message_to_api(msg),
            "chat_instance": emu.chat_instance(chat.id),
            "data": rec.data,
        })
        if update is None:
            raise ControlError(409, "callback_query updates are excluded by allowed_updates")
        if not await emu.wait_until(lambda: rec.answered, timeout):
            raise ControlError(504, f"bot did not answer callback query for {label} "
                                    f"within {timeout}s",
                               {"transcript_tail": tail(chat)})
        assert rec.answer is not None
        return rec.answer

    @route("GET", "/chats/{chat_id}")
    async def chat_info(request: web.Request) -> Any:
        chat = chat_of(request)
        return {**_chat_json(chat), "reply_keyboard": chat.reply_keyboard}

    @route("GET", "/chats/{chat_id}/messages")
    async def transcript(request: web.Request) -> Any:
        chat = chat_of(request)
        include_deleted = request.query.get("include_deleted", "0").lower() in ("1", "true")
        after = int(request.query.get("after", "0"))
        msgs = [emu.message_view(m) for m in sorted(chat.messages.values(), key=lambda m: m.message_id)
                if m.message_id > after and (include_deleted or not m.deleted)]
        return {"messages": msgs, "reply_keyboard": chat.reply_keyboard}

    @route("GET", "/chats/{chat_id}/messages/{message_id}")
    async def get_message(request: web.Request) -> Any:
        _, msg = message_of(request)
        return emu.message_view(msg)

    @route("POST", "/chats/{chat_id}/messages/{message_id}/delete")
    async def delete_as_person(request: web.Request) -> Any:
        _, msg = message_of(request)
        if msg.deleted:
            raise ControlError(410, "message already deleted")
        msg.deleted = True  # Telegram does not tell bots about deletions
        emu.notify()
        return emu.message_view(msg)

    @route("POST", "/chats/{chat_id}/wait_message")
    async def wait_message(request: web.Request) -> Any:
        chat = chat_of(request)
        b = await _body(request)
        after = _int(b.get("after", 0), "after")
        timeout = float(b.get("timeout", 5.0))
        from_bot = bool(b.get("from_bot", True))

        def found() -> MessageRec | None:
            # Message ids are contiguous per chat, so only the new ones are scanned.
            for mid in range(max(after, 0) + 1, chat.next_message_id):
                m = chat.messages.get(mid)
                if m is not None and (m.from_bot or not from_bot):
                    return m
            return None

        if not await emu.wait_until(lambda: found() is not None, timeout):
            raise ControlError(408, f"no new bot message in chat {chat.id} within {timeout}s",
                               {"transcript_tail": tail(chat)})
        msg = found()
        assert msg is not None
        return emu.message_view(msg)

    @route("POST", "/chats/{chat_id}/messages/{message_id}/wait_edited")
    async def wait_edited(request: web.Request) -> Any:
        chat, msg = message_of(request)
        b = await _body(request)
        version = _int(b.get("version", msg.version), "version")
        timeout = float(b.get("timeout", 5.0))
        if not await emu.wait_until(lambda: msg.version > version, timeout):
            raise ControlError(408, f"message {msg.message_id} was not edited within {timeout}s "
                                    f"(still version {msg.version})",
                               {"transcript_tail": tail(chat)})
        return emu.message_view(msg)

    @route("GET", "/calls")
    async def calls(request: web.Request) -> Any:
        method = request.query.get("method")
        return [c.to_json() for c in emu.calls
                if method is None or c.method.lower() == method.lower()]

    @route("GET", "/updates")
    async def pending_updates(request: web.Request) -> Any:
        return emu.updates

    @route("GET", "/files/{file_id}")
    async def file_bytes(request: web.Request) -> Any:
        rec = emu.files.get(request.match_info["file_id"])
        if rec is None:
            raise ControlError(404, "unknown file_id")
        return web.Response(body=rec.data, content_type=rec.mime_type or "application/octet-stream")

    @route("POST", "/flood")
    async def flood(request: web.Request) -> Any:
        b = await _body(request)
        try:
            cfg = emu.flood.configure(**b)
        except (ValueError, TypeError) as exc:
            raise ControlError(400, str(exc)) from None
        return vars(cfg)

    @route("POST", "/force_429")
    async def force_429(request: web.Request) -> Any:
        b = await _body(request)
        chat = emu.get_chat(_int(b.get("chat_id"), "chat_id"))
        retry_after = _int(b.get("retry_after", 30), "retry_after")
        if retry_after < 1:
            raise ControlError(400, "retry_after must be >= 1")
        emu.flood.force(chat.id, retry_after)
        return {"chat_id": chat.id, "retry_after": retry_after}

    @route("POST", "/faults")
    async def faults(request: web.Request) -> Any:
        b = await _body(request)
        try:
            rule = emu.faults.add(str(b.get("kind")), _int(b.get("count", 1), "count"),
                                  b.get("methods"), bool(b.get("files", False)))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return {"kind": rule.kind, "count": rule.remaining,
                "methods": sorted(rule.methods) if rule.methods else None}

    @route("DELETE", "/faults")
    async def clear_faults(request: web.Request) -> Any:
        emu.faults.clear()
        return {"cleared": True}

    @route("GET", "/stats")
    async def stats(request: web.Request) -> Any:
        return {
            "flood_429": emu.flood.refused,
            "pending_updates": len(emu.updates),
            "calls": len(emu.calls),
            "webhook_url": emu.webhook.get("url", ""),
            "pending_faults": sum(r.remaining for r in emu.faults.rules),
        }

    @route("POST", "/reset")
    async def reset(request: web.Request) -> Any:
        await emu.reset()
        return {"reset": True}


def _content(emu: Emulator, user: UserRec, b: dict[str, Any]) -> dict[str, Any]:
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
        rec = emu.new_file(data, "photos", ".jpg", "image/jpeg")
        return {"photo": emu.photo_sizes(rec), "caption": b.get("caption")}
    if kind == "sticker":
        rec = emu.new_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", ".webp", "image/webp")
        return {"sticker": {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                            "type": "regular", "width": 512, "height": 512,
                            "is_animated": False, "is_video": False,
                            "emoji": b.get("emoji") or "👍", "file_size": len(rec.data)}}
    if kind == "voice":
        duration = _int(b.get("duration", 2), "duration")
        rec = emu.new_file(b"OggS" + b"\x00" * 60, "voice", ".oga", "audio/ogg")
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
