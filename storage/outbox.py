"""The outbox: messages to send, committed with the change that causes them.

Priorities (lower is sooner): escalations and crew cards, then resident status messages,
then bulk notices. A chat's messages always leave in the order they were written.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import aiosqlite

from storage.db import fetch_one, insert_id
from storage.timestamps import from_iso, to_iso

__all__ = [
    "sent_row", "new_claimer", "claimer_is_dead", "claim", "release_claim", "release_claims_of", "release_stale_claims",
    "Priority", "OutboxItem", "enqueue_message", "enqueue_card", "next_batch", "mark_sent",
    "mark_failed", "bump_attempts", "pending_count", "supersede_cards", "depth_by_priority",
    "pending_in_chat", "last_pending_card_id", "fresh_card_rows", "FreshCard", "mark_sent_many",
    "card_is_digest", "newer_edit_pending", "sent_message_id", "oldest_pending_at", "failed_count", "recent_failures", "Failure",
    "waiting_to_join", "rewrite_waiting", "claim_many",
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
    return await insert_id(
        conn, "INSERT INTO outbox(chat_id, kind, priority, ticket_id, purpose, payload, created_at) VALUES (?, 'message', ?, ?, ?, ?, ?)",
        (chat_id, int(priority), ticket_id, purpose, json.dumps(payload, ensure_ascii=False), to_iso(now)))


async def enqueue_card(conn: aiosqlite.Connection, chat_id: int, ticket_id: int, *, now: datetime) -> int:
    """Ask the sender to bring the ticket's card up to date (send it, or edit it in place)."""
    return await insert_id(
        conn, "INSERT INTO outbox(chat_id, kind, priority, ticket_id, purpose, payload, created_at) VALUES (?, 'card', ?, ?, 'card', '{}', ?)",
        (chat_id, int(Priority.URGENT), ticket_id, to_iso(now)))


