"""``/board`` in a private chat: a one-time login link to the dispatch board (bot/board.py)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import board
from handlers.common import services, who

__all__ = ["board_cmd"]


async def board_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await board.send_login_link(services(context), who(update), context.bot_data.get("board_url"))
