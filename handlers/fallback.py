"""Whatever no other handler took: an answer, never silence."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import desk, views
from handlers.common import services, who

__all__ = ["unknown_command", "unknown_button", "on_error"]

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk.unknown_command(services(context), who(update), update.effective_chat.type != ChatType.PRIVATE)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, update.effective_user.id, update.effective_user.language_code)
    await update.callback_query.answer(svc.texts.label(lang, "alert_unknown_button"), show_alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The traceback goes to the log (which never carries the token); the person gets a sentence.
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None or "svc" not in context.bot_data:
        return
    svc = services(context)
    try:
        lang = svc.default_lang
        if update.effective_user.language_code:
            lang = "en" if update.effective_user.language_code.startswith("en") else lang
        text = svc.texts.label(lang, "alert_error")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:  # the error path must not raise in turn
        log.warning("could not tell the user about the error", exc_info=True)
