"""Counts every update the bot handles, for ``/metrics`` (bot/vitals.py)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.vitals import vitals_of

__all__ = ["count_update"]


async def count_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    vitals_of(context.bot_data).updates += 1
