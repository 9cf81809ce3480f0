"""Questions the bot asked in a group, whose replies carry the answer.

A question is an outbox row whose payload has a ``prompt`` tag (``{"kind": "request" | "outage",
...}``); the reply quotes the Telegram message that row produced. One store for every kind of
question, so one router can take every reply (bot/replies.py).
"""
from __future__ import annotations

from typing import Any

import aiosqlite

from storage import outbox

__all__ = ["prompt_of", "prompt_in_flight"]


def _tag(payload: dict[str, Any]) -> dict[str, Any] | None:
    tag = payload.get("prompt")
    if isinstance(tag, dict) and "kind" in tag:
        return tag
    # Rows written before the one store: a request's id with its step, or an outage question.
    if isinstance(tag, int):
        return {"kind": "request", "request": tag, "step": payload.get("step")}
    if isinstance(payload.get("outage_prompt"), dict):
        return {"kind": "outage", **payload["outage_prompt"]}
    return None


async def prompt_of(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> dict[str, Any] | None:
    """The tag of the question that is bot message ``message_id`` in ``chat_id``; None for any
    other message."""
    row = await outbox.sent_row(conn, chat_id, message_id)
    return _tag(row[1]) if row is not None else None


async def prompt_in_flight(conn: aiosqlite.Connection, chat_id: int) -> bool:
    """A question to ``chat_id`` is still being sent (not yet marked sent): a reply may be racing
    the sender's commit of its message id (index outbox_pending)."""
    async with conn.execute(
        "SELECT 1 FROM outbox WHERE status = 'pending' AND chat_id = ? AND kind = 'message' "
        "AND (json_extract(payload, '$.prompt') IS NOT NULL OR json_extract(payload, '$.outage_prompt') IS NOT NULL) LIMIT 1",
        (chat_id,),
    ) as cur:
        return await cur.fetchone() is not None
