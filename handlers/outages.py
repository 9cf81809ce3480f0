"""Outage notices: /outage for dispatch, /subscribe /unsubscribe /outages for residents, the
``o:`` buttons. Replies in groups go through handlers.staff.group_reply."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import outages
from bot.callbacks import Subscribe, parse_outage
from handlers.common import pressed_on, private_only, services, who

__all__ = ["outage", "subscribe", "unsubscribe", "list_outages", "button"]


async def outage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await outages.start_wizard(services(context), who(update), update.effective_chat.id)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await outages.subscribe(services(context), who(update), " ".join(context.args or []))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await outages.unsubscribe(services(context), who(update))


async def list_outages(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await outages.list_outages(services(context), who(update))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    data = parse_outage(query.data)
    if isinstance(data, Subscribe) and await private_only(update, context):    # a resident's button
        return
    alert = await outages.on_button(services(context), who(update), data, *pressed_on(update))
    await query.answer(alert, show_alert=bool(alert))
