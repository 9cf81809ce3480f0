"""Crews and dispatchers: card buttons, replies to the bot in a group, ``/ticket N``."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import desk, replies
from bot.callbacks import CardPress, parse_number
from handlers.common import pressed_on, services, who

__all__ = ["card_button", "group_reply", "ticket"]


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    alert = await desk.press(services(context), who(update), CardPress.parse(query.data), *pressed_on(update))
    await query.answer(alert, show_alert=True)


async def group_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to one of the bot's messages in a group: an answer, a notice's photo, a card note."""
    msg = update.effective_message
    replied = msg.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return  # people talking to each other in the group; not for us
    photo = msg.photo[-1].file_id if msg.photo else None
    await replies.on_reply(services(context), who(update), msg.chat.id, replied.message_id, msg.text or msg.caption or "", photo)


async def ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    typed = (context.args or [""])[0]
    chat = update.effective_chat
    await desk.ticket_history(services(context), who(update), chat.id, chat.type == ChatType.PRIVATE, parse_number(typed), typed)
