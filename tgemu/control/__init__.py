"""Control API (``/_emu/...``): how tests play the humans and inspect the world.

A route table of small handlers (:data:`.common.ROUTES`), one per route, each in the module of
its kind: :mod:`.world` (users, groups), :mod:`.actions` (what a person does), :mod:`.observe`
(transcripts, waits, the call log), :mod:`.admin` (flood limits, faults, reset).

All routes speak JSON. Misuse by a test (unknown user, pressing a missing button, ...) answers
4xx with ``{"error": "..."}``; waits that expire answer 408 (no message) or 504 (callback query
not answered) with the chat's last messages as context.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..core import Telegram
from ..models import ControlError
from . import actions, admin, observe, world  # noqa: F401 - importing registers their routes
from .common import ROUTES, Route

logger = logging.getLogger(__name__)

__all__ = ["add_control_routes", "PREFIX"]

PREFIX = "/_emu"


def _serve(tg: Telegram, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await route.handler(tg, request)
        except ControlError as exc:
            return web.json_response({"error": exc.message, **exc.extra}, status=exc.status)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result)

    return handler


def add_control_routes(app: web.Application, tg: Telegram) -> None:
    for route in ROUTES:
        app.router.add_route(route.verb, PREFIX + route.path, _serve(tg, route))
