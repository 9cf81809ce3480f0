"""What the web server's areas share: typed keys into the aiohttp app, the bot's services."""
from __future__ import annotations

from aiohttp import web
from telegram.ext import Application

from bot.services import Services
from rules.desk import RateLimiter

__all__ = ["APP_KEY", "WEBHOOK_SECRET_KEY", "LIMITER_KEY", "services"]

APP_KEY = web.AppKey("ptb_application", Application)
WEBHOOK_SECRET_KEY = web.AppKey("webhook_secret", object)
LIMITER_KEY = web.AppKey("open311_limiter", RateLimiter)


def services(request: web.Request) -> Services | None:
    """The bot's services; None before start-up has finished (or after stop began)."""
    return request.app[APP_KEY].bot_data.get("svc")
