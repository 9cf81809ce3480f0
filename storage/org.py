"""The organisation (centres, communities, staff) as the database holds it."""
from __future__ import annotations

import aiosqlite

from storage.db import fetch_one

from rules.intake import community_queries, community_search_forms
from rules.org import ApiChannel, Centre, Community, Staff
from storage.roster import replace_roster

__all__ = [
    "replace_org", "get_setting", "get_centre",
    "centre_by_chat", "list_centres", "get_community", "list_communities", "find_communities", "centre_for", "get_staff", "staff_ids_with_role",
    "channel_by_key_hash", "community_names", "staff_of_centre",
]


async def replace_org(conn: aiosqlite.Connection, org) -> None:  # org: bot.orgfile.Org (any object with its fields)
    """Load the organisation file's content; tickets keep their centre ids."""
    await conn.execute("DELETE FROM org_settings")
    await conn.execute("DELETE FROM community_centres")
    await conn.execute("DELETE FROM staff")
    await conn.execute("DELETE FROM communities")
    for key in ("dispatch_chat_id", "customer_service_chat_id", "leadership_chat_id"):
        value = getattr(org, key)
        await conn.execute("INSERT INTO org_settings(key, value) VALUES (?, ?)", (key, None if value is None else str(value)))
    ids = [c.id for c in org.centres]
    await conn.execute(f"DELETE FROM centres WHERE id NOT IN ({','.join('?' * len(ids))}) AND id NOT IN (SELECT centre_id FROM tickets WHERE centre_id IS NOT NULL)", ids)
    for c in org.centres:
        await conn.execute(
            "INSERT INTO centres(id, name_zh, name_en, kind, chat_id, hotline) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name_zh=excluded.name_zh, name_en=excluded.name_en, kind=excluded.kind, "
            "chat_id=excluded.chat_id, hotline=excluded.hotline",
            (c.id, c.name_zh, c.name_en, c.kind, c.chat_id, c.hotline),
        )
    for m in org.communities:
        # Each name also without its spaces and NFKC-folded, as rules.intake.community_queries folds what is typed.
        search = "\n".join(community_search_forms([m.name_zh, m.name_en, *m.aliases]))
        await conn.execute("INSERT INTO communities(id, name_zh, name_en, search, households) VALUES (?, ?, ?, ?, ?)",
                           (m.id, m.name_zh, m.name_en, search, m.households))
        for kind, centre_id in m.centres.items():
            await conn.execute("INSERT INTO community_centres(community_id, kind, centre_id) VALUES (?, ?, ?)", (m.id, kind, centre_id))
    for s in org.staff:
        await conn.execute(
            "INSERT INTO staff(user_id, name, phone, centre_id, role, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (s.user_id, s.name, s.phone, s.centre_id, s.role, _day(getattr(s, "valid_from", None)),
             _day(getattr(s, "valid_to", None))),
        )
    await conn.execute("DELETE FROM api_channels")
    for ch in getattr(org, "api_channels", ()):
        await conn.execute("INSERT INTO api_channels(id, name, source, key_hash, revoked) VALUES (?, ?, ?, ?, ?)",
                           (ch.id, ch.name, ch.source, ch.key_hash, int(ch.revoked)))
    await replace_roster(conn, getattr(org, "roster", None))     # [[shifts]] (Art. 11, 12)


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


async def get_setting(conn: aiosqlite.Connection, key: str) -> int | None:
    row = await fetch_one(conn, "SELECT value FROM org_settings WHERE key = ?", (key,))
    return int(row[0]) if row and row[0] is not None else None


async def get_centre(conn: aiosqlite.Connection, centre_id: str | None) -> Centre | None:
    if centre_id is None:
        return None
    row = await fetch_one(conn, "SELECT id, name_zh, name_en, kind, chat_id, hotline FROM centres WHERE id = ?", (centre_id,))
    return Centre(*row) if row else None


async def centre_by_chat(conn: aiosqlite.Connection, chat_id: int) -> Centre | None:
    async with conn.execute("SELECT id, name_zh, name_en, kind, chat_id, hotline FROM centres WHERE chat_id = ?", (chat_id,)) as cur:
        row = await cur.fetchone()
    return Centre(*row) if row else None


