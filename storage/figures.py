"""Assessment figures (Art. 8, 10 (1), Ch. 4-5) counted from the ledger and the deadlines.

Every number is an SQL aggregate over ``ticket_events`` (the append-only ledger), the
follow-ups, the register and the outage postings for one period: nothing is counted into a
separate table that could drift from what happened. How a limit is judged and against which
centre it counts is written once, in :mod:`rules.assessment`; the SQL here implements it:

* a limit met on time: the step's event (accept, arrive, close, report_submitted) with no
  ``late`` event for that limit at the same moment; it counts when and where it was met;
* a late limit: the ``overdue`` event the clock wrote when the limit passed (or, if the step
  came before the sweeper saw the limit pass, the ``late`` event itself); it counts in the
  period the limit passed, against the centre holding the ticket then. An ``overdue`` that a
  later one of the same clock replaces (a delay approved after the limit) or that an on-time
  step answers (a delay approved after the limit, met before the moved limit; or a step at
  the very second of the limit) is not a late limit;
* which centre held a ticket at a moment: the last transfer's ``to`` at or before it, else the
  centre it was routed to ("" for dispatch: tickets nobody could route).

Indexes (migration 0010): ticket_events(kind, at) reads one period's events of one kind;
ticket_events(ticket_id, kind, at) finds a ticket's routing, transfers and clock events.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import aiosqlite

from rules.assessment import (
    LIMITS, CentreFigures, CountedEvent, CrewFigures, DayCount, Durations, LimitFigures,
)
from storage.dialect import SQLITE, backend_of
from storage.timestamps import from_iso, to_iso

__all__ = [
    "tune_for_reading", "centre_figures", "crew_figures", "counted_events", "daily_counts", "ticket_rows", "TicketRow",
    "STEP_OF_LIMIT", "RESETS_OF_LIMIT",
]

# The ledger event that meets each limit, and the events that restart its clock (Art. 12: a
# transferred task is accepted afresh; a reopen gives a fresh on-site and close limit).
STEP_OF_LIMIT = {"accept": "accept", "onsite": "arrive", "close": "close", "report": "report_submitted"}
RESETS_OF_LIMIT = {"accept": ("transferred",), "onsite": ("reopened",), "close": ("reopened",), "report": ("transferred",)}


async def tune_for_reading(conn: aiosqlite.Connection) -> None:
    """For a report tool's own connection (never the bot's shared one): a 256 MB page cache and
    memory-mapped reads. A month's report touches a month of ledger rows scattered through a
    file of several GB; with SQLite's default 8 MB cache each of those is a fresh read.
    PostgreSQL's cache is the server's; there the report's queries run without JIT compilation,
    which their cost estimates call for and which cost more than it saved (measured on 100,000
    tickets: 6.2 s of the judged limits' 10.5 s went to compiling; the month's figures took 28.8 s
    with it and 10.8 s without)."""
    if backend_of(conn) != SQLITE:
        await conn.execute("SET jit = off")
        return
    await conn.execute("PRAGMA cache_size = -262144")
    await conn.execute("PRAGMA mmap_size = 8589934592")


def _holder(ticket: str, at: str) -> str:
    """SQL: the centre holding ``ticket`` at time ``at`` ('' for dispatch)."""
    return (
        f"COALESCE((SELECT json_extract(h.detail, '$.to') FROM ticket_events h WHERE h.ticket_id = {ticket} "
        f"AND h.kind = 'transferred' AND h.at <= {at} ORDER BY h.at DESC, h.id DESC LIMIT 1), "
        f"(SELECT json_extract(h.detail, '$.centre') FROM ticket_events h WHERE h.ticket_id = {ticket} "
        f"AND h.kind = 'routed' ORDER BY h.at, h.id LIMIT 1), '')"
    )


def _routes(source: str) -> str:
    """SQL: a CTE ``routes(ticket_id, routed, moved)`` for the tickets of ``source`` (a query of
    ticket ids): the centre each was routed to and whether it was ever transferred. A month's
    steps are about three per ticket; looking the routing up once per ticket rather than once
    per step took a fifth off the durations query's CPU time on a dense season."""
    return f"""routes AS MATERIALIZED (
        SELECT k.ticket_id,
               COALESCE((SELECT json_extract(h.detail, '$.centre') FROM ticket_events h WHERE h.ticket_id = k.ticket_id
                         AND h.kind = 'routed' ORDER BY h.at, h.id LIMIT 1), '') AS routed,
               EXISTS (SELECT 1 FROM ticket_events x WHERE x.ticket_id = k.ticket_id AND x.kind = 'transferred') AS moved
        FROM (SELECT DISTINCT ticket_id FROM ({source}) AS s) AS k
    )"""


