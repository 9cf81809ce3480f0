"""The dispatch desk's own rows: a /new in progress, and the day whose count was posted."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import fetch_one, insert_id
from storage.timestamps import from_iso, to_iso

__all__ = ["NewWizard", "get_wizard", "any_wizard", "save_wizard", "delete_wizard", "claim_daily", "RegisterEntry", "NewEntry",
           "insert_entry", "entries_between", "WIZARD_TABLES"]

# One table per kind of desk wizard, so a dispatcher may have a /new and a /register open at once.
WIZARD_TABLES = frozenset({"desk_wizards", "register_wizards"})


@dataclass
class NewWizard:
    user_id: int
    chat_id: int
    nonce: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def _table(table: str) -> str:
    if table not in WIZARD_TABLES:
        raise ValueError(f"not a wizard table: {table!r}")
    return table


async def get_wizard(conn: aiosqlite.Connection, user_id: int, table: str = "desk_wizards") -> NewWizard | None:
    row = await fetch_one(conn, f"SELECT user_id, chat_id, nonce, step, data FROM {_table(table)} WHERE user_id = ?", (user_id,))
    return NewWizard(row[0], row[1], row[2], row[3], json.loads(row[4])) if row else None


async def any_wizard(conn: aiosqlite.Connection, user_id: int) -> bool:
    """Whether any desk wizard of ``user_id`` is open, in one round trip (the question every
    private message asks before it is taken as a resident's)."""
    union = " UNION ALL ".join(f"SELECT 1 FROM {_table(t)} WHERE user_id = ?" for t in WIZARD_TABLES)
    return await fetch_one(conn, union, (user_id,) * len(WIZARD_TABLES)) is not None


async def save_wizard(conn: aiosqlite.Connection, wizard: NewWizard, now: datetime, table: str = "desk_wizards") -> None:
    await conn.execute(
        f"INSERT INTO {_table(table)}(user_id, chat_id, nonce, step, data, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET chat_id = excluded.chat_id, nonce = excluded.nonce, step = excluded.step, "
        "data = excluded.data, updated_at = excluded.updated_at",
        (wizard.user_id, wizard.chat_id, wizard.nonce, wizard.step, json.dumps(wizard.data, ensure_ascii=False), to_iso(now)),
    )


async def delete_wizard(conn: aiosqlite.Connection, user_id: int, table: str = "desk_wizards") -> None:
    await conn.execute(f"DELETE FROM {_table(table)} WHERE user_id = ?", (user_id,))


async def claim_daily(conn: aiosqlite.Connection, day: str, now: datetime) -> bool:
    """True the first time ``day``'s count is claimed: a restart or a second sweep posts it once."""
    cur = await conn.execute("INSERT INTO desk_daily(day, sent_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (day, to_iso(now)))
    return cur.rowcount == 1


@dataclass(frozen=True)
class NewEntry:
    kind: str
    centre_id: str
    staff_id: int | None
    staff_name: str | None
    source: str
    text: str
    ticket_id: int | None
    entered_by: int
    entered_name: str
    at: datetime


@dataclass(frozen=True)
class RegisterEntry(NewEntry):
    id: int = 0


_ENTRY_COLUMNS = "kind, centre_id, staff_id, staff_name, source, text, ticket_id, entered_by, entered_name, at"


async def insert_entry(conn: aiosqlite.Connection, e: NewEntry) -> int:
    return await insert_id(
        conn, f"INSERT INTO register_entries({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (e.kind, e.centre_id, e.staff_id, e.staff_name, e.source, e.text, e.ticket_id, e.entered_by, e.entered_name, to_iso(e.at)),
    )


async def entries_between(conn: aiosqlite.Connection, start: datetime, end: datetime) -> list[RegisterEntry]:
    """Entries recorded in [start, end), oldest first (index register_entries_at)."""
    async with conn.execute(
        f"SELECT {_ENTRY_COLUMNS}, id FROM register_entries WHERE at >= ? AND at < ? ORDER BY id", (to_iso(start), to_iso(end)),
    ) as cur:
        rows = await cur.fetchall()
    return [RegisterEntry(*r[:9], from_iso(r[9]), id=r[10]) for r in rows]
