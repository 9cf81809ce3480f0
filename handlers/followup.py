"""The follow-up (Art. 8): a resident's answer, dispatch's phone list and its records."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import followup
from bot.callbacks import FollowupAnswer, PhoneRecord
from handlers.common import pressed_on, private_only, services, who

__all__ = ["answer", "followups", "record"]


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if await private_only(update, context):
        return
    await query.answer(await followup.answer(services(context), who(update), FollowupAnswer.parse(query.data), *pressed_on(update)))


async def followups(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await followup.phone_list(services(context), who(update), update.effective_chat.id)


async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    alert = await followup.record(services(context), who(update), PhoneRecord.parse(query.data), *pressed_on(update))
    await query.answer(alert, show_alert=True)
