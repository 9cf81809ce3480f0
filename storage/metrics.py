"""Counts for ``/metrics``: read at scrape time from the tables the bot works on, so a figure
cannot drift from the database."""
from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.timestamps import to_iso

__all__ = ["tickets_by_status_and_level", "overdue_deadlines"]


async def tickets_by_status_and_level(conn: aiosqlite.Connection) -> dict[tuple[str, str], int]:
    async with conn.execute("SELECT status, level, COUNT(*) FROM tickets GROUP BY status, level") as cur:
        return {(r[0], r[1]): r[2] for r in await cur.fetchall()}


async def overdue_deadlines(conn: aiosqlite.Connection, now: datetime) -> dict[str, int]:
    """Open limits past their due time, by kind (accept, onsite, close, …)."""
    async with conn.execute(
        "SELECT kind, COUNT(*) FROM deadlines WHERE state = 'open' AND due_at < ? GROUP BY kind", (to_iso(now),),
    ) as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}