def _held(ticket: str, at: str, routes: str = "ro") -> str:
    """SQL: :func:`_holder` for a ticket joined to its ``routes`` row: a ticket never transferred
    is held by the centre it was routed to; only a transferred one needs its transfers read."""
    return f"CASE WHEN {routes}.moved THEN {_holder(ticket, at)} ELSE {routes}.routed END"


def _limit_case(column: str) -> str:
    return "CASE " + column + " " + " ".join(f"WHEN '{step}' THEN '{lim}'" for lim, step in STEP_OF_LIMIT.items()) + " END"


_STEPS = "(" + ", ".join(f"'{s}'" for s in STEP_OF_LIMIT.values()) + ")"


def _step_of(lim_sql: str) -> str:
    """SQL: the step event that meets the limit named by ``lim_sql``."""
    return f"CASE {lim_sql} " + " ".join(f"WHEN '{lim}' THEN '{step}'" for lim, step in STEP_OF_LIMIT.items()) + " END"


def _resets(lim_sql: str) -> str:
    """SQL: the event that restarts the clock of the limit named by ``lim_sql``."""
    return f"CASE {lim_sql} " + " ".join(f"WHEN '{lim}' THEN '{kinds[0]}'" for lim, kinds in RESETS_OF_LIMIT.items()) + " END"


# Judged limits of one period, one row per clock: (ticket, limit, centre, at, late, minutes, actor).
# Three parts: met on time; late by the clock's overdue event; late with no overdue event.
# "(SELECT 1 … LIMIT 1) IS NULL" is NOT EXISTS that stays a lookup per row: PostgreSQL turns a
# NOT EXISTS into an anti join that hashes the ledger's events of every season (seen in EXPLAIN),
# so the month's report would grow with the whole database; SQLite reads both alike.
_JUDGED = f"""
WITH steps AS (
    SELECT m.id, m.ticket_id, m.at, m.actor_id, m.detail, {_limit_case('m.kind')} AS lim
    FROM ticket_events m WHERE m.kind IN {_STEPS} AND m.at >= :start AND m.at < :end
),
ontime AS (
    SELECT s.ticket_id, s.lim, s.at, s.actor_id FROM steps s
    -- (the period's bounds repeat what l.at = s.at implies, so PostgreSQL reads the month's
    -- late events, not every one the ledger holds)
    WHERE NOT EXISTS (SELECT 1 FROM ticket_events l WHERE l.ticket_id = s.ticket_id AND l.kind = 'late' AND l.at = s.at
                      AND l.at >= :start AND l.at < :end AND json_extract(l.detail, '$.limit') = s.lim)
      -- a report marked late by itself (read from the step's own row: looking the row up again
      -- by id became a scan of the whole ledger in PostgreSQL's plan)
      AND NOT (s.lim = 'report' AND COALESCE(CAST(json_extract(s.detail, '$.late') AS INTEGER), 0) = 1)
),
overdue AS (
    SELECT o.id, o.ticket_id, o.at, json_extract(o.detail, '$.limit') AS lim
    FROM ticket_events o WHERE o.kind = 'overdue' AND o.at >= :start AND o.at < :end
),
late_by_overdue AS (
    SELECT o.ticket_id, o.lim, o.at, o.id FROM overdue o
    WHERE (
        -- what comes next for this clock, before anything restarts it: another overdue (a
        -- delay moved it after the limit) or a step met on time (the moved limit was kept).
        SELECT 1 FROM ticket_events n
        WHERE n.ticket_id = o.ticket_id AND n.kind IN ('overdue', {_STEPS[1:-1]}) AND n.at >= o.at AND n.id != o.id
          AND ((n.kind = 'overdue' AND json_extract(n.detail, '$.limit') = o.lim AND n.id > o.id)
               OR (n.kind = {_step_of('o.lim')}
                   AND NOT EXISTS (SELECT 1 FROM ticket_events l WHERE l.ticket_id = n.ticket_id AND l.kind = 'late'
                                   AND l.at = n.at AND json_extract(l.detail, '$.limit') = o.lim)))
          AND NOT EXISTS (SELECT 1 FROM ticket_events r WHERE r.ticket_id = o.ticket_id AND r.kind = {_resets('o.lim')}
                          AND r.at > o.at AND r.at < n.at)
        LIMIT 1) IS NULL
),
late_alone AS (
    SELECT l.ticket_id, json_extract(l.detail, '$.limit') AS lim, l.at, l.id FROM ticket_events l
    WHERE l.kind = 'late' AND l.at >= :start AND l.at < :end
      AND (
        SELECT 1 FROM ticket_events o WHERE o.ticket_id = l.ticket_id AND o.kind = 'overdue'
          AND json_extract(o.detail, '$.limit') = json_extract(l.detail, '$.limit') AND o.at <= l.at
          AND NOT EXISTS (SELECT 1 FROM ticket_events r WHERE r.ticket_id = l.ticket_id
                          AND r.kind = {_resets("json_extract(l.detail, '$.limit')")} AND r.at > o.at AND r.at <= l.at)
        LIMIT 1) IS NULL
),
judged AS (
    SELECT ticket_id, lim, at, 0 AS late, actor_id, NULL AS late_id FROM ontime
    UNION ALL SELECT ticket_id, lim, at, 1, NULL, id FROM late_by_overdue
    UNION ALL SELECT ticket_id, lim, at, 1, NULL, id FROM late_alone
)
SELECT j.ticket_id, j.lim, {_holder('j.ticket_id', 'j.at')} AS centre, j.at, j.late, j.actor_id,
       (SELECT CAST(json_extract(l2.detail, '$.minutes') AS INTEGER) FROM ticket_events l2 WHERE l2.ticket_id = j.ticket_id AND l2.kind = 'late'
          AND json_extract(l2.detail, '$.limit') = j.lim AND l2.at >= j.at ORDER BY l2.at LIMIT 1) AS minutes
FROM judged j
"""


