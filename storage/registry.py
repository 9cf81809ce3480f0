"""The staff registry's change log, the applied organisation file, and groups' moved chat ids
(Art. 12: hotline staff registered with dispatch, every change reported at once)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from rules.org import Staff
from storage.db import insert_id

__all__ = [
    "LoggedChange", "AppliedFile", "HeldTicket", "last_applied", "record_apply", "recent_changes", "all_staff",
    "open_tickets_held_by", "chat_moves", "record_chat_move", "move_chat", "move_chat_messages",
]


@dataclass(frozen=True)
class AppliedFile:
    id: int
    applied_at: datetime
    applied_by: str
    text: str


@dataclass(frozen=True)
class LoggedChange:
    apply_id: int
    applied_at: datetime
    applied_by: str
    section: str
    item: str
    label: str | None
    change: str
    field: str | None
    old: str | None
    new: str | None


@dataclass(frozen=True)
class HeldTicket:
    ticket_id: int
    number: str
    centre_id: str | None
    held_by: int


async def last_applied(conn: aiosqlite.Connection) -> AppliedFile | None:
    async with conn.execute("SELECT id, applied_at, applied_by, text FROM org_applies ORDER BY id DESC LIMIT 1") as cur:
        row = await cur.fetchone()
    return AppliedFile(row[0], datetime.fromisoformat(row[1]), row[2], row[3]) if row else None


async def record_apply(conn: aiosqlite.Connection, now: datetime, by: str, path: str | None, text: str,
                       changes: list) -> int:
    """One apply and its changes (rules.orgdiff.Change); returns the apply's id."""
    apply_id = await insert_id(
        conn, "INSERT INTO org_applies(applied_at, applied_by, path, text) VALUES (?, ?, ?, ?)",
                             (now.isoformat(), by, path, text))
    await conn.executemany(
        "INSERT INTO org_changes(apply_id, section, item, label, change, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(apply_id, c.section, c.item, c.label, c.change, c.field, c.old, c.new) for c in changes])
    return apply_id


async def recent_changes(conn: aiosqlite.Connection, limit: int) -> list[LoggedChange]:
    """The newest ``limit`` changes, newest apply first, each apply's changes in order."""
    async with conn.execute(
        "SELECT a.id, a.applied_at, a.applied_by, c.section, c.item, c.label, c.change, c.field, c.old, c.new "
        "FROM org_changes c JOIN org_applies a ON a.id = c.apply_id ORDER BY a.id DESC, c.id LIMIT ?", (limit,)
    ) as cur:
        return [LoggedChange(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in await cur.fetchall()]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


async def all_staff(conn: aiosqlite.Connection) -> list[Staff]:
    """Everyone registered, with their dates, in the order of the organisation file."""
    async with conn.execute("SELECT user_id, name, phone, centre_id, role, valid_from, valid_to FROM staff ORDER BY rowid") as cur:
        return [Staff(*r[:5], valid_from=_day(r[5]), valid_to=_day(r[6])) for r in await cur.fetchall()]


async def open_tickets_held_by(conn: aiosqlite.Connection, user_ids: list[int]) -> list[HeldTicket]:
    """Open tickets accepted by one of ``user_ids`` (they stay with their centre when the
    person leaves the registry)."""
    if not user_ids:
        return []
    marks = ",".join("?" * len(user_ids))
    async with conn.execute(
        f"SELECT id, centre_id, accepted_by FROM tickets WHERE accepted_by IN ({marks}) "
        "AND status != 'closed' ORDER BY id", user_ids,
    ) as cur:
        return [HeldTicket(r[0], f"{r[0]:04d}", r[1], r[2]) for r in await cur.fetchall()]


async def chat_moves(conn: aiosqlite.Connection) -> dict[int, int]:
    """Old chat id -> the chat id it moved to, followed to the end (a chain of moves)."""
    async with conn.execute("SELECT old_chat_id, new_chat_id FROM chat_moves") as cur:
        raw = {r[0]: r[1] for r in await cur.fetchall()}
    final: dict[int, int] = {}
    for old in raw:
        new, seen = raw[old], {old}
        while new in raw and new not in seen:
            seen.add(new)
            new = raw[new]
        final[old] = new
    return final


async def record_chat_move(conn: aiosqlite.Connection, old: int, new: int, now: datetime) -> None:
    await conn.execute("INSERT INTO chat_moves(old_chat_id, new_chat_id, moved_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(old_chat_id) DO UPDATE SET new_chat_id = excluded.new_chat_id, moved_at = excluded.moved_at",
                       (old, new, now.isoformat()))


async def move_chat(conn: aiosqlite.Connection, old: int, new: int) -> list[str]:
    """Point the organisation's settings and centres at ``new`` instead of ``old``. Returns what
    the chat was ("dispatch_chat_id", "centre:<id>"); empty for a chat we do not know."""
    roles: list[str] = []
    async with conn.execute("SELECT key FROM org_settings WHERE value = ?", (str(old),)) as cur:
        roles += [r[0] for r in await cur.fetchall()]
    async with conn.execute("SELECT id FROM centres WHERE chat_id = ?", (old,)) as cur:
        roles += [f"centre:{r[0]}" for r in await cur.fetchall()]
    if not roles:
        return roles
    await conn.execute("UPDATE org_settings SET value = ? WHERE value = ?", (str(new), str(old)))
    await conn.execute("UPDATE centres SET chat_id = ? WHERE chat_id = ?", (new, old))
    return roles


async def move_chat_messages(conn: aiosqlite.Connection, old: int, new: int) -> list[int]:
    """Send what waits for chat ``old`` to ``new`` instead, re-queue what failed there because
    the group had moved, and forget the open tickets' cards there (a card in the old group can
    no longer be edited). Returns the ids of those open tickets, whose cards are to be posted
    afresh."""
    await conn.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'", (new, old))
    await conn.execute(
        "UPDATE outbox SET chat_id = ?, status = 'pending', error = NULL, sent_at = NULL, claimed_by = NULL, "
        "claimed_at = NULL WHERE chat_id = ? AND status = 'failed' "
        "AND (error LIKE '%upgraded to a supergroup%' OR error LIKE 'group moved to chat%')", (new, old))
    async with conn.execute("SELECT id FROM tickets WHERE card_chat_id = ? AND status != 'closed' ORDER BY id", (old,)) as cur:
        reopen = [r[0] for r in await cur.fetchall()]
    await conn.execute("UPDATE tickets SET card_chat_id = ?, card_message_id = NULL WHERE card_chat_id = ?", (new, old))
    return reopen
