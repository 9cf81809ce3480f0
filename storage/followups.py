"""Follow-ups (Art. 8), repeat reports (Art. 23, 24) and building-wide alerts: the SQL."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_one

from storage.timestamps import dump_json, from_iso, to_iso

__all__ = [
    "Followup", "ask", "get", "set_state", "answer", "waiting_for_text", "due_unanswered", "phone_list", "record_phone",
    "set_place_keys", "open_for_flat", "last_closed_for_flat", "mark_repeat", "add_complaint",
    "recent_in_building", "cluster_alerted_since", "add_cluster_alert", "counts_by_centre",
]


@dataclass(frozen=True)
class Followup:
    ticket_id: int
    round: int
    asked_at: datetime
    due_at: datetime
    state: str
    solved: bool | None
    rating: int | None
    comment: str | None
    phone_result: str | None


_COLS = "ticket_id, round, asked_at, due_at, state, solved, rating, comment, phone_result"


def _row(r: aiosqlite.Row) -> Followup:
    return Followup(r[0], r[1], from_iso(r[2]), from_iso(r[3]), r[4], None if r[5] is None else bool(r[5]), r[6], r[7], r[8])


async def ask(conn: aiosqlite.Connection, ticket_id: int, round_: int, now: datetime, due: datetime) -> None:
    """A fresh question for this closing; an earlier round's answers stay in the ledger."""
    await conn.execute(
        f"INSERT INTO followups({_COLS}) VALUES (?, ?, ?, ?, 'asked', NULL, NULL, NULL, NULL) "
        "ON CONFLICT(ticket_id) DO UPDATE SET round = excluded.round, asked_at = excluded.asked_at, due_at = excluded.due_at, "
        "state = 'asked', solved = NULL, rating = NULL, comment = NULL, phone_result = NULL, answered_at = NULL, answered_by = NULL",
        (ticket_id, round_, to_iso(now), to_iso(due)),
    )


async def get(conn: aiosqlite.Connection, ticket_id: int) -> Followup | None:
    async with conn.execute(f"SELECT {_COLS} FROM followups WHERE ticket_id = ?", (ticket_id,)) as cur:
        r = await cur.fetchone()
    return _row(r) if r else None


async def set_state(conn: aiosqlite.Connection, ticket_id: int, *, from_states: tuple[str, ...], to_state: str) -> bool:
    """Compare-and-set on the state: a second press of the same button changes nothing."""
    marks = ", ".join("?" * len(from_states))
    cur = await conn.execute(f"UPDATE followups SET state = ? WHERE ticket_id = ? AND state IN ({marks})",
                             (to_state, ticket_id, *from_states))
    return cur.rowcount == 1


async def answer(conn: aiosqlite.Connection, ticket_id: int, now: datetime, by: int, *, solved: bool | None = None,
                 rating: int | None = None, comment: str | None = None) -> None:
    sets, args = ["answered_at = ?", "answered_by = ?"], [to_iso(now), by]
    for column, value in (("solved", None if solved is None else int(solved)), ("rating", rating), ("comment", comment)):
        if value is not None:
            sets.append(f"{column} = ?")
            args.append(value)
    await conn.execute(f"UPDATE followups SET {', '.join(sets)} WHERE ticket_id = ?", (*args, ticket_id))


async def waiting_for_text(conn: aiosqlite.Connection, user_id: int, since: datetime) -> tuple[int, str] | None:
    """(ticket, state) of the resident's follow-up that waits for typed words (a comment after
    a rating, or what is still wrong after a reopen); the newest if several."""
    async with conn.execute(
        "SELECT f.ticket_id, f.state FROM followups f JOIN tickets t ON t.id = f.ticket_id "
        "WHERE t.resident_user_id = ? AND f.state IN ('comment', 'reason') AND f.answered_at >= ? "
        "ORDER BY f.answered_at DESC, f.ticket_id DESC LIMIT 1",
        (user_id, to_iso(since)),
    ) as cur:
        r = await cur.fetchone()
    return (r[0], r[1]) if r else None


