"""Asking a question in a group: the message carries a tag that the reply router
(bot/replies.py) reads back when someone replies to it (storage/prompts.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from bot.payload import Buttons, message
from storage.outbox import Priority, enqueue_message

__all__ = ["ask"]


async def ask(conn: aiosqlite.Connection, chat_id: int, text: str, tag: dict[str, Any], *, now: datetime,
              buttons: Buttons | None = None, force_reply: bool = True, ticket_id: int | None = None) -> int:
    """Enqueue a question tagged ``{"kind": ..., ...}``; returns its outbox row."""
    payload = message(text, buttons=buttons)
    payload["prompt"] = tag
    if force_reply:
        payload["force_reply"] = True
    return await enqueue_message(conn, chat_id, payload, priority=Priority.URGENT, purpose="prompt", now=now, ticket_id=ticket_id)
