"""``/whoami`` in any chat: the user's and the chat's ids, for the organisation file."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import whoami as ids
from handlers.common import services, who

__all__ = ["whoami"]


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ids.tell_ids(services(context), who(update), update.effective_chat.type)
