"""Crew requests on a card (delay, return, coordination) and dispatch's decisions on them."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import workflows
from handlers.common import services, who

__all__ = ["card_request", "decision"]


def _parts(data: str) -> tuple[int, str]:
    _, ident, action = (data.split(":") + ["", ""])[:3]
    return (int(ident) if ident.isdigit() else -1), action


async def card_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    ticket_id, action = _parts(query.data)
    text = await workflows.on_button(services(context), who(update), ticket_id, action,
                                     query.message.chat.id if query.message else 0, query.message.message_id if query.message else 0)
    await query.answer(text, show_alert=True)


async def decision(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    request_id, choice = _parts(query.data)
    text = await workflows.on_decision(services(context), who(update), request_id, choice,
                                       query.message.chat.id if query.message else 0, query.message.message_id if query.message else 0)
    await query.answer(text, show_alert=True)
