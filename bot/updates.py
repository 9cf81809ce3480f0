"""Updates of different chats handled at once, each chat's in the order Telegram sent them.

python-telegram-bot handles one update at a time by default, so a resident's message waits for
every update ahead of it, whoever sent those, while the bot mostly waits on the database thread
and on Telegram. This processor lets updates of different chats overlap and keeps each chat's
own updates strictly in order: a conversation (the intake's steps, a group's card presses) is
never reordered, and a chat's second update starts only once its first is done.

Why by chat and not by user: a group's crew buttons are one conversation about one card, so two
crew pressing Accept at once are taken one after the other (the second is told it is taken), as
they would be without concurrency. The domain does not rely on this alone: every action is one
transaction with a compare-and-set on the ticket's status (bot/desk.py), and transactions are
serialised (storage/db.py).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["ChatOrderedProcessor", "chat_key"]

log = logging.getLogger(__name__)


def chat_key(update: object) -> int | None:
    """The conversation an update belongs to: its chat (a button press's chat is the chat of
    the message it is under), else its user; None for an update of neither."""
    if not isinstance(update, Update):
        return None
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` updates at once, one per chat at a time, each chat's
    in arrival order. Updates without a chat or user (none of the kinds the bot asks for) share
    one key, so they too keep their order."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        # chat -> the future the chat's latest update sets when done; the next one waits on it.
        self._tails: dict[int | None, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # The semaphore before this call is fair (FIFO) and nothing below awaits before the
        # update takes its place in its chat's line, so a chat's line is in arrival order.
        key = chat_key(update)
        before = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if before is not None:
                try:
                    await asyncio.shield(before)
                except BaseException:
                    if asyncio.iscoroutine(coroutine):
                        coroutine.close()       # stopping: never started, so never awaited
                    raise
            await coroutine
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
