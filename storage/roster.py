"""Rosters and shift handovers as the database holds them (Art. 11, 12)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from rules.roster import Roster, Shift
from storage.db import insert_id
from storage.timestamps import from_iso, to_iso

__all__ = [
    "replace_roster", "load_roster", "Handover", "last_handover", "record_handover", "get_handover",
    "acknowledge_handover", "handovers_for_lead", "mark_lead_told", "OpenTicket", "open_tickets_of",
    "pending_requests_of", "unposted_notices_of",
]


def _ids(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(",") if x)


async def replace_roster(conn: aiosqlite.Connection, roster: Roster | None) -> None:
    """The organisation file's shifts replace the stored ones; handovers already made stay."""
    await conn.execute("DELETE FROM roster_shifts")
    for s in (roster.shifts if roster is not None else ()):
        await conn.execute(
            "INSERT INTO roster_shifts(centre_id, name, start_min, end_min, days, on_date, covers, staff) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (s.centre_id, s.name, s.start, s.end, ",".join(str(d) for d in sorted(s.days)),
             s.date.isoformat() if s.date else None, ",".join(s.covers), ",".join(str(u) for u in s.staff)),
        )


async def load_roster(conn: aiosqlite.Connection) -> Roster:
    """The roster, with only people still in the staff registry: someone removed mid-shift is
    neither mentioned nor sent reminders from then on."""
    known = {r[0] for r in await conn.execute_fetchall("SELECT user_id FROM staff")}
    rows = await conn.execute_fetchall(
        "SELECT centre_id, name, start_min, end_min, days, on_date, covers, staff FROM roster_shifts ORDER BY id",
    )
    shifts = []
    for centre_id, name, start, end, days, on_date, covers, staff in rows:
        people = tuple(int(u) for u in _ids(staff) if int(u) in known)
        shifts.append(Shift(centre_id, start, end, people, frozenset(int(d) for d in _ids(days)),
                            date.fromisoformat(on_date) if on_date else None, _ids(covers), name))
    return Roster(tuple(shifts))


@dataclass(frozen=True)
class Handover:
    id: int
    centre_id: str
    shift_key: str
    starts_at: datetime
    ends_at: datetime
    posted: bool
    chat_id: int | None
    lead_due_at: datetime | None
    ack_by: int | None
    ack_name: str | None
    ack_at: datetime | None


_COLS = "id, centre_id, shift_key, starts_at, ends_at, posted, chat_id, lead_due_at, ack_by, ack_name, ack_at"


def _row(r) -> Handover:
    return Handover(r[0], r[1], r[2], from_iso(r[3]), from_iso(r[4]), bool(r[5]), r[6],
                    from_iso(r[7]) if r[7] else None, r[8], r[9], from_iso(r[10]) if r[10] else None)


async def last_handover(conn: aiosqlite.Connection, centre_id: str) -> Handover | None:
    async with conn.execute(f"SELECT {_COLS} FROM handovers WHERE centre_id = ? ORDER BY id DESC LIMIT 1", (centre_id,)) as cur:
        r = await cur.fetchone()
    return _row(r) if r else None


async def get_handover(conn: aiosqlite.Connection, handover_id: int) -> Handover | None:
    async with conn.execute(f"SELECT {_COLS} FROM handovers WHERE id = ?", (handover_id,)) as cur:
        r = await cur.fetchone()
    return _row(r) if r else None


async def record_handover(conn: aiosqlite.Connection, centre_id: str, shift_key: str, starts_at: datetime, ends_at: datetime,
                          now: datetime, *, posted: bool, chat_id: int | None, lead_due_at: datetime | None) -> int | None:
    """The row for one shift instance; ``None`` if it is there already (another sweep made it)."""
    return await insert_id(
        conn, "INSERT INTO handovers(centre_id, shift_key, starts_at, ends_at, posted, chat_id, created_at, lead_due_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(centre_id, shift_key) DO NOTHING",
        (centre_id, shift_key, to_iso(starts_at), to_iso(ends_at), int(posted), chat_id, to_iso(now),
         to_iso(lead_due_at) if lead_due_at else None))


