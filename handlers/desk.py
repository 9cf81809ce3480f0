"""The dispatch desk: ``/new`` (a complaint entered on a caller's behalf), ``/register`` (praise,
criticism, press reports) and their buttons.
Replies to its questions in a group go through handlers.staff.group_reply; in a private chat,
through handlers.resident.message."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import newticket, register
from bot.callbacks import NewStep, RegisterStep
from handlers.common import pressed_on, services, who

__all__ = ["new", "button", "register_cmd", "register_button"]


async def new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    await newticket.start(services(context), who(update), chat.id, chat.type == ChatType.PRIVATE)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    chat_id, _ = pressed_on(update)
    alert = await newticket.on_button(services(context), who(update), chat_id, NewStep.parse(query.data))
    await query.answer(alert, show_alert=bool(alert))


async def register_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    await register.show(services(context), who(update), chat.id, chat.type == ChatType.PRIVATE)


async def register_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    chat_id, _ = pressed_on(update)
    private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
    alert = await register.on_button(services(context), who(update), chat_id, private, RegisterStep.parse(query.data))
    await query.answer(alert, show_alert=bool(alert))
