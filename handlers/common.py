"""What every handler needs: the shared services and who sent the update."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import Services, Who

__all__ = ["services", "who"]


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["svc"]


def who(update: Update) -> Who:
    user = update.effective_user
    chat = update.effective_chat
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return Who(user_id=user.id, chat_id=chat.id, name=name, telegram_lang=user.language_code)
