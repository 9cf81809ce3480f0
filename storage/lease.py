"""The sender lease: which instance may send for a bot (table ``sender_lease``, migration 0013).

Several heatbot instances on one PostgreSQL database all handle updates and commit outbox rows,
but Telegram's flood limits are per bot, so one instance at a time sends. The lease is a row per
bot with its holder and an expiry; taking it is one conditional upsert (``ON CONFLICT … DO UPDATE
… WHERE``), so two instances trying at the same moment cannot both win, on either backend. The
timing (how long, how often, what a holder may assume between renewals) is bot/lease.py's.

Times are the instances' wall clocks as ISO text (storage.timestamps), which sort as time does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.timestamps import from_iso, to_iso

__all__ = ["Lease", "Taken", "current", "take", "release", "release_other_claims"]


@dataclass(frozen=True)
class Lease:
    bot_id: int
    holder: str
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Taken:
    """The lease is ours until ``expires_at``; ``fresh`` when it was someone else's (or nobody's)
    before this call, rather than a renewal of our own."""
    expires_at: datetime
    fresh: bool


async def current(conn, bot_id: int) -> Lease | None:
    rows = await conn.execute_fetchall(
        "SELECT bot_id, holder, taken_at, renewed_at, expires_at FROM sender_lease WHERE bot_id = ?", (bot_id,))
    if not rows:
        return None
    r = rows[0]
    return Lease(r[0], r[1], from_iso(r[2]), from_iso(r[3]), from_iso(r[4]))


async def take(conn, bot_id: int, holder: str, now: datetime, length: timedelta, *,
               dead_holder: str | None = None) -> Taken | None:
    """Take or renew the lease of ``bot_id`` for ``length`` from ``now``; None if another holder's
    lease has not expired. ``dead_holder``: a holder known to be gone (its process has ended), whose
    lease may be taken before it expires."""
    start, until = to_iso(now), to_iso(now + length)
    rows = await conn.execute_fetchall(
        "INSERT INTO sender_lease (bot_id, holder, taken_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (bot_id) DO UPDATE SET holder = excluded.holder, "
        "taken_at = CASE WHEN sender_lease.holder = excluded.holder THEN sender_lease.taken_at ELSE excluded.taken_at END, "
        "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at "
        "WHERE sender_lease.holder = excluded.holder OR sender_lease.expires_at <= excluded.renewed_at "
        "OR sender_lease.holder = ? "
        "RETURNING taken_at, expires_at",
        (bot_id, holder, start, start, until, dead_holder),
    )
    if not rows:
        return None
    return Taken(from_iso(rows[0][1]), fresh=rows[0][0] == start)


async def release(conn, bot_id: int, holder: str) -> bool:
    """Give the lease up (a holder stopping), so another instance need not wait for it to expire."""
    cur = await conn.execute("DELETE FROM sender_lease WHERE bot_id = ? AND holder = ?", (bot_id, holder))
    return cur.rowcount == 1


async def release_other_claims(conn, holder: str) -> int:
    """Free the outbox rows any sender but ``holder`` has claimed. Called by a new holder: only
    the holder sends, so those rows were in flight at a sender that lost the lease (stopped,
    paused or cut off), and would otherwise never be sent."""
    cur = await conn.execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_at = NULL "
        "WHERE status = 'pending' AND claimed_by IS NOT NULL AND claimed_by <> ?", (holder,))
    return cur.rowcount