@dataclass(frozen=True)
class _Judged:
    ticket_id: int
    limit: str
    centre: str
    at: datetime
    late: bool
    actor_id: int | None
    minutes: int | None


def _args(start: datetime, end: datetime, **more) -> dict:
    return {"start": to_iso(start), "end": to_iso(end), **more}


def _at(text: str) -> datetime:
    # fromisoformat is several times faster than storage.timestamps.from_iso's strptime, and
    # a report may read tens of thousands of rows; same stored format, same result.
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _judged(conn: aiosqlite.Connection, start: datetime, end: datetime, centre_id: str | None,
                  *, late_only: bool = False) -> list[_Judged]:
    sql = f"SELECT * FROM ({_JUDGED}) AS judged WHERE (:centre IS NULL OR centre = :centre)" + (" AND late = 1" if late_only else "")
    async with conn.execute(sql, _args(start, end, centre=centre_id)) as cur:
        return [_Judged(r[0], r[1], r[2] or "", _at(r[3]), bool(r[4]), r[5], r[6]) for r in await cur.fetchall()]


async def _limit_counts(conn: aiosqlite.Connection, start: datetime, end: datetime,
                        centre_id: str | None) -> dict[str, dict[str, LimitFigures]]:
    sql = f"SELECT centre, lim, COUNT(*), SUM(late) FROM ({_JUDGED}) AS judged WHERE (:centre IS NULL OR centre = :centre) GROUP BY centre, lim"
    out: dict[str, dict[str, LimitFigures]] = {}
    async with conn.execute(sql, _args(start, end, centre=centre_id)) as cur:
        for centre, lim, judged, late in await cur.fetchall():
            out.setdefault(centre or "", {})[lim] = LimitFigures(judged, late or 0)
    return out