async def next_batch(conn: aiosqlite.Connection, limit: int, skip_chats: set[int] | frozenset[int] = frozenset()) -> list[OutboxItem]:
    """The oldest pending item of each chat, most urgent first. A chat whose oldest item is
    claimed (in flight at some sender) is left out: taking its next one would break its order."""
    # One round trip to the database thread (not three: execute, fetch, close): the sender
    # runs this for every message it sends.
    rows = await conn.execute_fetchall(
        "SELECT o.id, o.chat_id, o.kind, o.priority, o.ticket_id, o.purpose, o.payload, o.attempts FROM outbox o "
        "WHERE o.status = 'pending' AND o.claimed_by IS NULL "
        "AND o.id = (SELECT MIN(i.id) FROM outbox i WHERE i.status = 'pending' AND i.chat_id = o.chat_id) "
        "ORDER BY o.priority, o.id LIMIT ?",
        (limit + len(skip_chats),),
    )
    items = [OutboxItem(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows if r[1] not in skip_chats]
    return items[:limit]


async def waiting_to_join(conn: aiosqlite.Connection, chat_id: int, purpose: str, ticket_id: int | None) -> tuple[int, dict[str, Any]] | None:
    """(id, payload) of the newest message of ``purpose`` still waiting in ``chat_id``, unclaimed,
    that a message about ``ticket_id`` may join without overtaking anything queued after it about
    that ticket (bot/alerts.py gathers the limits' alerts this way); None if there is none."""
    rows = await conn.execute_fetchall(
        "SELECT o.id, o.payload FROM outbox o WHERE o.status = 'pending' AND o.chat_id = ? AND o.claimed_by IS NULL "
        "AND o.kind = 'message' AND o.purpose = ? AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.status = 'pending' "
        "AND x.chat_id = o.chat_id AND x.ticket_id = ? AND x.id > o.id) ORDER BY o.id DESC LIMIT 1",
        (chat_id, purpose, ticket_id),
    )
    return (rows[0][0], json.loads(rows[0][1])) if rows else None


async def rewrite_waiting(conn: aiosqlite.Connection, item_id: int, payload: dict[str, Any]) -> bool:
    """Replace the payload of a row no sender has claimed yet; False if one has (or it is gone)."""
    cur = await conn.execute(
        "UPDATE outbox SET payload = ? WHERE id = ? AND status = 'pending' AND claimed_by IS NULL",
        (json.dumps(payload, ensure_ascii=False), item_id),
    )
    return cur.rowcount == 1


def new_claimer() -> str:
    """A sender's name on the rows it claims: host, process id, the process's start time (a
    pid is reused, by a restarted container's first process for one) and a nonce that tells
    two senders of one process apart (a bot restarted in the same process, or a test)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid) or '-'}:{secrets.token_hex(4)}"


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None if unknown/gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None      # field 22, "starttime"


async def claim(conn: aiosqlite.Connection, item_id: int, claimer: str, now: datetime) -> bool:
    """Take a pending row for sending; False if another sender has it or it is no longer pending.

    Call it in the transaction that picked the row. The condition makes it a compare-and-set,
    so it stays correct where picking is not serialised (several instances on PostgreSQL)."""
    cur = await conn.execute(
        "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ? AND status = 'pending' AND claimed_by IS NULL",
        (claimer, to_iso(now), item_id),
    )
    return cur.rowcount == 1


async def claim_many(conn: aiosqlite.Connection, item_ids: list[int], claimer: str, now: datetime) -> set[int]:
    """:func:`claim` for several rows in one statement (one round trip): the ids it took."""
    if not item_ids:
        return set()
    marks = ", ".join("?" * len(item_ids))
    rows = await conn.execute_fetchall(
        f"UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id IN ({marks}) AND status = 'pending' "
        "AND claimed_by IS NULL RETURNING id",
        (claimer, to_iso(now), *item_ids),
    )
    return {r[0] for r in rows}


async def release_claim(conn: aiosqlite.Connection, item_id: int, claimer: str) -> None:
    """Give a row back unsent (an error before Telegram was reached), for any sender to take."""
    await conn.execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ? AND status = 'pending'",
        (item_id, claimer),
    )


async def release_claims_of(conn: aiosqlite.Connection, claimer: str) -> int:
    """Every pending row ``claimer`` holds goes back (a sender stopping with sends cut off)."""
    cur = await conn.execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ? AND status = 'pending'", (claimer,),
    )
    return cur.rowcount


def claimer_is_dead(claimer: str) -> bool:
    """Whether the process named in ``claimer`` has certainly ended. Only a process of this
    host can be checked; another host's claims are left alone (a new holder of the sender
    lease releases them: bot/lease.py)."""
    parts = claimer.split(":")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid, started = int(parts[1]), parts[2]
    now_started = _started(pid)
    if now_started is not None and started != "-":
        return now_started != started       # another process has that pid now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:                 # alive, and someone else's
        return False
    return False


async def release_stale_claims(conn: aiosqlite.Connection) -> int:
    """Release the claims of senders whose process has died (killed mid-send): their rows
    would otherwise never be sent. Returns how many rows were released."""
    async with conn.execute("SELECT DISTINCT claimed_by FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL") as cur:
        claimers = [r[0] for r in await cur.fetchall()]
    released = 0
    for claimer in claimers:
        if claimer_is_dead(claimer):
            released += await release_claims_of(conn, claimer)
    return released


async def mark_sent(conn: aiosqlite.Connection, item_id: int, message_id: int | None, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        (message_id, to_iso(now), item_id),
    )


async def supersede_cards(conn: aiosqlite.Connection, ticket_id: int, chat_id: int, through_id: int, now: datetime) -> None:
    """Card refreshes queued up to ``through_id`` are satisfied by the card just sent.

    ``through_id`` is the newest refresh that was pending when the card was rendered: a refresh
    queued while the send was in flight carries a change the sent card may lack, so it stays.
    """
    await conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ? WHERE status = 'pending' AND kind = 'card' AND ticket_id = ? AND chat_id = ? AND id <= ?",
        (to_iso(now), ticket_id, chat_id, through_id),
    )


async def last_pending_card_id(conn: aiosqlite.Connection, ticket_id: int, chat_id: int) -> int | None:
    return (await fetch_one(conn,
        "SELECT MAX(id) FROM outbox WHERE status = 'pending' AND kind = 'card' AND ticket_id = ? AND chat_id = ?", (ticket_id, chat_id),
    ))[0]


async def pending_in_chat(conn: aiosqlite.Connection, chat_id: int) -> int:
    return (await fetch_one(conn, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND chat_id = ?", (chat_id,)))[0]


@dataclass(frozen=True)
class FreshCard:
    """A new ticket whose card was never posted in this chat, with every queued refresh of it."""
    ticket_id: int
    row_ids: tuple[int, ...]


async def fresh_card_rows(conn: aiosqlite.Connection, chat_id: int, limit: int) -> list[FreshCard]:
    """New tickets waiting for their first card in ``chat_id``, oldest first (digest candidates)."""
    rows = await conn.execute_fetchall(
        "SELECT o.ticket_id, json_group_array(CAST(o.id AS TEXT)) FROM outbox o JOIN tickets t ON t.id = o.ticket_id "
        "WHERE o.status = 'pending' AND o.kind = 'card' AND o.chat_id = ? AND t.status = 'new' AND t.card_message_id IS NULL "
        "GROUP BY o.ticket_id ORDER BY MIN(o.id) LIMIT ?",
        (chat_id, limit),
    )
    return [FreshCard(r[0], tuple(sorted(int(x) for x in json.loads(r[1])))) for r in rows]


async def mark_sent_many(conn: aiosqlite.Connection, item_ids: list[int] | tuple[int, ...], message_id: int | None, now: datetime) -> None:
    await conn.executemany(
        "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
        [(message_id, to_iso(now), i) for i in item_ids],
    )


async def card_is_digest(conn: aiosqlite.Connection, ticket_id: int, chat_id: int, message_id: int) -> bool:
    """Whether the ticket's card message is a digest (the ledger says so; it is never pruned)."""
    return await fetch_one(conn,
        "SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind = 'card_posted' "
        "AND CAST(json_extract(detail, '$.digest') AS INTEGER) = 1 "
        "AND CAST(json_extract(detail, '$.chat_id') AS BIGINT) = ? AND CAST(json_extract(detail, '$.message_id') AS BIGINT) = ? LIMIT 1",
        (ticket_id, chat_id, message_id),
    ) is not None


