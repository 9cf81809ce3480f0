"""Deadlines (one row per ticket and limit), the alerts they raised, and crew requests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_one, insert_id
from storage.timestamps import from_iso, to_iso

__all__ = [
    "Deadline", "Alert", "create", "get", "for_ticket", "due", "advance", "meet", "cancel_open",
    "move", "open_before", "add_alert", "get_alert", "acknowledge", "last_acknowledger",
]


@dataclass(frozen=True)
class Deadline:
    id: int
    ticket_id: int
    kind: str
    due_at: datetime
    original_due_at: datetime
    state: str
    stage: int
    next_at: datetime | None
    met_at: datetime | None
    late: bool | None
    delayed: bool


_COLS = "id, ticket_id, kind, due_at, original_due_at, state, stage, next_at, met_at, late, delayed"


def _row(r) -> Deadline:
    return Deadline(
        r[0], r[1], r[2], from_iso(r[3]), from_iso(r[4]), r[5], r[6],
        from_iso(r[7]) if r[7] else None, from_iso(r[8]) if r[8] else None,
        None if r[9] is None else bool(r[9]), bool(r[10]),
    )


def _opt(value: datetime | None) -> str | None:
    return to_iso(value) if value is not None else None


async def create(conn: aiosqlite.Connection, ticket_id: int, kind: str, due_at: datetime, next_at: datetime | None) -> None:
    await conn.execute(
        "INSERT INTO deadlines(ticket_id, kind, due_at, original_due_at, next_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(ticket_id, kind) DO UPDATE SET due_at = excluded.due_at, original_due_at = excluded.original_due_at, "
        "state = 'open', stage = 0, next_at = excluded.next_at, met_at = NULL, late = NULL, delayed = 0",
        (ticket_id, kind, to_iso(due_at), to_iso(due_at), _opt(next_at)),
    )


async def get(conn: aiosqlite.Connection, ticket_id: int, kind: str) -> Deadline | None:
    async with conn.execute(f"SELECT {_COLS} FROM deadlines WHERE ticket_id = ? AND kind = ?", (ticket_id, kind)) as cur:
        r = await cur.fetchone()
    return _row(r) if r else None


async def for_ticket(conn: aiosqlite.Connection, ticket_id: int) -> list[Deadline]:
    return [_row(r) for r in await conn.execute_fetchall(f"SELECT {_COLS} FROM deadlines WHERE ticket_id = ? ORDER BY due_at", (ticket_id,))]


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Deadline]:
    """Open deadlines whose next stage has come; served by the partial index on next_at."""
    return [_row(r) for r in await conn.execute_fetchall(
        f"SELECT {_COLS} FROM deadlines WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?",
        (to_iso(now), limit),
    )]


async def advance(conn: aiosqlite.Connection, deadline_id: int, *, from_stage: int, to_stage: int, next_at: datetime | None) -> bool:
    """Compare-and-set, so a stage fires once even if two sweeps meet."""
    cur = await conn.execute(
        "UPDATE deadlines SET stage = ?, next_at = ? WHERE id = ? AND stage = ? AND state = 'open'",
        (to_stage, _opt(next_at), deadline_id, from_stage),
    )
    return cur.rowcount == 1


async def meet(conn: aiosqlite.Connection, ticket_id: int, kind: str, now: datetime) -> Deadline | None:
    d = await get(conn, ticket_id, kind)
    if d is None or d.state != "open":
        return None
    late = now > d.due_at
    await conn.execute(
        "UPDATE deadlines SET state = 'met', met_at = ?, late = ?, next_at = NULL WHERE id = ?",
        (to_iso(now), int(late), d.id),
    )
    return d


async def cancel_open(conn: aiosqlite.Connection, ticket_id: int, kinds: tuple[str, ...] | None = None) -> None:
    if kinds is None:
        await conn.execute("UPDATE deadlines SET state = 'cancelled', next_at = NULL WHERE ticket_id = ? AND state = 'open'", (ticket_id,))
    else:
        await conn.execute(
            f"UPDATE deadlines SET state = 'cancelled', next_at = NULL WHERE ticket_id = ? AND state = 'open' AND kind IN ({','.join('?' * len(kinds))})",
            (ticket_id, *kinds),
        )


async def move(conn: aiosqlite.Connection, deadline_id: int, *, due_at: datetime, stage: int, next_at: datetime | None, delayed: bool) -> None:
    await conn.execute(
        "UPDATE deadlines SET due_at = ?, stage = ?, next_at = ?, delayed = ? WHERE id = ?",
        (to_iso(due_at), stage, _opt(next_at), int(delayed), deadline_id),
    )


async def open_before(conn: aiosqlite.Connection, horizon: datetime) -> list[Deadline]:
    """Open deadlines due before ``horizon`` (overdue and soon due), oldest first."""
    async with conn.execute(
        f"SELECT {_COLS} FROM deadlines WHERE state = 'open' AND due_at <= ? ORDER BY due_at", (to_iso(horizon),),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


@dataclass(frozen=True)
class Alert:
    id: int
    ticket_id: int
    deadline_id: int | None
    kind: str
    created_at: datetime
    late_minutes: int
    ack_by: int | None
    ack_name: str | None
    ack_at: datetime | None


async def add_alert(conn: aiosqlite.Connection, ticket_id: int, deadline_id: int | None, kind: str, now: datetime, late_minutes: int = 0) -> int:
    return await insert_id(
        conn, "INSERT INTO alerts(ticket_id, deadline_id, kind, created_at, late_minutes) VALUES (?, ?, ?, ?, ?)",
        (ticket_id, deadline_id, kind, to_iso(now), late_minutes),
    )


async def get_alert(conn: aiosqlite.Connection, alert_id: int) -> Alert | None:
    async with conn.execute(
        "SELECT id, ticket_id, deadline_id, kind, created_at, late_minutes, ack_by, ack_name, ack_at FROM alerts WHERE id = ?", (alert_id,),
    ) as cur:
        r = await cur.fetchone()
    if r is None:
        return None
    return Alert(r[0], r[1], r[2], r[3], from_iso(r[4]), r[5], r[6], r[7], from_iso(r[8]) if r[8] else None)


async def last_acknowledger(conn: aiosqlite.Connection, ticket_id: int) -> str | None:
    row = await fetch_one(conn,
        "SELECT ack_name FROM alerts WHERE ticket_id = ? AND ack_by IS NOT NULL ORDER BY id DESC LIMIT 1", (ticket_id,),
    )
    return row[0] if row else None


async def acknowledge(conn: aiosqlite.Connection, alert_id: int, user_id: int, name: str, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE alerts SET ack_by = ?, ack_name = ?, ack_at = ? WHERE id = ? AND ack_by IS NULL",
        (user_id, name, to_iso(now), alert_id),
    )
    return cur.rowcount == 1
