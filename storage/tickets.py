"""Tickets and their append-only ledger (台账)."""
from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import fetch_one, insert_id
from storage.timestamps import dump_json, from_iso, to_iso

__all__ = [
    "Ticket", "Event", "NewTicket", "insert_ticket", "get_ticket", "tickets_of_resident",
    "set_card", "clear_card", "transition", "set_close_note", "add_event", "list_events", "has_event", "by_card", "set_outcome", "set_classification",
    "set_ticket_limit", "transfer_ticket", "close_out_of_scope", "by_channel_ref", "tickets_of_channel", "count_by_source_level",
    "reopen", "set_reopen_note", "set_voice", "ACTING_VIA",
]

# Where an action came from when it was not a Telegram button: the dispatch board sets "board"
# around the same desk call a button makes, and every ledger row written in it says so.
ACTING_VIA: ContextVar[str | None] = ContextVar("acting_via", default=None)

_TIME_FIELDS = {"received_at", "accept_by", "onsite_by", "close_by", "accepted_at", "arrived_at", "closed_at"}


@dataclass(frozen=True)
class Ticket:
    id: int
    category: str
    source: str
    level: str
    status: str
    centre_id: str | None
    route_note: str | None
    resident_user_id: int | None
    resident_chat_id: int | None
    resident_lang: str
    resident_name: str | None
    phone: str | None
    community_id: str | None
    community_text: str | None
    address: str | None
    temperature: float | None
    photo_file_id: str | None
    description: str | None
    received_at: datetime
    accept_by: datetime
    onsite_by: datetime
    close_by: datetime
    accepted_at: datetime | None
    accepted_by: int | None
    arrived_at: datetime | None
    arrived_by: int | None
    closed_at: datetime | None
    closed_by: int | None
    close_note: str | None
    card_chat_id: int | None
    card_message_id: int | None
    outcome: str | None = None
    # Filed on someone's behalf or through the API (Art. 4, 5): the outside reference, the
    # API channel, and who entered it in which chat.
    external_ref: str | None = None
    channel: str | None = None
    entered_by: int | None = None
    entered_name: str | None = None
    filer_chat_id: int | None = None
    reopen_count: int = 0
    reopen_note: str | None = None
    repeat_of: int | None = None
    complaints: int = 0
    voice_file_id: str | None = None

    @property
    def number(self) -> str:
        """Digits only, short enough to read over the phone."""
        return f"{self.id:04d}"


_COLUMNS = ", ".join(f.name for f in fields(Ticket))


def _ticket(row: aiosqlite.Row) -> Ticket:
    values = {k: (from_iso(row[k]) if k in _TIME_FIELDS and row[k] is not None else row[k]) for k in row.keys()}
    return Ticket(**values)


@dataclass(frozen=True)
class NewTicket:
    category: str
    source: str
    level: str
    centre_id: str | None
    route_note: str | None
    resident_user_id: int | None
    resident_chat_id: int | None
    resident_lang: str
    resident_name: str | None
    phone: str | None
    community_id: str | None
    community_text: str | None
    address: str | None
    temperature: float | None
    photo_file_id: str | None
    description: str | None
    received_at: datetime
    accept_by: datetime
    onsite_by: datetime
    close_by: datetime
    external_ref: str | None = None
    channel: str | None = None
    entered_by: int | None = None
    entered_name: str | None = None
    filer_chat_id: int | None = None


async def insert_ticket(conn: aiosqlite.Connection, new: NewTicket) -> int:
    names = [f.name for f in fields(NewTicket)]
    values = [to_iso(v) if isinstance(v, datetime) else v for v in (getattr(new, n) for n in names)]
    return await insert_id(conn, f"INSERT INTO tickets({', '.join(names)}, status) VALUES ({', '.join('?' * len(names))}, 'new')", values)


async def get_ticket(conn: aiosqlite.Connection, ticket_id: int) -> Ticket | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
    return _ticket(row) if row else None


async def tickets_of_resident(conn: aiosqlite.Connection, user_id: int, limit: int = 10) -> list[Ticket]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM tickets WHERE resident_user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
    ) as cur:
        return [_ticket(r) for r in await cur.fetchall()]


