"""The reports' marks (each weekly and monthly report sent once) and the files that travel with
outbox messages (a chart as a photo, a report page as a document)."""
from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.timestamps import to_iso

__all__ = ["claim_report", "report_sent", "attach_file", "attached_file", "drop_sent_files"]


async def claim_report(conn: aiosqlite.Connection, period: str, now: datetime) -> bool:
    """True the first time ``period``'s report is claimed: a restart or a second sweep sends it
    once. Call it in the transaction that queues the report, so a crash before the commit leaves
    it unclaimed."""
    cur = await conn.execute("INSERT INTO report_marks(period, sent_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (period, to_iso(now)))
    return cur.rowcount == 1


async def report_sent(conn: aiosqlite.Connection, period: str) -> bool:
    async with conn.execute("SELECT 1 FROM report_marks WHERE period = ?", (period,)) as cur:
        return await cur.fetchone() is not None


async def attach_file(conn: aiosqlite.Connection, outbox_id: int, data: bytes) -> None:
    """Put the bytes of the photo or document an outbox message sends on its row."""
    await conn.execute("UPDATE outbox SET file = ? WHERE id = ?", (data, outbox_id))


async def attached_file(conn: aiosqlite.Connection, outbox_id: int) -> bytes | None:
    async with conn.execute("SELECT file FROM outbox WHERE id = ?", (outbox_id,)) as cur:
        row = await cur.fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


async def drop_sent_files(conn: aiosqlite.Connection) -> int:
    """Free the bytes of files whose message has left (or failed for good): the message itself
    stays in the outbox's record. The partial index keeps this cheap however long the outbox."""
    cur = await conn.execute("UPDATE outbox SET file = NULL WHERE file IS NOT NULL AND status != 'pending'")
    return cur.rowcount