async def oldest_pending_at(conn: aiosqlite.Connection) -> datetime | None:
    async with conn.execute("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'") as cur:
        value = (await cur.fetchone())[0]
    return from_iso(value) if value else None


async def failed_count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") as cur:
        return (await cur.fetchone())[0]


@dataclass(frozen=True)
class Failure:
    chat_id: int
    ticket_id: int | None
    purpose: str
    error: str
    at: datetime


async def recent_failures(conn: aiosqlite.Connection, limit: int = 5) -> list[Failure]:
    async with conn.execute(
        "SELECT chat_id, ticket_id, purpose, COALESCE(error, ''), sent_at FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT ?", (limit,),
    ) as cur:
        return [Failure(r[0], r[1], r[2], r[3], from_iso(r[4])) for r in await cur.fetchall()]


async def mark_failed(conn: aiosqlite.Connection, item_id: int, error: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'failed', error = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?",
        (error, to_iso(now), item_id),
    )


async def bump_attempts(conn: aiosqlite.Connection, item_id: int, error: str) -> None:
    """A try that will be retried: the row waits again, free for any sender to take."""
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, error = ?, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
        (error, item_id),
    )


async def sent_row(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> tuple[int, dict[str, Any]] | None:
    """(outbox id, payload) of the row that produced bot message ``message_id`` in ``chat_id``
    (index outbox_message), for editing it or reading what it asked."""
    row = await fetch_one(conn,
        "SELECT id, payload FROM outbox WHERE chat_id = ? AND message_id = ? AND status = 'sent' ORDER BY id LIMIT 1",
        (chat_id, message_id),
    )
    return (row[0], json.loads(row[1])) if row else None


async def newer_edit_pending(conn: aiosqlite.Connection, chat_id: int, row_id: int, edit_of: int) -> bool:
    """A later row waits to edit the same message: this edit can be skipped (coalescing)."""
    return await fetch_one(conn,
        "SELECT 1 FROM outbox WHERE status = 'pending' AND chat_id = ? AND id > ? "
        "AND CAST(json_extract(payload, '$.edit_of') AS BIGINT) = ? LIMIT 1",
        (chat_id, row_id, edit_of),
    ) is not None


async def sent_message_id(conn: aiosqlite.Connection, row_id: int, chat_id: int) -> int | None:
    """The Telegram message row ``row_id`` produced in ``chat_id``; None if it was never sent."""
    row = await fetch_one(conn, "SELECT message_id FROM outbox WHERE id = ? AND chat_id = ? AND status = 'sent'", (row_id, chat_id))
    return row[0] if row else None


async def pending_count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
        return (await cur.fetchone())[0]


async def depth_by_priority(conn: aiosqlite.Connection) -> dict[int, int]:
    async with conn.execute("SELECT priority, COUNT(*) FROM outbox WHERE status = 'pending' GROUP BY priority") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}
