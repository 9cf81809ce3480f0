"""Webhook delivery: POST each pending update to the bot's webhook, in order, retrying on failure.

The pusher watches the world's state instead of being told: setWebhook and deleteWebhook only
change :attr:`Telegram.webhook`, so the Bot API side never needs a handle on this task.
"""
from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from .core import Telegram

logger = logging.getLogger(__name__)

__all__ = ["WebhookPusher"]


class WebhookPusher:
    def __init__(self, tg: Telegram, retry_delay: float = 0.2) -> None:
        self.tg = tg
        self.retry_delay = retry_delay
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._run(), name="emu-webhook")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ready(self) -> bool:
        return bool(self.tg.webhook.get("url")) and bool(self.tg.updates)

    async def _run(self) -> None:
        tg = self.tg
        while not tg.stopping:
            if not self._ready():
                await tg.wait_until(self._ready, 30)
                continue
            update, url = tg.updates[0], tg.webhook["url"]
            error = await self._post(url, update)
            if error is None:
                if tg.updates and tg.updates[0] is update:
                    tg.updates.pop(0)
                tg.notify()
            else:
                logger.info("webhook delivery of update %s failed: %s", update["update_id"], error)
                tg.webhook_error = (tg.now(), error)
                await tg.sleep_or_stop(self.retry_delay)

    async def _post(self, url: str, update: dict) -> str | None:
        headers = {"Content-Type": "application/json"}
        if self.tg.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.tg.webhook["secret_token"]
        assert self._session is not None
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connection refused, timeouts, ...
            return f"Connection error: {type(exc).__name__}"
        return None
