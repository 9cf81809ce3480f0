"""A resident's report in progress (one per user)."""
from __future__ import annotations

from datetime import datetime

import json
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage.db import fetch_one
from storage.timestamps import to_iso

__all__ = ["Draft", "get_draft", "draft_and_language", "save_draft", "delete_draft"]


@dataclass
class Draft:
    user_id: int
    nonce: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def get_draft(conn: aiosqlite.Connection, user_id: int) -> Draft | None:
    row = await fetch_one(conn, "SELECT user_id, nonce, step, data FROM drafts WHERE user_id = ?", (user_id,))
    return Draft(row[0], row[1], row[2], json.loads(row[3])) if row else None


async def draft_and_language(conn: aiosqlite.Connection, user_id: int) -> tuple[Draft | None, str | None, bool] | None:
    """The user's draft and their stored language (and whether they chose it) in one round trip,
    for every message of the intake; None when the user has no row yet."""
    row = await fetch_one(
        conn, "SELECT u.lang, u.lang_chosen, d.user_id, d.nonce, d.step, d.data FROM users u "
        "LEFT JOIN drafts d ON d.user_id = u.user_id WHERE u.user_id = ?", (user_id,),
    )
    if row is None:
        return None
    draft = Draft(row[2], row[3], row[4], json.loads(row[5])) if row[2] is not None else None
    return draft, row[0], bool(row[1])


async def save_draft(conn: aiosqlite.Connection, draft: Draft, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO drafts(user_id, nonce, step, data, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET nonce = excluded.nonce, step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
        (draft.user_id, draft.nonce, draft.step, json.dumps(draft.data, ensure_ascii=False), to_iso(now)),
    )


async def delete_draft(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
