"""``/queue``: the outbox at a glance for dispatch (authorised in bot/status.py)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import status
from handlers.common import services, who

__all__ = ["queue"]


async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await status.queue_command(services(context), who(update))
