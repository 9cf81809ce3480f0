"""Waiting out a busy or full database instead of dropping what a person sent.

A write lock held by another process (a backup, ``heatbot status`` at a bad moment, a second
tool) or a full disk makes a transaction fail after SQLite's busy timeout. The person's
message was then answered with an apology and dropped, so they had to type it again. Instead
the handler is run again after a pause, a bounded number of times — about as long as a person
waits for an answer — and the person is told once that saving is slow and their message will
be dealt with. Every domain action is one transaction that rolls back whole on failure, so a
second run starts from where the first began. A chat's updates are handled one at a time
(bot/updates.py), so the ones behind it wait their turn and keep their order.

A button press is retried too but not announced: a callback query can be answered only once,
and the answer belongs to the action.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from bot.texts import pick_language
from storage.dialect import OPERATIONAL_ERRORS, is_transient

__all__ = ["Patience", "PATIENCE_KEY", "patient"]

log = logging.getLogger(__name__)

PATIENCE_KEY = "patience"

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]]


@dataclass(frozen=True)
class Patience:
    """The pauses between tries. Each try itself waits up to the connection's busy timeout
    (5 s), so the default gives a held lock about 90 s, a full disk time to be freed."""

    waits: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


async def _tell_slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Straight to Telegram: the outbox is in the database that cannot be written just now.
    svc = context.bot_data.get("svc")
    if update.callback_query is not None or update.effective_chat is None or svc is None:
        return
    user = update.effective_user
    lang = pick_language(None, user.language_code if user else None, svc.default_lang)
    try:
        await context.bot.send_message(update.effective_chat.id, svc.texts.label(lang, "alert_saving_slow"))
    except Exception:  # telling is a courtesy; the retry is what matters
        log.warning("could not tell chat %s that saving is slow", update.effective_chat.id, exc_info=True)


def patient(handler: Handler) -> Handler:
    """``handler``, run again while the database is busy or full (see the module docstring);
    once patience runs out the error goes to the error handler as before."""

    @functools.wraps(handler)
    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        patience: Patience = context.bot_data.get(PATIENCE_KEY) or Patience()
        for attempt, wait in enumerate(patience.waits, start=1):
            try:
                return await handler(update, context)
            except OPERATIONAL_ERRORS as error:
                if not is_transient(error):
                    raise
                log.warning("update %s: %s (try %d); trying again in %.1f s", update.update_id, error, attempt, wait)
                if attempt == 1:
                    await _tell_slow(update, context)
                await asyncio.sleep(wait)
        return await handler(update, context)

    return run
