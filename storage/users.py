"""Everyone who has talked to the bot: chosen language and a resident's remembered contact."""
from __future__ import annotations

from datetime import datetime

from dataclasses import dataclass

import aiosqlite

from storage.db import fetch_one
from storage.timestamps import to_iso

__all__ = ["UserRow", "get_user", "set_language", "remember_contact"]


@dataclass(frozen=True)
class UserRow:
    user_id: int
    lang: str | None
    lang_chosen: bool
    name: str | None
    phone: str | None
    community_id: str | None
    community_text: str | None
    address: str | None


async def get_user(conn: aiosqlite.Connection, user_id: int) -> UserRow | None:
    row = await fetch_one(
        conn, "SELECT user_id, lang, lang_chosen, name, phone, community_id, community_text, address FROM users WHERE user_id = ?",
        (user_id,),
    )
    return UserRow(row[0], row[1], bool(row[2]), *row[3:]) if row else None


async def set_language(conn: aiosqlite.Connection, user_id: int, lang: str, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO users(user_id, lang, lang_chosen, updated_at) VALUES (?, ?, 1, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang, lang_chosen = 1, updated_at = excluded.updated_at",
        (user_id, lang, to_iso(now)),
    )


async def remember_contact(
    conn: aiosqlite.Connection, user_id: int, *, name: str | None, phone: str | None,
    community_id: str | None, community_text: str | None, address: str | None, now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO users(user_id, name, phone, community_id, community_text, address, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET name = excluded.name, phone = excluded.phone, community_id = excluded.community_id, "
        "community_text = excluded.community_text, address = excluded.address, updated_at = excluded.updated_at",
        (user_id, name, phone, community_id, community_text, address, to_iso(now)),
    )
