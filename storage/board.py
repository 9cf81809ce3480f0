"""The dispatch board's SQL: login links, sessions, the open-ticket list and what has changed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timestamps import from_iso, to_iso

__all__ = [
    "BoardRow", "Session", "add_login", "redeem_login", "add_session", "get_session", "forget_expired",
    "change_marker", "open_rows", "message_with_button", "open_alerts", "staff_languages",
]


async def add_login(conn: aiosqlite.Connection, token_hash: str, user_id: int, lang: str, now: datetime,
                    expires: datetime) -> None:
    await conn.execute("INSERT INTO board_logins(token_hash, user_id, lang, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                       (token_hash, user_id, lang, to_iso(now), to_iso(expires)))


async def redeem_login(conn: aiosqlite.Connection, token_hash: str, now: datetime) -> tuple[int, str] | None:
    """(user, language) of the link, marking it used; None when unknown, used or expired
    (compare-and-set, so two tabs opening one link get one session)."""
    async with conn.execute(
        "UPDATE board_logins SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id, lang",
        (to_iso(now), token_hash, to_iso(now)),
    ) as cur:
        row = await cur.fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    via: str
    lang: str
    expires_at: datetime


async def add_session(conn: aiosqlite.Connection, token_hash: str, user_id: int, csrf: str, via: str, lang: str,
                      now: datetime, expires: datetime) -> None:
    await conn.execute(
        "INSERT INTO board_sessions(token_hash, user_id, csrf, via, lang, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token_hash, user_id, csrf, via, lang, to_iso(now), to_iso(expires)))


async def get_session(conn: aiosqlite.Connection, token_hash: str, now: datetime) -> Session | None:
    async with conn.execute(
            "SELECT user_id, csrf, via, lang, expires_at FROM board_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, to_iso(now))) as cur:
        row = await cur.fetchone()
    return Session(row[0], row[1], row[2], row[3], from_iso(row[4])) if row else None


async def forget_expired(conn: aiosqlite.Connection, now: datetime) -> None:
    await conn.execute("DELETE FROM board_sessions WHERE expires_at <= ?", (to_iso(now),))
    await conn.execute("DELETE FROM board_logins WHERE expires_at <= ?", (to_iso(now),))


async def change_marker(conn: aiosqlite.Connection) -> tuple[int, ...]:
    """Grows whenever anything the board shows changes: every change to a ticket writes its
    ledger, and the clock's reminders and escalations write alerts. Each MAX is one index step."""
    async with conn.execute(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM tickets), (SELECT COALESCE(MAX(id), 0) FROM ticket_events), "
        "(SELECT COALESCE(MAX(id), 0) FROM alerts), (SELECT COALESCE(MAX(id), 0) FROM requests)"
    ) as cur:
        return tuple(await cur.fetchone())


@dataclass(frozen=True)
class BoardRow:
    id: int
    category: str
    level: str
    status: str
    centre_id: str | None
    community_id: str | None
    community_text: str | None
    address: str | None
    holder: str | None
    next_kind: str | None
    next_due: str | None       # stored time text (UTC ISO): it sorts and compares as time does
    delayed: bool
    returned: bool
    reopened: bool
    pending: bool              # a delay or a return waits for dispatch


# Three reads instead of five lookups per row: the open tickets, their open limits and the
# requests, each from an index that holds only what is open (migration 0011), joined here.
_TICKETS = ("SELECT id, category, level, status, centre_id, community_id, community_text, address, "
            "COALESCE(arrived_by, accepted_by), reopen_count FROM tickets WHERE status <> 'closed'")
# Each open ticket's next limit (its kind and time) and whether any running limit was delayed.
_LIMITS = ("SELECT ticket_id, kind, due_at, delayed FROM (SELECT ticket_id, kind, due_at, "
           "ROW_NUMBER() OVER (PARTITION BY ticket_id ORDER BY due_at, id) AS n, MAX(delayed) OVER (PARTITION BY ticket_id) "
           "AS delayed FROM deadlines WHERE state = 'open') AS limits WHERE n = 1")
_REQUESTS = ("SELECT ticket_id, MAX(CASE WHEN kind = 'return' THEN 1 ELSE 0 END), "
             "MAX(CASE WHEN kind IN ('delay', 'return') AND status = 'pending' THEN 1 ELSE 0 END) "
             "FROM requests GROUP BY ticket_id")


async def open_rows(conn: aiosqlite.Connection, centre_id: str | None = None) -> list[BoardRow]:
    """Every open ticket (of ``centre_id``, when given). ``delayed``: a running limit was moved
    by an approved delay."""
    sql, args = _TICKETS, ()
    if centre_id is not None:
        sql, args = sql + " AND centre_id = ?", (centre_id,)
    # execute_fetchall: one trip to the database thread per read, not three.
    found = await conn.execute_fetchall(sql, args)
    limits = {r[0]: r for r in await conn.execute_fetchall(_LIMITS)}
    asked = {r[0]: r for r in await conn.execute_fetchall(_REQUESTS)}
    names = {r[0]: r[1] for r in await conn.execute_fetchall("SELECT user_id, name FROM staff")}
    none = (None, None, None, 0)
    out = []
    for r in found:
        limit = limits.get(r[0], none)
        request = asked.get(r[0], none)
        out.append(BoardRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], names.get(r[8]), limit[1], limit[2],
                            bool(limit[3]), bool(request[1]), r[9] > 0, bool(request[2])))
    return out


async def message_with_button(conn: aiosqlite.Connection, ticket_id: int, data: str) -> tuple[int, int] | None:
    """(chat, message) of the newest sent message about ``ticket_id`` that carries a button with
    ``data``: the board acts as a press on that very message, so the desk authorises it as one."""
    needle = json.dumps({"data": data}, ensure_ascii=False)[1:-1]
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with conn.execute(
        "SELECT chat_id, message_id, payload FROM outbox WHERE ticket_id = ? AND status = 'sent' AND message_id IS NOT NULL "
        "AND payload LIKE ? ESCAPE '\\' ORDER BY id DESC", (ticket_id, pattern),
    ) as cur:
        rows = await cur.fetchall()
    for chat_id, message_id, payload in rows:
        buttons = json.loads(payload).get("buttons", [])
        if any(b.get("data") == data for line in buttons for b in line):
            return chat_id, message_id
    return None


async def open_alerts(conn: aiosqlite.Connection, ticket_id: int) -> list[tuple[int, str]]:
    """(id, kind) of the ticket's alerts nobody has acknowledged yet, oldest first."""
    async with conn.execute("SELECT id, kind FROM alerts WHERE ticket_id = ? AND ack_by IS NULL ORDER BY id", (ticket_id,)) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


async def staff_languages(conn: aiosqlite.Connection, default: str) -> list[tuple[int, str]]:
    """(user id, language) of every staff member: the language they chose or Telegram's, else ``default``."""
    async with conn.execute(
        "SELECT s.user_id, u.lang FROM staff s LEFT JOIN users u ON u.user_id = s.user_id ORDER BY s.user_id") as cur:
        return [(r[0], r[1] if r[1] in ("zh", "en") else default) for r in await cur.fetchall()]