async def list_centres(conn: aiosqlite.Connection) -> list[Centre]:
    async with conn.execute("SELECT id, name_zh, name_en, kind, chat_id, hotline FROM centres ORDER BY id") as cur:
        return [Centre(*r) for r in await cur.fetchall()]


async def get_community(conn: aiosqlite.Connection, community_id: str | None) -> Community | None:
    if community_id is None:
        return None
    row = await fetch_one(conn, "SELECT id, name_zh, name_en FROM communities WHERE id = ?", (community_id,))
    return Community(*row) if row else None


async def list_communities(conn: aiosqlite.Connection) -> list[Community]:
    """Every community, in the order of the organisation file."""
    async with conn.execute("SELECT id, name_zh, name_en FROM communities ORDER BY rowid") as cur:
        return [Community(*r) for r in await cur.fetchall()]


async def find_communities(conn: aiosqlite.Connection, text: str, limit: int = 8) -> list[Community]:
    """Communities whose name or an alias contains ``text`` (case-insensitive), or, when none
    does, ``text`` with the suffixes residents add taken off (rules.intake.community_queries)."""
    for needle in community_queries(text):
        found = await _find(conn, needle, limit)
        if found:
            return found
    return []


async def _find(conn: aiosqlite.Connection, needle: str, limit: int) -> list[Community]:
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [Community(*r) for r in await conn.execute_fetchall(
        "SELECT id, name_zh, name_en FROM communities WHERE search LIKE ? ESCAPE '\\' ORDER BY name_zh LIMIT ?",
        (pattern, limit),
    )]


async def centre_for(conn: aiosqlite.Connection, community_id: str, kind: str) -> Centre | None:
    row = await fetch_one(conn,
        "SELECT c.id, c.name_zh, c.name_en, c.kind, c.chat_id, c.hotline FROM community_centres cc "
        "JOIN centres c ON c.id = cc.centre_id WHERE cc.community_id = ? AND cc.kind = ?",
        (community_id, kind),
    )
    return Centre(*row) if row else None


async def staff_ids_with_role(conn: aiosqlite.Connection, role: str, centre_id: str | None = None) -> list[int]:
    """Who holds ``role`` (in ``centre_id``, when given): the people an escalation goes to."""
    if centre_id is None:
        sql, args = "SELECT user_id FROM staff WHERE role = ? ORDER BY user_id", (role,)
    else:
        sql, args = "SELECT user_id FROM staff WHERE role = ? AND centre_id = ? ORDER BY user_id", (role, centre_id)
    return [r[0] for r in await conn.execute_fetchall(sql, args)]


async def get_staff(conn: aiosqlite.Connection, user_id: int) -> Staff | None:
    row = await fetch_one(conn, "SELECT user_id, name, phone, centre_id, role FROM staff WHERE user_id = ?", (user_id,))
    return Staff(*row) if row else None


async def channel_by_key_hash(conn: aiosqlite.Connection, key_hash: str) -> ApiChannel | None:
    async with conn.execute("SELECT id, name, source, key_hash, revoked FROM api_channels WHERE key_hash = ?", (key_hash,)) as cur:
        row = await cur.fetchone()
    return ApiChannel(row[0], row[1], row[2], row[3], bool(row[4])) if row else None


async def community_names(conn: aiosqlite.Connection) -> list[tuple[str, list[str]]]:
    """(id, names and aliases, lower-cased) of every community, for matching an address."""
    async with conn.execute("SELECT id, search FROM communities ORDER BY rowid") as cur:
        return [(r[0], [n for n in r[1].split("\n") if n]) for r in await cur.fetchall()]


async def staff_of_centre(conn: aiosqlite.Connection, centre_id: str) -> list[Staff]:
    """A centre's people, in the order of the organisation file."""
    async with conn.execute("SELECT user_id, name, phone, centre_id, role FROM staff WHERE centre_id = ? ORDER BY rowid",
                            (centre_id,)) as cur:
        return [Staff(*r) for r in await cur.fetchall()]
