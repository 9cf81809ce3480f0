"""Control routes that set up the world: users, groups, who is in them, blocking the bot."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ControlError
from ..people import user_entities
from .common import as_int, body, chat_json, chat_of, optional_int, route, user_json

__all__: list[str] = []


@route("POST", "/users")
async def create_user(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    user = tg.add_user(first_name=str(b.get("first_name") or ""), last_name=b.get("last_name"),
                       username=b.get("username"), language_code=b.get("language_code"),
                       user_id=optional_int(b, "user_id"))
    return user_json(user)


@route("POST", "/users/{user_id}/block")
async def block(tg: Telegram, request: web.Request) -> Any:
    user = tg.get_user(as_int(request.match_info["user_id"], "user_id"))
    if not user.blocked:
        user.blocked = True
        if user.started:
            tg.my_chat_member_update(tg.chats[user.id], user, "member", "kicked")
    return user_json(user)


@route("POST", "/users/{user_id}/unblock")
async def unblock(tg: Telegram, request: web.Request) -> Any:
    user = tg.get_user(as_int(request.match_info["user_id"], "user_id"))
    if user.blocked:
        user.blocked = False
        if user.started:
            tg.my_chat_member_update(tg.chats[user.id], user, "kicked", "member")
    return user_json(user)


@route("POST", "/groups")
async def create_group(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    chat = tg.add_group(title=str(b.get("title") or "Group"),
                        members=[as_int(m, "member") for m in b.get("members") or []],
                        chat_id=optional_int(b, "chat_id"), privacy=bool(b.get("privacy", True)),
                        bot_admin=bool(b.get("bot_admin", False)))
    return chat_json(chat)


@route("POST", "/groups/{chat_id}/members")
async def add_member(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    b = await body(request)
    chat.members.add(tg.get_user(as_int(b.get("user_id"), "user_id")).id)
    return chat_json(chat)


@route("POST", "/groups/{chat_id}/remove_bot")
async def remove_bot(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    if chat.is_private:
        raise ControlError(400, "use block() for private chats")
    b = await body(request)
    actor_id = b.get("by_user_id") or (min(chat.members) if chat.members else None)
    actor = tg.get_user(as_int(actor_id, "by_user_id")) if actor_id else tg.bot_user
    if chat.bot_status == "member":
        chat.bot_status = "kicked"
        tg.my_chat_member_update(chat, actor, "member", "kicked")
    return chat_json(chat)


@route("POST", "/groups/{chat_id}/upgrade")
async def upgrade_group(tg: Telegram, request: web.Request) -> Any:
    """Upgrade a basic group to a supergroup; answers the new supergroup."""
    chat = chat_of(tg, request)
    b = await body(request)
    new = tg.upgrade_group(chat.id, optional_int(b, "by_user_id"), announce=bool(b.get("announce", True)))
    return chat_json(new)


@route("POST", "/channels")
async def create_channel(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    chat = tg.add_channel(str(b.get("title") or "Channel"), optional_int(b, "chat_id"), bot_admin=bool(b.get("bot_admin", True)))
    return chat_json(chat)


@route("POST", "/channels/{chat_id}/posts")
async def post_in_channel(tg: Telegram, request: web.Request) -> Any:
    chat = chat_of(tg, request)
    b = await body(request)
    if not isinstance(b.get("text"), str):
        raise ControlError(400, "text is required")
    return tg.message_view(tg.channel_post(chat.id, b["text"], user_entities(b["text"])))
