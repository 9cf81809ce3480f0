"""Shift handover: the incoming crew's "已接班" press (bot/handover.py)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import handover
from bot.callbacks.roster import HandoverAck
from handlers.common import pressed_on, services, who

__all__ = ["handover_ack"]


async def handover_ack(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    text = await handover.acknowledge(services(context), who(update), HandoverAck.parse(query.data), *pressed_on(update))
    await query.answer(text, show_alert=True)
