"""Outage notices (issue 6): /outage for dispatch, /subscribe /unsubscribe /outages for
residents, the ``o:`` buttons, and replies in groups to the bot's outage questions and notices."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import outages
from handlers.common import services, who

__all__ = ["outage", "subscribe", "unsubscribe", "list_outages", "button", "group_reply"]


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
    msg = query.message
    alert = await outages.on_button(services(context), who(update), query.data, msg.chat.id if msg else 0, msg.message_id if msg else 0)
    await query.answer(alert, show_alert=bool(alert))


async def group_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before the tickets' reply handler (handler group -1): stops it when the reply was ours."""
    msg = update.effective_message
    replied = msg.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    photo = msg.photo[-1].file_id if msg.photo else None
    if await outages.on_reply(services(context), who(update), msg.chat.id, replied.message_id, msg.text or msg.caption or "", photo):
        raise ApplicationHandlerStop