async def due_unanswered(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[int]:
    async with conn.execute(
        "SELECT ticket_id FROM followups WHERE state = 'asked' AND due_at <= ? ORDER BY due_at, ticket_id LIMIT ?",
        (to_iso(now), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def phone_list(conn: aiosqlite.Connection, limit: int) -> list[int]:
    async with conn.execute(
        "SELECT ticket_id FROM followups WHERE state = 'listed' ORDER BY due_at, ticket_id LIMIT ?", (limit,),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def record_phone(conn: aiosqlite.Connection, ticket_id: int, result: str, now: datetime, by: int) -> bool:
    cur = await conn.execute(
        "UPDATE followups SET state = 'phoned', phone_result = ?, answered_at = ?, answered_by = ? "
        "WHERE ticket_id = ? AND state = 'listed'",
        (result, to_iso(now), by, ticket_id),
    )
    return cur.rowcount == 1


# ------------------------------------------------------------------ repeats and complaints


async def set_place_keys(conn: aiosqlite.Connection, ticket_id: int, flat: str | None, building: str | None) -> None:
    await conn.execute("UPDATE tickets SET flat_key = ?, building_key = ? WHERE id = ?", (flat, building, ticket_id))


def _place(by_building: bool) -> str:
    return "building_key" if by_building else "flat_key"


async def open_for_flat(conn: aiosqlite.Connection, community_id: str, key: str, category: str, by_building: bool) -> int | None:
    """The oldest open ticket of this category for this flat (or building)."""
    r = await fetch_one(conn,
        f"SELECT id FROM tickets WHERE community_id = ? AND {_place(by_building)} = ? AND category = ? AND status != 'closed' "
        "ORDER BY id LIMIT 1",
        (community_id, key, category),
    )
    return r[0] if r else None


async def last_closed_for_flat(conn: aiosqlite.Connection, community_id: str, key: str, category: str,
                               by_building: bool) -> tuple[int, datetime] | None:
    """The most recently closed repaired ticket of this category for this flat (or building)."""
    r = await fetch_one(conn,
        f"SELECT id, closed_at FROM tickets WHERE community_id = ? AND {_place(by_building)} = ? AND category = ? "
        "AND status = 'closed' AND outcome = 'done' AND closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT 1",
        (community_id, key, category),
    )
    return (r[0], from_iso(r[1])) if r else None


async def mark_repeat(conn: aiosqlite.Connection, ticket_id: int, repeat_of: int) -> None:
    await conn.execute("UPDATE tickets SET repeat_of = ? WHERE id = ?", (repeat_of, ticket_id))


async def add_complaint(conn: aiosqlite.Connection, ticket_id: int) -> int:
    """One more report about an open ticket; returns how many there are now."""
    await conn.execute("UPDATE tickets SET complaints = complaints + 1 WHERE id = ?", (ticket_id,))
    async with conn.execute("SELECT complaints FROM tickets WHERE id = ?", (ticket_id,)) as cur:
        return (await cur.fetchone())[0]


async def recent_in_building(conn: aiosqlite.Connection, community_id: str, building: str, category: str,
                             since: datetime) -> list[tuple[int, datetime]]:
    return [(r[0], from_iso(r[1])) for r in await conn.execute_fetchall(
        "SELECT id, received_at FROM tickets WHERE community_id = ? AND building_key = ? AND category = ? AND received_at >= ? "
        "ORDER BY id",
        (community_id, building, category, to_iso(since)),
    )]


async def cluster_alerted_since(conn: aiosqlite.Connection, community_id: str, building: str, category: str, since: datetime) -> bool:
    return await fetch_one(conn,
        "SELECT 1 FROM cluster_alerts WHERE community_id = ? AND building_key = ? AND category = ? AND at >= ? LIMIT 1",
        (community_id, building, category, to_iso(since)),
    ) is not None


async def add_cluster_alert(conn: aiosqlite.Connection, community_id: str, building: str, category: str, at: datetime,
                            ticket_ids: list[int]) -> None:
    await conn.execute(
        "INSERT INTO cluster_alerts(community_id, building_key, category, at, tickets) VALUES (?, ?, ?, ?, ?)",
        (community_id, building, category, to_iso(at), dump_json(ticket_ids)),
    )


async def counts_by_centre(conn: aiosqlite.Connection, since: datetime) -> dict[str, dict[str, int]]:
    """Per centre, since ``since``: reopens, repeat faults and repeated complaints, as the ledger
    has them (Art. 8, 23, 24: counted for the centres' assessment)."""
    counts: dict[str, dict[str, int]] = {}
    async with conn.execute(
        "SELECT e.kind, e.detail FROM ticket_events e WHERE e.kind IN ('reopened', 'repeat_fault', 'complaint') AND e.at >= ?",
        (to_iso(since),),
    ) as cur:
        for kind, detail in await cur.fetchall():
            centre = json.loads(detail).get("centre") or ""
            counts.setdefault(centre, {"reopened": 0, "repeat_fault": 0, "complaint": 0})[kind] += 1
    return counts
