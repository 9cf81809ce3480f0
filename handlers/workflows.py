"""Crew requests on a card (delay, return, coordination) and dispatch's decisions on them."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import workflows
from bot.callbacks import CardRequest, Decision
from handlers.common import pressed_on, services, who

__all__ = ["card_request", "decision"]


async def card_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    text = await workflows.on_button(services(context), who(update), CardRequest.parse(query.data), *pressed_on(update))
    await query.answer(text, show_alert=True)


async def decision(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    text = await workflows.on_decision(services(context), who(update), Decision.parse(query.data), *pressed_on(update))
    await query.answer(text, show_alert=True)
