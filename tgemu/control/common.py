"""The control API's route table and what its handlers share: JSON bodies, ids, renderings."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ChatRec, ControlError, MessageRec, UserRec

logger = logging.getLogger(__name__)

__all__ = ["Route", "ROUTES", "route", "body", "as_int", "optional_int", "user_json", "chat_json", "chat_of",
           "message_of", "tail"]

Handler = Callable[[Telegram, web.Request], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    verb: str
    path: str          # below /_emu
    handler: Handler


ROUTES: list[Route] = []


def route(verb: str, path: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append(Route(verb, path, fn))
        return fn

    return register


async def body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise ControlError(400, "control API expects a JSON object body") from None
    if not isinstance(data, dict):
        raise ControlError(400, "control API expects a JSON object body")
    return data


def as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def optional_int(b: dict[str, Any], name: str) -> int | None:
    return as_int(b[name], name) if b.get(name) is not None else None


def user_json(user: UserRec) -> dict[str, Any]:
    return {**user.to_api(), "blocked": user.blocked, "started": user.started}


def chat_json(chat: ChatRec) -> dict[str, Any]:
    return {"id": chat.id, "type": chat.type, "title": chat.title, "members": sorted(chat.members),
            "privacy": chat.privacy, "bot_admin": chat.bot_admin, "bot_status": chat.bot_status}


def chat_of(tg: Telegram, request: web.Request) -> ChatRec:
    return tg.get_chat(as_int(request.match_info["chat_id"], "chat_id"))


def message_of(tg: Telegram, request: web.Request) -> tuple[ChatRec, MessageRec]:
    chat = chat_of(tg, request)
    return chat, tg.get_message(chat, as_int(request.match_info["message_id"], "message_id"))


def tail(tg: Telegram, chat: ChatRec, n: int = 8) -> list[dict[str, Any]]:
    """The chat's last messages, attached to an error so a failing test shows the context."""
    msgs = sorted(chat.messages.values(), key=lambda m: m.message_id)[-n:]
    return [tg.message_view(m) for m in msgs]