async def set_card(conn: aiosqlite.Connection, ticket_id: int, chat_id: int, message_id: int) -> None:
    await conn.execute("UPDATE tickets SET card_chat_id = ?, card_message_id = ? WHERE id = ?", (chat_id, message_id, ticket_id))


async def clear_card(conn: aiosqlite.Connection, ticket_id: int) -> None:
    await conn.execute("UPDATE tickets SET card_message_id = NULL WHERE id = ?", (ticket_id,))


async def transition(
    conn: aiosqlite.Connection, ticket_id: int, *, from_status: str, to_status: str, at: datetime, by: int,
) -> bool:
    """Compare-and-set: False when another press changed the ticket first."""
    stamp = {"accepted": "accepted", "on_site": "arrived", "closed": "closed"}[to_status]
    cur = await conn.execute(
        f"UPDATE tickets SET status = ?, {stamp}_at = ?, {stamp}_by = ? WHERE id = ? AND status = ?",
        (to_status, to_iso(at), by, ticket_id, from_status),
    )
    return cur.rowcount == 1


async def set_close_note(conn: aiosqlite.Connection, ticket_id: int, note: str | None) -> None:
    await conn.execute("UPDATE tickets SET close_note = ? WHERE id = ?", (note, ticket_id))


@dataclass(frozen=True)
class Event:
    id: int
    ticket_id: int
    at: datetime
    kind: str
    actor_id: int | None
    actor: str | None
    detail: dict[str, Any]


