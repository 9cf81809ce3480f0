"""``GET /healthz``: 200 while the bot serves, 503 otherwise (for a load balancer or systemd)."""
from __future__ import annotations

from aiohttp import web

from bot.web.common import APP_KEY, services

__all__ = ["add_routes"]


async def healthz(request: web.Request) -> web.Response:
    ok = services(request) is not None and request.app[APP_KEY].running
    return web.json_response({"ok": ok}, status=200 if ok else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
