"""The emulator as a server: the world (:class:`~tgemu.core.Telegram`), the Bot API and control
routes on one aiohttp app, and webhook delivery.

The Bot API side answers only the emulator's token (``123456:TEST-TOKEN`` unless another is
given); any other token gets Telegram's own ``401 Unauthorized``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web

from .botapi import handle_bot_request, handle_file_request
from .control import PREFIX, add_control_routes
from .core import DEFAULT_TOKEN, Telegram
from .webhook import WebhookPusher

logger = logging.getLogger(__name__)

__all__ = ["Emulator", "run_standalone"]


class Emulator:
    """A strict, local Telegram Bot API server for one bot token."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_username: str = "heatbot_bot",
                 clock: Callable[[], float] = time.time, *, bot_first_name: str = "HeatBot",
                 webhook_retry_delay: float = 0.2, hang_seconds: float = 60.0) -> None:
        self.telegram = Telegram(token, bot_username, clock, bot_first_name=bot_first_name,
                                 hang_seconds=hang_seconds)
        self._webhooks = WebhookPusher(self.telegram, webhook_retry_delay)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

    @property
    def webhook_retry_delay(self) -> float:
        return self._webhooks.retry_delay

    @webhook_retry_delay.setter
    def webhook_retry_delay(self, seconds: float) -> None:
        self._webhooks.retry_delay = seconds

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base_url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}{PREFIX}"

    def build_app(self) -> web.Application:
        tg = self.telegram
        app = web.Application(client_max_size=60 * 1024 * 1024)

        async def bot_route(request: web.Request) -> web.StreamResponse:
            return await handle_bot_request(tg, request)

        async def file_route(request: web.Request) -> web.StreamResponse:
            return await handle_file_request(tg, request)

        app.router.add_route("*", "/bot{token}/{method}", bot_route)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", file_route)
        add_control_routes(app, tg)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self.telegram.begin()
        self._host = host
        # access_log=None: the request line contains the bot token.
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # noqa: SLF001 - only way to learn the port chosen for port=0
        assert server is not None and server.sockets
        self._port = int(server.sockets[0].getsockname()[1])
        self._webhooks.start()
        logger.info("Telegram emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        self.telegram.stop_waiting()  # long polls and waiters answer now
        await self._webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        logger.info("Telegram emulator stopped")


async def run_standalone(host: str, port: int, token: str = DEFAULT_TOKEN) -> None:
    """Start an emulator and serve until cancelled (Ctrl-C). Prints the URLs, never the token."""
    emu = Emulator(token=token)
    await emu.start(host=host, port=port)
    print(f"Bot API base_url:      {emu.api_base_url}")
    print(f"Bot API base_file_url: {emu.file_base_url}")
    print(f"Control API:           {emu.control_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
