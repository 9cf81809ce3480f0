"""The bot's one web server: the Telegram webhook (when WEBHOOK_URL is set), the Open311 API,
``/healthz``, ``/metrics`` and the dispatch board (``/board/``).

One aiohttp server in the bot's process, started and stopped by :func:`bot.app.start` and
:func:`bot.app.stop`, so the API files tickets through the same code, database and sender as
the bot. Each area adds its routes in its own module.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from telegram.ext import Application

from bot.web import board, health, metrics, open311, telegram_hook
from bot.web.common import APP_KEY, LIMITER_KEY, WEBHOOK_SECRET_KEY

__all__ = ["Listen", "WebServer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listen:
    """Where the web server listens."""
    host: str
    port: int


class WebServer:
    def __init__(self, app: Application, listen: Listen, *, webhook_path: str | None = None,
                 webhook_secret: str | None = None) -> None:
        self.listen = listen
        # aiohttp's own cap (1 MiB) stays for Telegram's updates; the API reads at most 64 KiB.
        self.web = web.Application()
        self.web[APP_KEY] = app
        self.web[WEBHOOK_SECRET_KEY] = webhook_secret
        self.web[LIMITER_KEY] = open311.new_limiter()
        health.add_routes(self.web)
        metrics.add_routes(self.web)
        open311.add_routes(self.web)
        board.add_routes(self.web, app.bot_data.get("public_url"))
        if webhook_path is not None:
            telegram_hook.add_routes(self.web, webhook_path)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and serve; an ``OSError`` (port in use, address not ours) reaches the caller."""
        # access_log off: request lines carry the api_key in GET query strings.
        self._runner = web.AppRunner(self.web, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen.host, self.listen.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        log.debug("web server listening on %s:%s", self.listen.host, self.listen.port)

    @property
    def port(self) -> int:
        """The port it listens on: the one asked for, or the one the system chose for port 0."""
        if self._runner is None or not self._runner.addresses:
            return self.listen.port
        return int(self._runner.addresses[0][1])

    @property
    def url(self) -> str:
        """Where this server answers, as a browser on this machine reaches it."""
        host = "127.0.0.1" if self.listen.host in ("0.0.0.0", "::", "") else self.listen.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
