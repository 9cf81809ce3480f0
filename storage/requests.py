"""Crew requests that need a reply or dispatch's decision (the ``requests`` table).

Kinds: ``delay`` (Art. 13 preamble and other rules (2)), ``return`` (退单, Art. 5–6 and Art. 13
other rules (3)) and ``report`` (the written report of Art. 13 limits (4)).

Life of a request::

    awaiting_reply --reply--> pending --decide--> approved | rejected      (delay, return)
    awaiting_reply --reply--> done                                          (report)
    approved (outcome 'out_of_scope') --dispatch's explanation--> done       (return closed as out of scope)
    awaiting_reply | pending --superseded, ticket gone on--> cancelled

Every change of status is a compare-and-set on the status it expects, so two presses or two
replies racing each other produce one decision and the loser can be told who won.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import insert_id
from storage.timestamps import from_iso, to_iso

__all__ = [
    "Request", "create", "get", "open_of", "set_reply", "decide", "finish", "cancel",
]

@dataclass(frozen=True)
class Request:
    id: int
    ticket_id: int
    kind: str
    deadline_kind: str | None
    requested_by: int
    requested_at: datetime
    reason: str | None
    new_due_at: datetime | None
    status: str
    decided_by: int | None
    decided_at: datetime | None
    outcome: str | None


_COLS = ("id, ticket_id, kind, deadline_kind, requested_by, requested_at, reason, new_due_at, status, "
         "decided_by, decided_at, outcome")


def _row(r) -> Request:
    return Request(
        r[0], r[1], r[2], r[3], r[4], from_iso(r[5]), r[6], from_iso(r[7]) if r[7] else None, r[8],
        r[9], from_iso(r[10]) if r[10] else None, r[11],
    )


async def create(conn: aiosqlite.Connection, ticket_id: int, kind: str, requested_by: int, now: datetime,
                 deadline_kind: str | None = None) -> int:
    return await insert_id(
        conn, "INSERT INTO requests(ticket_id, kind, deadline_kind, requested_by, requested_at, status) "
        "VALUES (?, ?, ?, ?, ?, 'awaiting_reply')",
        (ticket_id, kind, deadline_kind, requested_by, to_iso(now)))


async def get(conn: aiosqlite.Connection, request_id: int) -> Request | None:
    async with conn.execute(f"SELECT {_COLS} FROM requests WHERE id = ?", (request_id,)) as cur:
        r = await cur.fetchone()
    return _row(r) if r else None


async def open_of(conn: aiosqlite.Connection, ticket_id: int, kind: str) -> list[Request]:
    """The ticket's requests of ``kind`` still waiting for a reply or a decision, oldest first
    (served by the index requests_ticket)."""
    async with conn.execute(
        f"SELECT {_COLS} FROM requests WHERE ticket_id = ? AND kind = ? AND status IN ('awaiting_reply', 'pending') ORDER BY id",
        (ticket_id, kind),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def set_reply(conn: aiosqlite.Connection, request_id: int, *, reason: str, new_due_at: datetime | None,
                    deadline_kind: str | None, to_status: str) -> bool:
    """The requester's answer to the prompt: awaiting_reply → ``to_status`` (pending or done)."""
    cur = await conn.execute(
        "UPDATE requests SET reason = ?, new_due_at = ?, deadline_kind = COALESCE(?, deadline_kind), status = ? "
        "WHERE id = ? AND status = 'awaiting_reply'",
        (reason, to_iso(new_due_at) if new_due_at else None, deadline_kind, to_status, request_id),
    )
    return cur.rowcount == 1


async def decide(conn: aiosqlite.Connection, request_id: int, *, to_status: str, by: int, now: datetime,
                 outcome: str | None = None) -> bool:
    """Dispatch's decision: pending → approved | rejected, once."""
    cur = await conn.execute(
        "UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, outcome = ? WHERE id = ? AND status = 'pending'",
        (to_status, by, to_iso(now), outcome, request_id),
    )
    return cur.rowcount == 1


async def finish(conn: aiosqlite.Connection, request_id: int, *, from_status: str, reason: str | None = None) -> bool:
    """``from_status`` → done (an out-of-scope closing explained, a report submitted)."""
    cur = await conn.execute(
        "UPDATE requests SET status = 'done', reason = COALESCE(?, reason) WHERE id = ? AND status = ?",
        (reason, request_id, from_status),
    )
    return cur.rowcount == 1


async def cancel(conn: aiosqlite.Connection, request_id: int, outcome: str) -> bool:
    cur = await conn.execute(
        "UPDATE requests SET status = 'cancelled', outcome = ? WHERE id = ? AND status IN ('awaiting_reply', 'pending')",
        (outcome, request_id),
    )
    return cur.rowcount == 1
