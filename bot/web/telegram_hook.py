"""The Telegram webhook as a route of the bot's web server: Telegram POSTs each update here.

The secret header is checked first (``setWebhook``'s ``secret_token``: Telegram sends it in
``X-Telegram-Bot-Api-Secret-Token``), so a forged update from anyone who can reach the port is
refused with 403 before it is read. An accepted update is handled by the Application's update
processor, as a polled one is, and answered 200 once it has been handled.
"""
from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.web.common import APP_KEY, WEBHOOK_SECRET_KEY

__all__ = ["add_routes", "SECRET_HEADER"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def receive(request: web.Request) -> web.Response:
    secret = request.app[WEBHOOK_SECRET_KEY]
    if secret is not None and not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), str(secret)):
        return web.Response(status=403)
    app = request.app[APP_KEY]
    try:
        data = json.loads(await request.read())
        update = Update.de_json(data, app.bot)
    except (ValueError, TypeError, KeyError):
        log.warning("the webhook received a body that is not an update; answered 400")
        return web.Response(status=400)
    if update is None:
        return web.Response(status=400)
    if not app.running:
        return web.Response(status=503)     # starting or stopping: Telegram delivers it again
    # Answered once handled, not once queued: an instance killed while handling an update never
    # answers, and Telegram delivers it again (behind a load balancer, to another instance), so
    # a crash loses no update. Handled as long polling's are (bot/updates.py: chat order).
    await app.update_processor.process_update(update, app.process_update(update))
    return web.Response(status=200)


def add_routes(app: web.Application, path: str) -> None:
    app.router.add_post("/" + path.strip("/"), receive)
