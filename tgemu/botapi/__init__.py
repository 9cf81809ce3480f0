"""Bot API endpoints: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

A request with another token than the emulator's is answered as Telegram answers it:
``401 {"ok": false, "error_code": 401, "description": "Unauthorized"}``. Injected faults
(:class:`~tgemu.limits.FaultInjector`) are applied here, before the method runs.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..core import Telegram
from ..models import ApiError
from . import chats, messages, session  # noqa: F401 - importing registers their methods
from .params import read_params
from .registry import CANONICAL, METHODS

logger = logging.getLogger(__name__)

__all__ = ["handle_bot_request", "handle_file_request"]


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def err(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.status)


async def _apply_fault(tg: Telegram, request: web.Request, kind: str) -> web.StreamResponse:
    if kind == "500":
        return err(ApiError(500, "Internal Server Error"))
    if kind == "502":
        return err(ApiError(502, "Bad Gateway"))
    if kind == "hang":
        # Hold this request only; other requests are served concurrently.
        await tg.sleep_or_stop(tg.hang_seconds)
    # "drop" (and a hang that ends): close the connection without an answer.
    if request.transport is not None:
        request.transport.close()
    raise _Dropped()


class _Dropped(Exception):
    pass


async def handle_bot_request(tg: Telegram, request: web.Request) -> web.StreamResponse:
    if not tg.token_matches(request.match_info["token"]):
        return err(ApiError(401, "Unauthorized"))
    method_name = request.match_info["method"]
    handler = METHODS.get(method_name.lower())
    if handler is None:
        tg.record_call(method_name, {}, 404, "Not Found")
        return err(ApiError(404, "Not Found"))
    canonical = CANONICAL[method_name.lower()]
    try:
        params = await read_params(request)
    except ApiError as exc:
        tg.record_call(canonical, {}, exc.status, exc.description)
        return err(exc)
    fault = tg.faults.take(canonical)
    if fault == "garbled":
        return await _garbled(tg, canonical, params, handler)
    if fault is not None:
        logger.info("injecting fault %s into %s", fault, canonical)
        status = int(fault) if fault.isdigit() else 0
        tg.record_call(canonical, params.summary(), status, f"fault: {fault}")
        try:
            return await _apply_fault(tg, request, fault)
        except _Dropped:
            # Returning a response to a closed transport is harmless; aiohttp discards it.
            return web.Response(status=500)
    try:
        result = await handler(tg, params)
    except ApiError as exc:
        tg.record_call(canonical, params.summary(), exc.status, exc.description)
        return err(exc)
    tg.record_call(canonical, params.summary(), 200, None)
    return ok(result)


async def _garbled(tg: Telegram, canonical: str, params: Any, handler: Any) -> web.Response:
    """Carry the method out, then answer 200 with a result whose ``date`` is not a number."""
    try:
        result = await handler(tg, params)
    except ApiError as exc:
        tg.record_call(canonical, params.summary(), exc.status, exc.description)
        return err(exc)
    tg.record_call(canonical, params.summary(), 200, "fault: garbled")
    if isinstance(result, dict):
        result = {**result, "date": "garbled"}
    return ok(result)


async def handle_file_request(tg: Telegram, request: web.Request) -> web.StreamResponse:
    if not tg.token_matches(request.match_info["token"]):
        return err(ApiError(401, "Unauthorized"))
    fault = tg.faults.take("file", is_file=True)
    if fault is not None:
        try:
            return await _apply_fault(tg, request, fault)
        except _Dropped:
            return web.Response(status=500)
    rec = tg.files_by_path.get(request.match_info["path"])
    if rec is None:
        return err(ApiError(404, "Not Found"))
    return web.Response(body=rec.data, content_type=rec.mime_type or "application/octet-stream")