async def _durations(conn: aiosqlite.Connection, start: datetime, end: datetime,
                     centre_id: str | None) -> dict[tuple[str, str], Durations]:
    """Median and P90 (nearest rank) minutes from receipt to each step, per centre and step."""
    sql = f"""
    WITH e AS MATERIALIZED (
        SELECT ticket_id, kind, at FROM ticket_events WHERE kind IN ('accept', 'arrive', 'close') AND at >= :start AND at < :end
    ),
    {_routes('SELECT ticket_id FROM e')},
    d AS (
        SELECT e.kind AS step, {_held('e.ticket_id', 'e.at')} AS centre,
               -- the receipt looked up per step: a join made PostgreSQL hash every ticket
               (julianday(substr(e.at, 1, 23))
                - julianday(substr((SELECT t.received_at FROM tickets t WHERE t.id = e.ticket_id), 1, 23))) * 1440.0 AS minutes
        FROM e LEFT JOIN routes ro ON ro.ticket_id = e.ticket_id
    ),
    r AS (
        SELECT step, centre, minutes,
               ROW_NUMBER() OVER (PARTITION BY step, centre ORDER BY minutes) AS n,
               COUNT(*) OVER (PARTITION BY step, centre) AS total
        FROM d WHERE (:centre IS NULL OR centre = :centre)
    )
    SELECT step, centre, MAX(total),
           MAX(CASE WHEN n = (total * 50 + 99) / 100 THEN minutes END),
           MAX(CASE WHEN n = (total * 90 + 99) / 100 THEN minutes END)
    FROM r
    -- only the two ranked rows of each group: the group by then sorts a few dozen rows, not the
    -- whole month's steps again. Nearest rank is ceil(total * p / 100) in integer division, at
    -- least 1 for any group (total >= 1), so no group is lost.
    WHERE n = (total * 50 + 99) / 100 OR n = (total * 90 + 99) / 100
    GROUP BY step, centre
    """
    out: dict[tuple[str, str], Durations] = {}
    async with conn.execute(sql, _args(start, end, centre=centre_id)) as cur:
        for step, centre, total, median, p90 in await cur.fetchall():
            out[(centre or "", step)] = Durations(total, _round(median), _round(p90))
    return out


def _round(value: float | None) -> float | None:
    # Stored times are to the microsecond; julianday arithmetic is not: a tenth of a minute.
    return None if value is None else round(value, 1)


async def _grouped(conn: aiosqlite.Connection, sql: str, args: dict) -> dict[str, dict[str, int]]:
    """Rows of (centre, key, count) as {centre: {key: count}}."""
    out: dict[str, dict[str, int]] = {}
    async with conn.execute(sql, args) as cur:
        for centre, key, count in await cur.fetchall():
            bucket = out.setdefault(centre if centre is not None else "", {})
            bucket[str(key)] = bucket.get(str(key), 0) + count
    return out


async def _event_counts(conn: aiosqlite.Connection, start: datetime, end: datetime,
                        complaints_threshold: int) -> dict[str, dict[str, int]]:
    """Per centre, counts of the ledger's decisions and answers in the period."""
    sql = f"""
    SELECT centre, what, COUNT(*) FROM (
        SELECT CASE e.kind
                 WHEN 'return_requested' THEN json_extract(e.detail, '$.centre')
                 WHEN 'reopened' THEN json_extract(e.detail, '$.centre')
                 WHEN 'repeat_fault' THEN json_extract(e.detail, '$.centre')
                 WHEN 'complaint' THEN json_extract(e.detail, '$.centre')
                 ELSE {_holder('e.ticket_id', 'e.at')} END AS centre,
               CASE WHEN e.kind = 'followup_phoned' THEN 'phoned_' || json_extract(e.detail, '$.result')
                    WHEN e.kind = 'complaint' THEN 'complaint_' || CASE WHEN CAST(json_extract(e.detail, '$.count') AS INTEGER) >= :threshold
                                                                  THEN '1' ELSE '0' END
                    WHEN e.kind = 'followup_rating' AND json_extract(e.detail, '$.rating') IS NULL THEN 'rating_none'
                    ELSE e.kind END AS what
        FROM ticket_events e
        WHERE e.kind IN ('delay_requested', 'delay_approved', 'delay_rejected', 'return_requested', 'close', 'reopened',
                         'repeat_fault', 'followup_asked', 'followup_solved', 'followup_phoned', 'followup_rating')
          AND e.at >= :start AND e.at < :end
        UNION ALL
        -- a ticket reaching the threshold of complaints (Art. 24 (3)) counts once
        SELECT json_extract(e.detail, '$.centre'), 'complaints_2plus' FROM ticket_events e
        WHERE e.kind = 'complaint' AND e.at >= :start AND e.at < :end AND CAST(json_extract(e.detail, '$.count') AS INTEGER) = :threshold
        UNION ALL
        SELECT json_extract(e.detail, '$.from'), 'transfer_out' FROM ticket_events e
        WHERE e.kind = 'transferred' AND e.at >= :start AND e.at < :end
        UNION ALL
        SELECT json_extract(e.detail, '$.to'), 'transfer_in' FROM ticket_events e
        WHERE e.kind = 'transferred' AND e.at >= :start AND e.at < :end
    ) AS counted GROUP BY centre, what
    """
    return await _grouped(conn, sql, _args(start, end, threshold=complaints_threshold))