async def add_event(
    conn: aiosqlite.Connection, ticket_id: int, at: datetime, kind: str,
    actor_id: int | None = None, actor: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO ticket_events(ticket_id, at, kind, actor_id, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (ticket_id, to_iso(at), kind, actor_id, actor, dump_json(_with_via(detail))),
    )


def _with_via(detail: dict[str, Any] | None) -> dict[str, Any]:
    via = ACTING_VIA.get()
    return {**(detail or {}), "via": via} if via is not None else (detail or {})


async def has_event(conn: aiosqlite.Connection, ticket_id: int, kind: str) -> bool:
    async with conn.execute("SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind = ? LIMIT 1", (ticket_id, kind)) as cur:
        return await cur.fetchone() is not None


async def by_card(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> Ticket | None:
    """The ticket whose live card is this message."""
    async with conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE card_chat_id = ? AND card_message_id = ?", (chat_id, message_id)) as cur:
        row = await cur.fetchone()
    return _ticket(row) if row else None


async def set_classification(conn: aiosqlite.Connection, ticket_id: int, category: str, level: str) -> None:
    await conn.execute("UPDATE tickets SET category = ?, level = ? WHERE id = ?", (category, level, ticket_id))


async def set_outcome(conn: aiosqlite.Connection, ticket_id: int, outcome: str) -> None:
    await conn.execute("UPDATE tickets SET outcome = ? WHERE id = ?", (outcome, ticket_id))


async def list_events(conn: aiosqlite.Connection, ticket_id: int) -> list[Event]:
    async with conn.execute(
        "SELECT id, ticket_id, at, kind, actor_id, actor, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    ) as cur:
        return [Event(r[0], r[1], from_iso(r[2]), r[3], r[4], r[5], json.loads(r[6])) for r in await cur.fetchall()]


_TICKET_LIMIT_COLUMN = {"accept": "accept_by", "onsite": "onsite_by", "close": "close_by"}


async def set_ticket_limit(conn: aiosqlite.Connection, ticket_id: int, kind: str, due: datetime) -> None:
    """An approved delay moves the limit the ticket states (the card's 时限 line and the
    resident's view), not only the clock. The report limit has no ticket column."""
    column = _TICKET_LIMIT_COLUMN.get(kind)
    if column is not None:
        await conn.execute(f"UPDATE tickets SET {column} = ? WHERE id = ?", (to_iso(due), ticket_id))


async def transfer_ticket(conn: aiosqlite.Connection, ticket_id: int, *, from_status: str, centre_id: str) -> bool:
    """Hand the ticket to ``centre_id`` as a new task (Art. 5, Art. 12: a transferred task is
    accepted afresh): status back to new, the old crew's steps cleared from the ticket (the
    ledger keeps them), and no card yet, so the sender posts a fresh one in the new group.
    Compare-and-set on the status the caller saw."""
    cur = await conn.execute(
        "UPDATE tickets SET centre_id = ?, route_note = NULL, status = 'new', accepted_at = NULL, accepted_by = NULL, "
        "arrived_at = NULL, arrived_by = NULL, card_chat_id = NULL, card_message_id = NULL WHERE id = ? AND status = ?",
        (centre_id, ticket_id, from_status),
    )
    return cur.rowcount == 1


async def close_out_of_scope(conn: aiosqlite.Connection, ticket_id: int, *, from_status: str, by: int, now: datetime,
                             explanation: str) -> bool:
    """Close as out of scope (Art. 6); the explanation sent to the resident is the closing note."""
    cur = await conn.execute(
        "UPDATE tickets SET status = 'closed', closed_at = ?, closed_by = ?, outcome = 'out_of_scope', close_note = ? "
        "WHERE id = ? AND status = ?",
        (to_iso(now), by, explanation, ticket_id, from_status),
    )
    return cur.rowcount == 1


async def by_channel_ref(conn: aiosqlite.Connection, channel: str, external_ref: str) -> Ticket | None:
    """The ticket a channel already filed under ``external_ref`` (index tickets_channel_ref)."""
    async with conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE channel = ? AND external_ref = ?", (channel, external_ref)) as cur:
        row = await cur.fetchone()
    return _ticket(row) if row else None


async def tickets_of_channel(conn: aiosqlite.Connection, channel: str, source: str, *, ids: list[int] | None = None,
                             start: datetime | None = None, end: datetime | None = None, status: str | None = None,
                             limit: int = 1000) -> list[Ticket]:
    """The tickets an API channel may follow, newest first: those it filed, and those staff
    entered by hand (/new) from its source — never a resident's own. ``ids`` picks some, the
    times bound ``received_at``, ``status`` is "open" or "closed"."""
    where = ["(channel = ? OR (channel IS NULL AND entered_by IS NOT NULL AND source = ? AND source != 'resident'))"]
    args: list = [channel, source]
    if ids is not None:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    if start is not None:
        where.append("received_at >= ?")
        args.append(to_iso(start))
    if end is not None:
        where.append("received_at <= ?")
        args.append(to_iso(end))
    if status == "closed":
        where.append("status = 'closed'")
    elif status == "open":
        where.append("status != 'closed'")
    args.append(limit)
    async with conn.execute(f"SELECT {_COLUMNS} FROM tickets WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", args) as cur:
        return [_ticket(r) for r in await cur.fetchall()]


async def count_by_source_level(conn: aiosqlite.Connection, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
    """(source, level, count) of the tickets received in [start, end) (index tickets_received)."""
    async with conn.execute(
        "SELECT source, level, COUNT(*) FROM tickets WHERE received_at >= ? AND received_at < ? GROUP BY source, level "
        "ORDER BY source, level", (to_iso(start), to_iso(end)),
    ) as cur:
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def reopen(conn: aiosqlite.Connection, ticket_id: int) -> bool:
    """The resident says it is still not fixed (Art. 8): the ticket goes back to the centre that
    closed it, as accepted (the centre already holds it), with the visit and the closing cleared
    from the ticket (the ledger keeps them) and no card, so the sender posts a fresh card.
    Compare-and-set: only a ticket closed as done."""
    cur = await conn.execute(
        "UPDATE tickets SET status = 'accepted', arrived_at = NULL, arrived_by = NULL, closed_at = NULL, closed_by = NULL, "
        "close_note = NULL, outcome = NULL, reopen_note = NULL, reopen_count = reopen_count + 1, card_message_id = NULL "
        "WHERE id = ? AND status = 'closed' AND outcome = 'done'",
        (ticket_id,),
    )
    return cur.rowcount == 1


async def set_reopen_note(conn: aiosqlite.Connection, ticket_id: int, note: str) -> None:
    await conn.execute("UPDATE tickets SET reopen_note = ? WHERE id = ?", (note, ticket_id))


async def set_voice(conn: aiosqlite.Connection, ticket_id: int, file_id: str) -> None:
    await conn.execute("UPDATE tickets SET voice_file_id = ? WHERE id = ?", (file_id, ticket_id))
