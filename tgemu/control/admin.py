"""Control routes that bend the world: flood limits, forced 429s, injected faults, reset."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ControlError
from .common import as_int, body, route

__all__: list[str] = []


@route("POST", "/flood")
async def flood(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    try:
        cfg = tg.flood.configure(**b)
    except (ValueError, TypeError) as exc:
        raise ControlError(400, str(exc)) from None
    return vars(cfg)


@route("POST", "/force_429")
async def force_429(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    chat = tg.get_chat(as_int(b.get("chat_id"), "chat_id"))
    retry_after = as_int(b.get("retry_after", 30), "retry_after")
    if retry_after < 1:
        raise ControlError(400, "retry_after must be >= 1")
    tg.flood.force(chat.id, retry_after)
    return {"chat_id": chat.id, "retry_after": retry_after}


@route("POST", "/faults")
async def faults(tg: Telegram, request: web.Request) -> Any:
    b = await body(request)
    try:
        rule = tg.faults.add(str(b.get("kind")), as_int(b.get("count", 1), "count"),
                             b.get("methods"), bool(b.get("files", False)))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return {"kind": rule.kind, "count": rule.remaining,
            "methods": sorted(rule.methods) if rule.methods else None}


@route("DELETE", "/faults")
async def clear_faults(tg: Telegram, request: web.Request) -> Any:
    tg.faults.clear()
    return {"cleared": True}


@route("POST", "/reset")
async def reset(tg: Telegram, request: web.Request) -> Any:
    tg.reset()
    return {"reset": True}
