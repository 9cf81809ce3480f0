"""Crews and dispatchers: card buttons, notes as replies to a card, ``/ticket N``."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import desk, workflows
from handlers.common import services, who

__all__ = ["card_button", "card_reply", "ticket"]


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, ticket_id, action = (query.data.split(":") + ["", ""])[:3]
    alert = await desk.press(
        services(context), who(update), int(ticket_id) if ticket_id.isdigit() else -1, action,
        query.message.chat.id if query.message else 0, query.message.message_id if query.message else 0,
    )
    await query.answer(alert, show_alert=True)


async def card_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg.reply_to_message.from_user is None or msg.reply_to_message.from_user.id != context.bot.id:
        return  # people talking to each other in the group; not for us
    await workflows.on_reply(services(context), who(update), msg.chat.id, msg.reply_to_message.message_id, msg.text or msg.caption or "")


async def ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    number = (context.args or [""])[0].lstrip("#")
    chat = update.effective_chat
    await desk.ticket_history(services(context), who(update), chat.id, chat.type == ChatType.PRIVATE, number)
