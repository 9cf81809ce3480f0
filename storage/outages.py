"""Outages, their posting tasks, record, messages, the dispatcher's wizard and residents'
subscriptions (migration 0004)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import fetch_one, insert_id
from storage.timestamps import dump_json, from_iso, to_iso

__all__ = [
    "Outage", "NewOutage", "Posting", "Wizard", "Subscriber", "Progress",
    "insert_outage", "get_outage", "decide", "publish", "set_end", "mark_restored", "set_panel", "due_reminders",
    "clear_reminder", "outages_for_communities", "active_for_community", "add_event", "list_events",
    "create_posting", "get_posting", "posting_for_notice", "postings_of", "due_postings", "advance_posting",
    "mark_posted", "attach_photo", "stop_postings", "set_posting_notice",
    "link_message", "progress", "panels_to_refresh", "message_of",
    "get_wizard", "save_wizard", "delete_wizard",
    "subscribe", "unsubscribe_all", "subscriptions_of", "subscribers_of",
    "link_ticket", "linked_tickets", "in_progress",
]


def _t(value: str | None) -> datetime | None:
    return from_iso(value) if value else None


@dataclass(frozen=True)
class NewOutage:
    kind: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    communities: tuple[str, ...]
    chat_id: int
    created_by: int
    created_name: str
    created_at: datetime
    buildings: str | None = None
    pipe_diameter: str | None = None
    valves: str | None = None
    area: str | None = None
    short_notice: bool = False


@dataclass(frozen=True)
class Outage:
    id: int
    kind: str
    status: str
    reason: str
    buildings: str | None
    pipe_diameter: str | None
    valves: str | None
    area: str | None
    starts_at: datetime
    ends_at: datetime
    original_ends_at: datetime
    short_notice: bool
    chat_id: int
    created_by: int
    created_name: str | None
    created_at: datetime
    decided_by: int | None
    decided_name: str | None
    decided_at: datetime | None
    published_at: datetime | None
    restored_at: datetime | None
    restored_by: int | None
    restored_name: str | None
    reminder_at: datetime | None
    panel_outbox_id: int | None
    panel_text: str | None
    panel_at: datetime | None
    communities: tuple[str, ...] = field(default=())

    @property
    def number(self) -> str:
        return f"T{self.id:03d}"


_COLS = (
    "id, kind, status, reason, buildings, pipe_diameter, valves, area, starts_at, ends_at, original_ends_at, short_notice, "
    "chat_id, created_by, created_name, created_at, decided_by, decided_name, decided_at, published_at, restored_at, "
    "restored_by, restored_name, reminder_at, panel_outbox_id, panel_text, panel_at"
)
_TIMES = {8, 9, 10, 15, 18, 19, 20, 23, 26}


async def _communities(conn: aiosqlite.Connection, outage_id: int) -> tuple[str, ...]:
    async with conn.execute("SELECT community_id FROM outage_communities WHERE outage_id = ? ORDER BY rowid", (outage_id,)) as cur:
        return tuple(r[0] for r in await cur.fetchall())


async def _row(conn: aiosqlite.Connection, row) -> Outage:
    values = [(_t(v) if i in _TIMES else v) for i, v in enumerate(row)]
    values[11] = bool(values[11])
    return Outage(*values, communities=await _communities(conn, row[0]))


async def insert_outage(conn: aiosqlite.Connection, new: NewOutage, status: str) -> int:
    outage_id = await insert_id(
        conn, "INSERT INTO outages(kind, status, reason, buildings, pipe_diameter, valves, area, starts_at, ends_at, original_ends_at, "
        "short_notice, chat_id, created_by, created_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (new.kind, status, new.reason, new.buildings, new.pipe_diameter, new.valves, new.area, to_iso(new.starts_at),
         to_iso(new.ends_at), to_iso(new.ends_at), int(new.short_notice), new.chat_id, new.created_by, new.created_name,
         to_iso(new.created_at)),
    )
    await conn.executemany("INSERT INTO outage_communities(outage_id, community_id) VALUES (?, ?)",
                           [(outage_id, c) for c in new.communities])
    return outage_id


async def get_outage(conn: aiosqlite.Connection, outage_id: int) -> Outage | None:
    async with conn.execute(f"SELECT {_COLS} FROM outages WHERE id = ?", (outage_id,)) as cur:
        row = await cur.fetchone()
    return await _row(conn, row) if row else None


async def decide(conn: aiosqlite.Connection, outage_id: int, status: str, by: int, name: str, at: datetime) -> bool:
    """Approve or reject a pending outage; False if someone decided first."""
    cur = await conn.execute(
        "UPDATE outages SET status = ?, decided_by = ?, decided_name = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        (status, by, name, to_iso(at), outage_id),
    )
    return cur.rowcount == 1


async def publish(conn: aiosqlite.Connection, outage_id: int, at: datetime, reminder_at: datetime | None) -> None:
    await conn.execute("UPDATE outages SET status = 'published', published_at = ?, reminder_at = ? WHERE id = ?",
                       (to_iso(at), to_iso(reminder_at) if reminder_at else None, outage_id))


async def set_end(conn: aiosqlite.Connection, outage_id: int, ends_at: datetime) -> bool:
    cur = await conn.execute("UPDATE outages SET ends_at = ? WHERE id = ? AND status = 'published' AND restored_at IS NULL",
                             (to_iso(ends_at), outage_id))
    return cur.rowcount == 1


async def mark_restored(conn: aiosqlite.Connection, outage_id: int, by: int, name: str, at: datetime) -> bool:
    """Heat is back; False if it already was (compare-and-set: a second press changes nothing)."""
    cur = await conn.execute(
        "UPDATE outages SET status = 'restored', restored_at = ?, restored_by = ?, restored_name = ?, reminder_at = NULL "
        "WHERE id = ? AND status = 'published' AND restored_at IS NULL",
        (to_iso(at), by, name, outage_id),
    )
    return cur.rowcount == 1


async def set_panel(conn: aiosqlite.Connection, outage_id: int, *, outbox_id: int | None = None, text: str, at: datetime) -> None:
    if outbox_id is not None:
        await conn.execute("UPDATE outages SET panel_outbox_id = ?, panel_text = ?, panel_at = ? WHERE id = ?",
                           (outbox_id, text, to_iso(at), outage_id))
    else:
        await conn.execute("UPDATE outages SET panel_text = ?, panel_at = ? WHERE id = ?", (text, to_iso(at), outage_id))


async def due_reminders(conn: aiosqlite.Connection, now: datetime, limit: int = 50) -> list[Outage]:
    async with conn.execute(f"SELECT {_COLS} FROM outages WHERE reminder_at IS NOT NULL AND reminder_at <= ? ORDER BY reminder_at LIMIT ?",
                            (to_iso(now), limit)) as cur:
        rows = await cur.fetchall()
    return [await _row(conn, r) for r in rows]


async def clear_reminder(conn: aiosqlite.Connection, outage_id: int) -> bool:
    cur = await conn.execute("UPDATE outages SET reminder_at = NULL WHERE id = ? AND reminder_at IS NOT NULL", (outage_id,))
    return cur.rowcount == 1


async def outages_for_communities(conn: aiosqlite.Connection, community_ids: list[str] | tuple[str, ...]) -> list[Outage]:
    """Published, not restored outages touching any of these communities, soonest first."""
    if not community_ids:
        return []
    marks = ",".join("?" * len(community_ids))
    async with conn.execute(
        f"SELECT {_COLS} FROM outages WHERE status = 'published' AND id IN "
        f"(SELECT outage_id FROM outage_communities WHERE community_id IN ({marks})) ORDER BY starts_at, id",
        tuple(community_ids),
    ) as cur:
        rows = await cur.fetchall()
    return [await _row(conn, r) for r in rows]


async def active_for_community(conn: aiosqlite.Connection, community_id: str, now: datetime) -> Outage | None:
    """The shutdown that has this community cold now (the latest started, if several)."""
    row = await fetch_one(conn,
        f"SELECT {_COLS} FROM outages WHERE status = 'published' AND kind <> 'calibration' AND restored_at IS NULL "
        "AND starts_at <= ? AND id IN (SELECT outage_id FROM outage_communities WHERE community_id = ?) "
        "ORDER BY starts_at DESC, id DESC LIMIT 1",
        (to_iso(now), community_id),
    )
    return await _row(conn, row) if row else None


async def add_event(conn: aiosqlite.Connection, outage_id: int, at: datetime, kind: str, actor_id: int | None = None,
                    actor: str | None = None, detail: dict[str, Any] | None = None) -> None:
    await conn.execute(
        "INSERT INTO outage_events(outage_id, at, kind, actor_id, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (outage_id, to_iso(at), kind, actor_id, actor, dump_json(detail or {})),
    )


async def list_events(conn: aiosqlite.Connection, outage_id: int) -> list[tuple[datetime, str, str | None, dict[str, Any]]]:
    async with conn.execute("SELECT at, kind, actor, detail FROM outage_events WHERE outage_id = ? ORDER BY id", (outage_id,)) as cur:
        return [(from_iso(r[0]), r[1], r[2], json.loads(r[3] or "{}")) for r in await cur.fetchall()]


# ----------------------------------------------------------------------------- postings


@dataclass(frozen=True)
class Posting:
    id: int
    outage_id: int
    centre_id: str
    chat_id: int
    communities: tuple[str, ...]
    due_at: datetime
    stage: int
    next_at: datetime | None
    notice_outbox_id: int | None
    posted_at: datetime | None
    posted_by: int | None
    posted_name: str | None
    late: bool | None
    photo_file_id: str | None


_PCOLS = ("id, outage_id, centre_id, chat_id, communities, due_at, stage, next_at, notice_outbox_id, posted_at, posted_by, "
          "posted_name, late, photo_file_id")


def _posting(r) -> Posting:
    return Posting(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), from_iso(r[5]), r[6], _t(r[7]), r[8], _t(r[9]), r[10], r[11],
                   None if r[12] is None else bool(r[12]), r[13])


async def create_posting(conn: aiosqlite.Connection, outage_id: int, centre_id: str, chat_id: int, communities: list[str],
                         due_at: datetime, next_at: datetime | None, stage: int = 0) -> int:
    return await insert_id(
        conn, "INSERT INTO outage_postings(outage_id, centre_id, chat_id, communities, due_at, stage, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (outage_id, centre_id, chat_id, json.dumps(communities), to_iso(due_at), stage, to_iso(next_at) if next_at else None),
    )


async def set_posting_notice(conn: aiosqlite.Connection, posting_id: int, outbox_id: int) -> None:
    await conn.execute("UPDATE outage_postings SET notice_outbox_id = ? WHERE id = ?", (outbox_id, posting_id))


async def get_posting(conn: aiosqlite.Connection, posting_id: int) -> Posting | None:
    async with conn.execute(f"SELECT {_PCOLS} FROM outage_postings WHERE id = ?", (posting_id,)) as cur:
        row = await cur.fetchone()
    return _posting(row) if row else None


async def posting_for_notice(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> Posting | None:
    """The posting task whose notice is this message (a crew's photo replies to it)."""
    async with conn.execute(
        f"SELECT {', '.join('p.' + c.strip() for c in _PCOLS.split(','))} FROM outage_postings p "
        "JOIN outbox o ON o.id = p.notice_outbox_id WHERE o.chat_id = ? AND o.message_id = ?",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return _posting(row) if row else None


async def postings_of(conn: aiosqlite.Connection, outage_id: int) -> list[Posting]:
    async with conn.execute(f"SELECT {_PCOLS} FROM outage_postings WHERE outage_id = ? ORDER BY id", (outage_id,)) as cur:
        return [_posting(r) for r in await cur.fetchall()]


async def due_postings(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Posting]:
    async with conn.execute(f"SELECT {_PCOLS} FROM outage_postings WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?",
                            (to_iso(now), limit)) as cur:
        return [_posting(r) for r in await cur.fetchall()]


async def advance_posting(conn: aiosqlite.Connection, posting_id: int, *, from_stage: int, to_stage: int, next_at: datetime | None) -> bool:
    cur = await conn.execute(
        "UPDATE outage_postings SET stage = ?, next_at = ? WHERE id = ? AND stage = ? AND posted_at IS NULL",
        (to_stage, to_iso(next_at) if next_at else None, posting_id, from_stage),
    )
    return cur.rowcount == 1


async def mark_posted(conn: aiosqlite.Connection, posting_id: int, by: int, name: str, at: datetime, late: bool) -> bool:
    cur = await conn.execute(
        "UPDATE outage_postings SET posted_at = ?, posted_by = ?, posted_name = ?, late = ?, next_at = NULL "
        "WHERE id = ? AND posted_at IS NULL",
        (to_iso(at), by, name, int(late), posting_id),
    )
    return cur.rowcount == 1


async def attach_photo(conn: aiosqlite.Connection, posting_id: int, file_id: str) -> None:
    await conn.execute("UPDATE outage_postings SET photo_file_id = ? WHERE id = ?", (file_id, posting_id))


async def stop_postings(conn: aiosqlite.Connection, outage_id: int) -> None:
    """No more reminders for notices of an outage that is over."""
    await conn.execute("UPDATE outage_postings SET next_at = NULL WHERE outage_id = ?", (outage_id,))


# ----------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    sent: int
    failed: int
    blocked: int

    @property
    def done(self) -> bool:
        return self.pending == 0


async def link_message(conn: aiosqlite.Connection, outbox_id: int, outage_id: int, audience: str) -> None:
    await conn.execute("INSERT INTO outage_messages(outbox_id, outage_id, audience) VALUES (?, ?, ?)", (outbox_id, outage_id, audience))


async def progress(conn: aiosqlite.Connection, outage_id: int, audience: str = "resident") -> Progress:
    """Residents' messages of an outage by delivery state; "blocked" are the permanent
    failures where the person blocked the bot or deleted the chat."""
    async with conn.execute(
        "SELECT COUNT(*), SUM(CASE WHEN o.status = 'pending' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.status = 'sent' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.status = 'failed' AND (lower(o.error) LIKE '%blocked%' OR lower(o.error) LIKE '%deactivated%' "
        "OR lower(o.error) LIKE '%chat not found%') THEN 1 ELSE 0 END) "
        "FROM outage_messages m JOIN outbox o ON o.id = m.outbox_id WHERE m.outage_id = ? AND m.audience = ?",
        (outage_id, audience),
    ) as cur:
        total, pending, sent, blocked = await cur.fetchone()
    total, pending, sent, blocked = total or 0, pending or 0, sent or 0, blocked or 0
    return Progress(total, pending, sent, total - pending - sent - blocked, blocked)


async def panels_to_refresh(conn: aiosqlite.Connection, since: datetime, limit: int = 50) -> list[int]:
    """Outages whose progress message may be behind: published, or restored since ``since``
    (their restoration broadcast is still going out). Few at any time."""
    async with conn.execute(
        "SELECT id FROM outages WHERE panel_outbox_id IS NOT NULL AND status IN ('published', 'restored') "
        "AND (status = 'published' OR restored_at >= ?) ORDER BY id LIMIT ?",
        (to_iso(since), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def message_of(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> tuple[int, str, dict[str, Any]] | None:
    """(outage id, audience, payload) of the outage message that is this Telegram message."""
    async with conn.execute(
        "SELECT m.outage_id, m.audience, o.payload FROM outbox o JOIN outage_messages m ON m.outbox_id = o.id "
        "WHERE o.chat_id = ? AND o.message_id = ?",
        (chat_id, message_id),
    ) as cur:
        row = await cur.fetchone()
    return (row[0], row[1], json.loads(row[2])) if row else None


# ----------------------------------------------------------------------------- wizard


@dataclass
class Wizard:
    user_id: int
    chat_id: int
    nonce: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def get_wizard(conn: aiosqlite.Connection, user_id: int) -> Wizard | None:
    async with conn.execute("SELECT user_id, chat_id, nonce, step, data FROM outage_wizards WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return Wizard(row[0], row[1], row[2], row[3], json.loads(row[4])) if row else None


async def save_wizard(conn: aiosqlite.Connection, wizard: Wizard, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO outage_wizards(user_id, chat_id, nonce, step, data, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id) DO UPDATE SET chat_id = excluded.chat_id, nonce = excluded.nonce, step = excluded.step, "
        "data = excluded.data, updated_at = excluded.updated_at",
        (wizard.user_id, wizard.chat_id, wizard.nonce, wizard.step, json.dumps(wizard.data, ensure_ascii=False), to_iso(now)),
    )


async def delete_wizard(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM outage_wizards WHERE user_id = ?", (user_id,))


# ----------------------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class Subscriber:
    user_id: int
    chat_id: int
    lang: str


async def subscribe(conn: aiosqlite.Connection, user_id: int, chat_id: int, community_id: str, lang: str, now: datetime) -> bool:
    """True if this is a new subscription (the language is refreshed either way)."""
    cur = await conn.execute(
        "INSERT INTO subscriptions(user_id, community_id, chat_id, lang, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(user_id, community_id) DO NOTHING",
        (user_id, community_id, chat_id, lang, to_iso(now)),
    )
    if cur.rowcount == 1:
        return True
    await conn.execute("UPDATE subscriptions SET lang = ?, chat_id = ? WHERE user_id = ? AND community_id = ?",
                       (lang, chat_id, user_id, community_id))
    return False


async def unsubscribe_all(conn: aiosqlite.Connection, user_id: int) -> list[str]:
    communities = await subscriptions_of(conn, user_id)
    await conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
    return communities


async def subscriptions_of(conn: aiosqlite.Connection, user_id: int) -> list[str]:
    async with conn.execute("SELECT community_id FROM subscriptions WHERE user_id = ? ORDER BY created_at, community_id", (user_id,)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def subscribers_of(conn: aiosqlite.Connection, community_ids: list[str] | tuple[str, ...]) -> list[Subscriber]:
    """Everyone subscribed to any of these communities, once each. The language is the one
    chosen with /language if any, else the one recorded when they subscribed."""
    if not community_ids:
        return []
    marks = ",".join("?" * len(community_ids))
    async with conn.execute(
        "SELECT s.user_id, MIN(s.chat_id), COALESCE(MAX(CASE WHEN u.lang_chosen = 1 THEN u.lang END), MIN(s.lang)) "
        f"FROM subscriptions s LEFT JOIN users u ON u.user_id = s.user_id WHERE s.community_id IN ({marks}) "
        "GROUP BY s.user_id ORDER BY s.user_id",
        tuple(community_ids),
    ) as cur:
        return [Subscriber(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def link_ticket(conn: aiosqlite.Connection, ticket_id: int, outage_id: int) -> None:
    await conn.execute("UPDATE tickets SET outage_id = ? WHERE id = ?", (outage_id, ticket_id))


async def linked_tickets(conn: aiosqlite.Connection, outage_id: int) -> list[int]:
    async with conn.execute("SELECT id FROM tickets WHERE outage_id = ? ORDER BY id", (outage_id,)) as cur:
        return [r[0] for r in await cur.fetchall()]


async def in_progress(conn: aiosqlite.Connection, since: datetime, centre_id: str | None = None) -> list[Outage]:
    """Published outages not yet restored, and those restored since ``since`` (their
    restoration is still being told), soonest start first; with ``centre_id``, those whose
    communities the centre serves or that gave it a notice to post (the board's outages tab)."""
    async with conn.execute(
        f"SELECT {_COLS} FROM outages WHERE (status = 'published' AND restored_at IS NULL "
        "OR status = 'restored' AND restored_at >= :since) AND (:centre IS NULL "
        "OR id IN (SELECT oc.outage_id FROM outage_communities oc JOIN community_centres cc ON cc.community_id = oc.community_id "
        "WHERE cc.centre_id = :centre) OR id IN (SELECT outage_id FROM outage_postings WHERE centre_id = :centre)) "
        "ORDER BY restored_at IS NOT NULL, starts_at, id",
        {"centre": centre_id, "since": to_iso(since)},
    ) as cur:
        rows = await cur.fetchall()
    return [await _row(conn, r) for r in rows]
