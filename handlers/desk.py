"""The dispatch desk: ``/new`` (a complaint entered on a caller's behalf) and its buttons.
Replies to its questions in a group go through handlers.staff.group_reply; in a private chat,
through handlers.resident.message."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import newticket
from bot.callbacks import NewStep
from handlers.common import pressed_on, services, who

__all__ = ["new", "button"]


async def new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    await newticket.start(services(context), who(update), chat.id, chat.type == ChatType.PRIVATE)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    chat_id, _ = pressed_on(update)
    alert = await newticket.on_button(services(context), who(update), chat_id, NewStep.parse(query.data))
    await query.answer(alert, show_alert=bool(alert))
