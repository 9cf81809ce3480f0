"""``/stats [today|week|month]``: the figures and a chart (authorised in bot/stats.py)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import stats
from handlers.common import services, who

__all__ = ["stats_cmd"]


async def stats_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await stats.stats_command(services(context), who(update), update.effective_chat.id, " ".join(context.args or []))