async def acknowledge_handover(conn: aiosqlite.Connection, handover_id: int, user_id: int, name: str, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE handovers SET ack_by = ?, ack_name = ?, ack_at = ? WHERE id = ? AND ack_at IS NULL",
        (user_id, name, to_iso(now), handover_id),
    )
    return cur.rowcount == 1


async def handovers_for_lead(conn: aiosqlite.Connection, now: datetime) -> list[Handover]:
    """Posted handovers nobody acknowledged in time, whose lead has not been told yet, of
    shifts still running (once the next shift is on, its own handover is what matters)."""
    async with conn.execute(
        f"SELECT {_COLS} FROM handovers WHERE ack_at IS NULL AND lead_told_at IS NULL AND lead_due_at IS NOT NULL "
        "AND lead_due_at <= ? AND ends_at > ? ORDER BY id", (to_iso(now), to_iso(now)),
    ) as cur:
        return [_row(r) for r in await cur.fetchall()]


async def mark_lead_told(conn: aiosqlite.Connection, handover_id: int, now: datetime) -> bool:
    """Compare-and-set: the lead is told once even if two sweeps meet."""
    cur = await conn.execute("UPDATE handovers SET lead_told_at = ? WHERE id = ? AND lead_told_at IS NULL",
                             (to_iso(now), handover_id))
    return cur.rowcount == 1


@dataclass(frozen=True)
class OpenTicket:
    """One open ticket of a centre, as a handover lists it."""
    id: int
    category: str
    status: str
    community_id: str | None
    community_text: str | None
    address: str | None
    next_kind: str | None          # the next open limit, if any
    next_due: datetime | None


async def open_tickets_of(conn: aiosqlite.Connection, centre_id: str) -> list[OpenTicket]:
    """A centre's open tickets with their next open limit, soonest first (none last)."""
    async with conn.execute(
        "SELECT * FROM (SELECT t.id, t.category, t.status, t.community_id, t.community_text, t.address, "
        "(SELECT d.kind FROM deadlines d WHERE d.ticket_id = t.id AND d.state = 'open' ORDER BY d.due_at LIMIT 1), "
        "(SELECT MIN(d.due_at) FROM deadlines d WHERE d.ticket_id = t.id AND d.state = 'open') AS next_due "
        "FROM tickets t WHERE t.centre_id = ? AND t.status != 'closed') AS open_tickets "
        "ORDER BY next_due IS NULL, next_due, id", (centre_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [OpenTicket(r[0], r[1], r[2], r[3], r[4], r[5], r[6], from_iso(r[7]) if r[7] else None) for r in rows]


async def pending_requests_of(conn: aiosqlite.Connection, centre_id: str) -> list[tuple[int, str]]:
    """(ticket id, kind) of the delays and returns a centre asked for that dispatch has not
    decided yet (Art. 13, other rules (3): a return needs dispatch's permission first)."""
    async with conn.execute(
        "SELECT r.ticket_id, r.kind FROM requests r JOIN tickets t ON t.id = r.ticket_id "
        "WHERE t.centre_id = ? AND r.kind IN ('delay', 'return') AND r.status IN ('awaiting_reply', 'pending') ORDER BY r.id",
        (centre_id,),
    ) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


async def unposted_notices_of(conn: aiosqlite.Connection, centre_id: str) -> list[tuple[int, datetime]]:
    """(outage id, posting deadline) of shutdown notices the centre has still to post
    (Art. 14, 15, 23 (4)), soonest first."""
    async with conn.execute(
        "SELECT p.outage_id, p.due_at FROM outage_postings p JOIN outages o ON o.id = p.outage_id "
        "WHERE p.centre_id = ? AND p.posted_at IS NULL AND o.status = 'published' ORDER BY p.due_at",
        (centre_id,),
    ) as cur:
        return [(r[0], from_iso(r[1])) for r in await cur.fetchall()]
