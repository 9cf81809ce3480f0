"""A round-robin load balancer for webhooks, as a company would put in front of several
heatbot instances: each POST to the next instance in turn; one that does not answer (killed,
not started yet) is skipped, and if none answers the update gets a 502, which Telegram (the
emulator) delivers again. Test and benchmark tooling, like the emulator."""
from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
from aiohttp import web

__all__ = ["RoundRobin"]


class RoundRobin:
    """Forwards ``/telegram`` POSTs to ``http://127.0.0.1:PORT/telegram`` for each port in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.handled: Counter[int] = Counter()      # updates each instance answered
        self._next = 0
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/telegram", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        for _ in self.ports:
            port = self.ports[self._next % len(self.ports)]
            self._next += 1
            try:
                assert self._session is not None
                async with self._session.post(f"http://127.0.0.1:{port}/telegram", data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status == 200:
                        self.handled[port] += 1
                        return web.Response(status=200)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                continue
        return web.Response(status=502)