async def _followup_counts(conn: aiosqlite.Connection, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Follow-ups asked in the period, and how many of them the resident answered (in Telegram
    or by phone) before the next question on that ticket; ratings given in the period."""
    sql = f"""
    SELECT {_holder('a.ticket_id', 'a.at')} AS centre, 'reached', COUNT(*) FROM ticket_events a
    WHERE a.kind = 'followup_asked' AND a.at >= :start AND a.at < :end
      -- (EXISTS written as a lookup per row, as in _JUDGED)
      AND (SELECT 1 FROM ticket_events x WHERE x.ticket_id = a.ticket_id AND x.at >= a.at
                  AND (x.kind IN ('followup_solved', 'reopened')
                       OR (x.kind = 'followup_phoned' AND json_extract(x.detail, '$.result') != 'unreachable'))
                  AND NOT EXISTS (SELECT 1 FROM ticket_events b WHERE b.ticket_id = a.ticket_id AND b.kind = 'followup_asked'
                                  AND b.at > a.at AND b.at <= x.at)
           LIMIT 1) IS NOT NULL
    GROUP BY centre
    UNION ALL
    SELECT {_holder('r.ticket_id', 'r.at')} AS centre, 'rating_sum', SUM(CAST(json_extract(r.detail, '$.rating') AS INTEGER))
    FROM ticket_events r WHERE r.kind = 'followup_rating' AND r.at >= :start AND r.at < :end
      AND json_extract(r.detail, '$.rating') IS NOT NULL GROUP BY centre
    UNION ALL
    SELECT {_holder('r.ticket_id', 'r.at')} AS centre, 'low_rating', COUNT(*)
    FROM ticket_events r WHERE r.kind = 'followup_rating' AND r.at >= :start AND r.at < :end
      AND CAST(json_extract(r.detail, '$.rating') AS INTEGER) < 4 GROUP BY centre
    """
    return await _grouped(conn, sql, _args(start, end))


async def centre_figures(conn: aiosqlite.Connection, start: datetime, end: datetime, *, centre_id: str | None = None,
                         as_of: datetime | None = None, complaints_threshold: int = 2) -> list[CentreFigures]:
    """Every centre's figures for [start, end) (all centres, those without tickets too; ""
    for dispatch when it held tickets), in the organisation file's order. ``as_of`` is when
    the report is made (default ``end``): a notice not yet due by then is not judged yet."""
    as_of = as_of or end
    args = _args(start, end)
    async with conn.execute("SELECT id, name_zh, name_en FROM centres ORDER BY rowid") as cur:
        centres = [(r[0], r[1], r[2]) for r in await cur.fetchall()]
    received = await _grouped(conn, """
        SELECT centre, dim || ':' || CASE dim WHEN 'source' THEN source WHEN 'level' THEN level ELSE category END, COUNT(*)
        FROM (SELECT COALESCE((SELECT json_extract(h.detail, '$.centre') FROM ticket_events h WHERE h.ticket_id = t.id
                               AND h.kind = 'routed' ORDER BY h.at, h.id LIMIT 1), '') AS centre, t.source, t.level, t.category
              FROM tickets t WHERE t.received_at >= :start AND t.received_at < :end) AS t
        CROSS JOIN (SELECT 'source' AS dim UNION ALL SELECT 'level' UNION ALL SELECT 'category') AS dims
        GROUP BY 1, 2""", args)
    limits = await _limit_counts(conn, start, end, None)
    durations = await _durations(conn, start, end, None)
    events = await _event_counts(conn, start, end, complaints_threshold)
    follow = await _followup_counts(conn, start, end)
    register = await _grouped(conn, "SELECT centre_id, kind, COUNT(*) FROM register_entries WHERE at >= :start AND at < :end "
                                    "GROUP BY centre_id, kind", args)
    notices = await _grouped(conn, """
        SELECT centre_id, 'due', COUNT(*) FROM outage_postings
        WHERE due_at >= :start AND due_at < :end AND (posted_at IS NOT NULL OR due_at < :as_of) GROUP BY centre_id
        UNION ALL
        SELECT centre_id, 'late', COUNT(*) FROM outage_postings
        WHERE due_at >= :start AND due_at < :end AND ((posted_at IS NULL AND due_at < :as_of) OR posted_at > due_at)
        GROUP BY centre_id""", _args(start, end, as_of=to_iso(as_of)))
    households = await _grouped(conn, """
        SELECT cc.centre_id, 'households', SUM(c.households) FROM community_centres cc JOIN communities c ON c.id = cc.community_id
        WHERE c.households IS NOT NULL GROUP BY cc.centre_id""", {})

    seen = set(received) | set(limits) | set(events) | set(follow)
    rows = list(centres) + ([("", "调度中心", "Dispatch")] if "" in seen else [])
    out: list[CentreFigures] = []
    for cid, name_zh, name_en in rows:
        if centre_id is not None and cid != centre_id:
            continue
        rec = received.get(cid, {})
        ev = events.get(cid, {})
        fu = follow.get(cid, {})
        reg = register.get(cid, {})
        no = notices.get(cid, {})

        def dims(prefix: str) -> dict[str, int]:
            return {k.split(":", 1)[1]: v for k, v in sorted(rec.items()) if k.startswith(prefix + ":")}

        solved = ev.get("followup_solved", 0)
        phoned_ok = ev.get("phoned_satisfied", 0) + ev.get("phoned_basic", 0)
        answered = solved + ev.get("reopened", 0) + phoned_ok + ev.get("phoned_unsatisfied", 0)
        out.append(CentreFigures(
            centre_id=cid, name_zh=name_zh, name_en=name_en,
            received=sum(dims("source").values()), by_source=dims("source"), by_level=dims("level"),
            by_category=dims("category"),
            limits={k: limits.get(cid, {}).get(k, LimitFigures()) for k in LIMITS},
            to_accept=durations.get((cid, "accept"), Durations()), to_arrive=durations.get((cid, "arrive"), Durations()),
            to_close=durations.get((cid, "close"), Durations()),
            delays_asked=ev.get("delay_requested", 0), delays_approved=ev.get("delay_approved", 0),
            delays_rejected=ev.get("delay_rejected", 0), returns_asked=ev.get("return_requested", 0),
            transfers_out=ev.get("transfer_out", 0), transfers_in=ev.get("transfer_in", 0),
            closed_done=ev.get("close", 0), reopened=ev.get("reopened", 0), repeat_faults=ev.get("repeat_fault", 0),
            complaints_2plus=ev.get("complaints_2plus", 0),
            followups_asked=ev.get("followup_asked", 0), followups_reached=fu.get("reached", 0),
            # solved and not rated below 4, or phoned satisfied / basically satisfied
            satisfied=solved - fu.get("low_rating", 0) + phoned_ok, answered=answered,
            ratings=ev.get("followup_rating", 0), rating_sum=fu.get("rating_sum", 0),
            notices_due=no.get("due", 0), notices_late=no.get("late", 0),
            praise=reg.get("praise", 0), criticism=reg.get("criticism", 0), press=reg.get("press", 0),
            supervision=reg.get("supervision", 0), households=households.get(cid, {}).get("households"),
        ))
    return out


async def crew_figures(conn: aiosqlite.Connection, start: datetime, end: datetime, *,
                       centre_id: str | None = None) -> list[CrewFigures]:
    """Per crew member: the steps they pressed in the period, the late limits among them, the
    ratings of the tickets they closed, and register entries naming them."""
    args = _args(start, end, centre=centre_id)
    # Each rating with the close before it (its crew member and time), looked up per rating: a
    # join on the close's id made PostgreSQL hash every event of the ledger.
    last_close = ("SELECT c2.{} FROM ticket_events c2 WHERE c2.ticket_id = r.ticket_id AND c2.kind = 'close' "
                  "AND c2.at <= r.at ORDER BY c2.at DESC, c2.id DESC LIMIT 1")
    steps = await _grouped(conn, f"""
        WITH rated AS MATERIALIZED (
            SELECT r.ticket_id, json_extract(r.detail, '$.rating') AS rating,
                   ({last_close.format('actor_id')}) AS actor_id, ({last_close.format('at')}) AS closed_at
            FROM ticket_events r
            WHERE r.kind = 'followup_rating' AND r.at >= :start AND r.at < :end AND json_extract(r.detail, '$.rating') IS NOT NULL
        )
        SELECT e.actor_id, e.kind, COUNT(*) FROM ticket_events e
        WHERE e.kind IN ('accept', 'arrive', 'close') AND e.at >= :start AND e.at < :end AND e.actor_id IS NOT NULL
          AND (:centre IS NULL OR {_holder('e.ticket_id', 'e.at')} = :centre)
        GROUP BY e.actor_id, e.kind
        UNION ALL
        SELECT e.actor_id, 'late', COUNT(*) FROM ticket_events e JOIN ticket_events l
          ON l.ticket_id = e.ticket_id AND l.kind = 'late' AND l.at = e.at
         AND json_extract(l.detail, '$.limit') = {_limit_case('e.kind')}
        WHERE e.kind IN ('accept', 'arrive', 'close') AND e.at >= :start AND e.at < :end AND e.actor_id IS NOT NULL
          AND (:centre IS NULL OR {_holder('e.ticket_id', 'e.at')} = :centre)
        GROUP BY e.actor_id
        UNION ALL
        SELECT rated.actor_id, 'rating_' || rated.rating, COUNT(*) FROM rated
        WHERE rated.actor_id IS NOT NULL AND (:centre IS NULL OR {_holder('rated.ticket_id', 'rated.closed_at')} = :centre)
        GROUP BY rated.actor_id, rated.rating
        UNION ALL
        SELECT staff_id, kind, COUNT(*) FROM register_entries
        WHERE at >= :start AND at < :end AND staff_id IS NOT NULL AND (:centre IS NULL OR centre_id = :centre)
        GROUP BY staff_id, kind
    """, args)
    if not steps:
        return []
    ids = sorted(int(k) for k in steps)
    names: dict[int, tuple[str, str | None]] = {}
    async with conn.execute(f"SELECT user_id, name, centre_id FROM staff WHERE user_id IN ({','.join('?' * len(ids))})", ids) as cur:
        for uid, name, cid in await cur.fetchall():
            names[uid] = (name, cid)
    # A crew member no longer in the organisation file keeps the name the ledger recorded.
    missing = [i for i in ids if i not in names]
    if missing:
        async with conn.execute(
            # the name the ledger recorded last for each of them
            "SELECT actor_id, actor FROM ticket_events WHERE id IN (SELECT MAX(id) FROM ticket_events "
            f"WHERE actor_id IN ({','.join('?' * len(missing))}) AND actor IS NOT NULL GROUP BY actor_id)", missing) as cur:
            for uid, name in await cur.fetchall():
                names[uid] = (name, None)
    out = []
    for uid in ids:
        c = steps[uid]
        ratings = {int(k.split("_", 1)[1]): v for k, v in c.items() if k.startswith("rating_")}
        name, cid = names.get(uid, (str(uid), None))
        out.append(CrewFigures(uid, name, cid, accepted=c.get("accept", 0), arrived=c.get("arrive", 0), closed=c.get("close", 0),
                               late=c.get("late", 0), ratings=sum(ratings.values()),
                               rating_sum=sum(k * v for k, v in ratings.items()),
                               praise=c.get("praise", 0), criticism=c.get("criticism", 0)))
    out.sort(key=lambda f: (f.centre_id or "", f.name, f.user_id))
    return out


async def counted_events(conn: aiosqlite.Connection, start: datetime, end: datetime, *, centre_id: str | None = None,
                         as_of: datetime | None = None, complaints_threshold: int = 2) -> list[CountedEvent]:
    """The events behind the points (Ch. 4-5), each with its ticket, outage or register entry:
    the list a department head brings to the monthly assessment meeting."""
    as_of = as_of or end
    out: list[CountedEvent] = []
    for j in await _judged(conn, start, end, centre_id, late_only=True):
        out.append(CountedEvent(j.centre, f"late_{j.limit}", j.at, ticket_id=j.ticket_id, minutes=j.minutes))
    async with conn.execute("""
        SELECT json_extract(e.detail, '$.centre'),
               CASE WHEN e.kind = 'complaint' THEN 'complaints_2plus' ELSE e.kind END, e.at, e.ticket_id
        FROM ticket_events e
        WHERE e.at >= :start AND e.at < :end
          AND (e.kind IN ('repeat_fault', 'reopened') OR (e.kind = 'complaint' AND CAST(json_extract(e.detail, '$.count') AS INTEGER) = :threshold))
        """, _args(start, end, threshold=complaints_threshold)) as cur:
        for centre, kind, at, ticket_id in await cur.fetchall():
            if centre_id is None or (centre or "") == centre_id:
                out.append(CountedEvent(centre or "", kind, from_iso(at), ticket_id=ticket_id))
    async with conn.execute(
        "SELECT centre_id, kind, at, ticket_id, id FROM register_entries WHERE at >= :start AND at < :end "
        "AND (:centre IS NULL OR centre_id = :centre)", _args(start, end, centre=centre_id)) as cur:
        for centre, kind, at, ticket_id, entry in await cur.fetchall():
            out.append(CountedEvent(centre, kind, from_iso(at), ticket_id=ticket_id, entry_id=entry))
    async with conn.execute(
        "SELECT centre_id, due_at, outage_id, posted_at FROM outage_postings WHERE due_at >= :start AND due_at < :end "
        "AND ((posted_at IS NULL AND due_at < :as_of) OR posted_at > due_at) AND (:centre IS NULL OR centre_id = :centre)",
        _args(start, end, centre=centre_id, as_of=to_iso(as_of))) as cur:
        for centre, due, outage_id, posted in await cur.fetchall():
            late = None if posted is None else int((from_iso(posted) - from_iso(due)).total_seconds() // 60)
            out.append(CountedEvent(centre, "notice_late", from_iso(due), outage_id=outage_id, minutes=late))
    out.sort(key=lambda e: (e.centre_id, e.at, e.ticket_id or 0, e.kind))
    return out


async def daily_counts(conn: aiosqlite.Connection, start: datetime, end: datetime, tz: tzinfo, *,
                       centre_id: str | None = None) -> list[DayCount]:
    """Per local day of the period: tickets received and limits judged late (every day, zeros too)."""
    offset = start.astimezone(tz).utcoffset()
    # Days are local; the time zone's offset at the period's start is used for the whole period
    # (the company's zone, Asia/Shanghai, has no daylight saving).
    shift = f"{int(offset.total_seconds() // 60):+d} minutes" if offset else "+0 minutes"
    received: dict[str, int] = {}
    sql = (f"SELECT date(substr(t.received_at, 1, 19), :shift), COUNT(*) FROM tickets t "
           f"WHERE t.received_at >= :start AND t.received_at < :end AND (:centre IS NULL OR {_holder('t.id', 't.received_at')} = :centre) "
           "GROUP BY 1")
    async with conn.execute(sql, _args(start, end, shift=shift, centre=centre_id)) as cur:
        received = {r[0]: r[1] for r in await cur.fetchall()}
    sql = (f"SELECT date(substr(at, 1, 19), :shift), COUNT(*) FROM ({_JUDGED}) AS judged "
           "WHERE late = 1 AND (:centre IS NULL OR centre = :centre) GROUP BY 1")
    async with conn.execute(sql, _args(start, end, shift=shift, centre=centre_id)) as cur:
        late = {r[0]: r[1] for r in await cur.fetchall()}
    first, last = start.astimezone(tz).date(), (end.astimezone(tz)).date()
    out = []
    day = first
    while day < last:
        key = day.isoformat()
        out.append(DayCount(day, received.get(key, 0), late.get(key, 0)))
        day = date.fromordinal(day.toordinal() + 1)
    return out


@dataclass(frozen=True)
class TicketRow:
    """One ticket received in the period, as the XLSX tickets sheet lists it."""
    id: int
    received_at: datetime
    centre_id: str | None
    category: str
    source: str
    level: str
    status: str
    outcome: str | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    closed_at: datetime | None
    late_limits: tuple[str, ...]
    reopen_count: int
    complaints: int
    repeat_of: int | None

    @property
    def number(self) -> str:
        return f"{self.id:04d}"


async def ticket_rows(conn: aiosqlite.Connection, start: datetime, end: datetime, *,
                      centre_id: str | None = None) -> list[TicketRow]:
    sql = """
    SELECT t.id, t.received_at, t.centre_id, t.category, t.source, t.level, t.status, t.outcome, t.accepted_at, t.arrived_at,
           t.closed_at, t.reopen_count, t.complaints, t.repeat_of,
           (SELECT json_group_array(json_extract(l.detail, '$.limit')) FROM ticket_events l WHERE l.ticket_id = t.id AND l.kind = 'late')
    FROM tickets t WHERE t.received_at >= :start AND t.received_at < :end AND (:centre IS NULL OR t.centre_id = :centre)
    ORDER BY t.id
    """
    out = []
    async with conn.execute(sql, _args(start, end, centre=centre_id)) as cur:
        for r in await cur.fetchall():
            opt = [_at(v) if v else None for v in (r[8], r[9], r[10])]
            out.append(TicketRow(r[0], _at(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], *opt,
                                 tuple(sorted(set(json.loads(r[14] or "[]")))), r[11], r[12], r[13]))
    return out
