"""The outbox: messages to send, committed with the change that causes them.

Priorities (lower is sooner): escalations and crew cards, then resident status messages,
then bulk notices. A chat's messages always leave in the order they were written.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import aiosqlite

from bot.clock import to_iso

__all__ = [
    "Priority", "OutboxItem", "enqueue_message", "enqueue_card", "next_batch", "mark_sent",
    "mark_failed", "bump_attempts", "pending_count", "supersede_cards", "depth_by_priority",
]


class Priority(IntEnum):
    URGENT = 0      # escalations, crew cards
    STATUS = 1      # replies and status messages to residents
    BULK = 2        # outage broadcasts


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    kind: str
    priority: int
    ticket_id: int | None
    purpose: str
    payload: dict[str, Any]
    attempts: int


async def enqueue_message(
    conn: aiosqlite.Connection, chat_id: int, payload: dict[str, Any], *, priority: Priority,
    purpose: str, now: datetime, ticket_id: int | None = None,
) -> int:
    cur = await conn.execute(
        "INSERT INTO outbox(chat_id, kind, priority, ticket_id, purpose, payload, created_at) VALUES (?, 'message', ?, ?, ?, ?, ?)",
        (chat_id, int(priority), ticket_id, purpose, json.dumps(payload, ensure_ascii=False), to_iso(now)),
    )
    return cur.lastrowid


async def enqueue_card(conn: aiosqlite.Connection, chat_id: int, ticket_id: int, *, now: datetime) -> int:
    """Ask the sender to bring the ticket's card up to date (send it, or edit it in place)."""
    cur = await conn.execute(
        "INSERT INTO outbox(chat_id, kind, priority, ticket_id, purpose, payload, created_at) VALUES (?, 'card', ?, ?, 'card', '{}', ?)",
        (chat_id, int(Priority.URGENT), ticket_id, to_iso(now)),
    )
    return cur.lastrowid


async def next_batch(conn: aiosqlite.Connection, limit: int, skip_chats: set[int] | frozenset[int] = frozenset()) -> list[OutboxItem]:
    """The oldest pending item of each chat, most urgent first."""
    async with conn.execute(
        "SELECT o.id, o.chat_id, o.kind, o.priority, o.ticket_id, o.purpose, o.payload, o.attempts FROM outbox o "
        "WHERE o.status = 'pending' AND o.id = (SELECT MIN(i.id) FROM outbox i WHERE i.status = 'pending' AND i.chat_id = o.chat_id) "
        "ORDER BY o.priority, o.id LIMIT ?",
        (limit + len(skip_chats),),
    ) as cur:
        rows = await cur.fetchall()
    items = [OutboxItem(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows if r[1] not in skip_chats]
    return items[:limit]


async def mark_sent(conn: aiosqlite.Connection, item_id: int, message_id: int | None, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        (message_id, to_iso(now), item_id),
    )


async def supersede_cards(conn: aiosqlite.Connection, ticket_id: int, chat_id: int, up_to_id: int, now: datetime) -> None:
    """Later card refreshes already queued for the same card are satisfied by the one just sent."""
    await conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ? WHERE status = 'pending' AND kind = 'card' AND ticket_id = ? AND chat_id = ? AND id > ?",
        (to_iso(now), ticket_id, chat_id, up_to_id),
    )


async def mark_failed(conn: aiosqlite.Connection, item_id: int, error: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'failed', error = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        (error, to_iso(now), item_id),
    )


async def bump_attempts(conn: aiosqlite.Connection, item_id: int, error: str) -> None:
    await conn.execute("UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ?", (error, item_id))


async def pending_count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
        return (await cur.fetchone())[0]


async def depth_by_priority(conn: aiosqlite.Connection) -> dict[int, int]:
    async with conn.execute("SELECT priority, COUNT(*) FROM outbox WHERE status = 'pending' GROUP BY priority") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}
