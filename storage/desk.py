"""The dispatch desk's own rows: a /new in progress, and the day whose count was posted."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from storage.timestamps import to_iso

__all__ = ["NewWizard", "get_wizard", "save_wizard", "delete_wizard", "claim_daily"]


@dataclass
class NewWizard:
    user_id: int
    chat_id: int
    nonce: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def get_wizard(conn: aiosqlite.Connection, user_id: int) -> NewWizard | None:
    async with conn.execute("SELECT user_id, chat_id, nonce, step, data FROM desk_wizards WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return NewWizard(row[0], row[1], row[2], row[3], json.loads(row[4])) if row else None


async def save_wizard(conn: aiosqlite.Connection, wizard: NewWizard, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO desk_wizards(user_id, chat_id, nonce, step, data, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET chat_id = excluded.chat_id, nonce = excluded.nonce, step = excluded.step, "
        "data = excluded.data, updated_at = excluded.updated_at",
        (wizard.user_id, wizard.chat_id, wizard.nonce, wizard.step, json.dumps(wizard.data, ensure_ascii=False), to_iso(now)),
    )


async def delete_wizard(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM desk_wizards WHERE user_id = ?", (user_id,))


async def claim_daily(conn: aiosqlite.Connection, day: str, now: datetime) -> bool:
    """True the first time ``day``'s count is claimed: a restart or a second sweep posts it once."""
    cur = await conn.execute("INSERT OR IGNORE INTO desk_daily(day, sent_at) VALUES (?, ?)", (day, to_iso(now)))
    return cur.rowcount == 1
