"""What every handler needs: the shared services and who sent the update."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import desk
from bot.services import Services, Who

__all__ = ["services", "who", "pressed_on", "private_only"]


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["svc"]


def who(update: Update) -> Who:
    user = update.effective_user
    chat = update.effective_chat
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return Who(user_id=user.id, chat_id=chat.id, name=name, telegram_lang=user.language_code)


def pressed_on(update: Update) -> tuple[int, int]:
    """(chat id, message id) of the message whose button was pressed; (0, 0) when Telegram no
    longer tells (a message too old), which matches no message of ours."""
    msg = update.callback_query.message if update.callback_query else None
    return (msg.chat.id, msg.message_id) if msg is not None else (0, 0)


async def private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when a resident's button was pressed outside a private chat; the press is then
    answered with an alert saying where it works, and acts on nothing."""
    if update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
        return False
    await update.callback_query.answer(await desk.private_only(services(context), who(update)), show_alert=True)
    return True
