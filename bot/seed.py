"""A synthetic heating season (`heatbot seed`): a deterministic, realistic database for demos,
benchmarks and the board.

Realistic: more reports in cold snaps, in the morning and evening than at night; every
category and source in plausible shares; the levels and limits the policy gives
(rules.policy.assess); a share of late accepts, arrivals and closings (with the sweeper's
``overdue`` events), delays asked and decided, returns transferred to another centre,
written reports, follow-ups answered, rated, phoned or reopened, repeat faults and repeated
complaints, register entries and outage notices. Deterministic: the same ``--seed`` gives the
same rows.

The bulk path: rows are generated in Python and written with ``executemany`` in large
transactions, the same columns and ledger events the bot's own code writes (bot.desk.press,
bot.clockwork, bot.workflows, bot.followup, bot.repeats), because one ``insert_ticket`` and a
dozen ``add_event`` awaits per ticket would take hours for a million tickets. What each ledger
event carries is what tests/test_figures.py's hand-built ledger (written through the storage
functions) carries; tests/test_seed.py checks that a seeded database gives sane figures.
"""
from __future__ import annotations

import json
import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import aiosqlite

from rules.policy import Policy, Source, assess
from storage.db import Database
from storage.dialect import POSTGRESQL, SQLITE, backend_of
from storage.timestamps import to_iso

__all__ = ["SeedPlan", "seed"]

log = logging.getLogger(__name__)

# Shares of the season (what a northern heating company's hotline sees; not measured data).
_CATEGORY_WEIGHTS = {"not_warm": 46, "room_temp": 14, "home_leak": 12, "network_burst": 4, "manhole": 2, "meter": 8,
                     "switch_on": 5, "shut_off": 3, "illegal_use": 1, "quality": 2, "other": 3}
_SOURCE_WEIGHTS = {"resident": 62, "hotline": 20, "mayor_hotline": 11, "housing_bureau": 2, "online": 3, "press": 1,
                   "company_urgent": 1}
# Reports per hour of the local day (relative): evening and morning peaks, quiet nights.
_HOURS = [2, 1, 1, 1, 1, 2, 5, 9, 10, 9, 8, 7, 7, 6, 6, 6, 7, 9, 11, 12, 11, 8, 5, 3]
_BATCH = 20_000


@dataclass(frozen=True)
class SeedPlan:
    tickets: int
    days: int
    seed: int
    start: date               # the first local day of the season


def _minutes(m: float) -> timedelta:
    return timedelta(minutes=m)


def _day_weights(days: int, rng: random.Random) -> list[float]:
    """A season: a slow swell to mid-winter, and a cold snap about every three weeks."""
    snaps = [rng.uniform(0, days) for _ in range(max(1, days // 21))]
    out = []
    for d in range(days):
        base = 1.0 + 0.4 * math.sin(math.pi * (d % 150) / 150)
        snap = sum(1.6 * math.exp(-((d - s) ** 2) / 8.0) for s in snaps)
        out.append(base + snap)
    return out


class _Writer:
    """Rows waiting for one executemany per table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tickets: list[tuple] = []
        self.events: list[tuple] = []
        self.deadlines: list[tuple] = []
        self.followups: list[tuple] = []

    async def flush(self) -> None:
        """One transaction per batch, so a million tickets never sit in one huge write."""
        async with self.db.transaction() as conn:
            await self._write(conn)
        self.tickets, self.events, self.deadlines, self.followups = [], [], [], []

    async def _write(self, conn: aiosqlite.Connection) -> None:
        for table, rows in (("tickets", self.tickets), ("ticket_events", self.events), ("deadlines", self.deadlines),
                            ("followups", self.followups)):
            if rows:
                await _insert_rows(conn, table, _COLUMNS[table], rows)


# The columns the bulk path writes, in the order _ticket and _write build the rows.
_COLUMNS = {
    "tickets": ("id", "category", "source", "level", "status", "centre_id", "route_note", "resident_user_id",
                "resident_chat_id", "resident_lang", "resident_name", "phone", "community_id", "address", "received_at",
                "accept_by", "onsite_by", "close_by", "accepted_at", "accepted_by", "arrived_at", "arrived_by", "closed_at",
                "closed_by", "outcome", "reopen_count", "complaints", "repeat_of", "flat_key", "building_key"),
    "ticket_events": ("ticket_id", "at", "kind", "actor_id", "actor", "detail"),
    "deadlines": ("ticket_id", "kind", "due_at", "original_due_at", "state", "stage", "next_at", "met_at", "late", "delayed"),
    "followups": ("ticket_id", "round", "asked_at", "due_at", "state", "solved", "rating", "comment", "phone_result",
                  "answered_at", "answered_by"),
}


async def _insert_rows(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk rows into ``table``: one ``executemany`` on SQLite; PostgreSQL's ``COPY`` there, since
    an INSERT per row is a statement each for the server (measured on the shared 2-core machine
    at load average 8: 100,000 tickets seeded in 195 s with INSERTs, 80 s with COPY)."""
    names = ", ".join(columns)
    if backend_of(conn) == POSTGRESQL:
        async with conn.raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)
        return
    await conn.executemany(f"INSERT INTO {table}({names}) VALUES ({', '.join('?' * len(columns))})", rows)


def _j(d: dict[str, Any]) -> str:
    return json.dumps(d, ensure_ascii=False)


async def seed(db: Database, policy: Policy, plan: SeedPlan, tz: tzinfo, *, now: datetime | None = None) -> int:
    """Add ``plan.tickets`` tickets over ``plan.days`` days from ``plan.start`` (local). Steps
    after ``now`` (default: the end of the season) are not written: those tickets are open.
    The organisation must already be in the database. Returns the number of tickets written."""
    rng = random.Random(plan.seed)
    conn = db.conn
    if db.backend == SQLITE:
        # A big page cache for the bulk write: the place indexes (tickets_flat, tickets_building)
        # take rows in random order, and SQLite's default 8 MB cache makes each of those a disk
        # read once the file outgrows it. (PostgreSQL's cache is the server's.)
        await conn.execute("PRAGMA cache_size = -262144")
    async with conn.execute("SELECT community_id, kind, centre_id FROM community_centres ORDER BY community_id, kind") as cur:
        routing: dict[tuple[str, str], str] = {(r[0], r[1]): r[2] for r in await cur.fetchall()}
    communities = sorted({c for c, _ in routing})
    async with conn.execute("SELECT user_id, name, centre_id FROM staff WHERE role = 'crew' ORDER BY user_id") as cur:
        crews: dict[str, list[tuple[int, str]]] = {}
        for uid, name, cid in await cur.fetchall():
            crews.setdefault(cid, []).append((uid, name))
    async with conn.execute("SELECT user_id, name FROM staff WHERE role = 'dispatcher' ORDER BY user_id") as cur:
        dispatchers = [(r[0], r[1]) for r in await cur.fetchall()] or [(1, "dispatch")]
    async with conn.execute("SELECT id, kind FROM centres ORDER BY rowid") as cur:
        centre_kinds = {r[0]: r[1] for r in await cur.fetchall()}
    async with conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets") as cur:
        next_id = (await cur.fetchone())[0] + 1
    if not communities or not crews:
        raise ValueError("load an organisation file with communities and crew first")

    start = datetime.combine(plan.start, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=plan.days)
    now = now or end
    weights = _day_weights(plan.days, rng)
    total_w = sum(weights)
    per_day = [int(plan.tickets * w / total_w) for w in weights]
    for i in range(plan.tickets - sum(per_day)):
        per_day[i % plan.days] += 1
    cats, cat_w = list(_CATEGORY_WEIGHTS), list(_CATEGORY_WEIGHTS.values())
    srcs, src_w = list(_SOURCE_WEIGHTS), list(_SOURCE_WEIGHTS.values())
    recent_closed: dict[str, list[int]] = {}          # centre -> recently closed ticket ids (repeats)
    w = _Writer(db)
    written = 0
    resident = 100_000
    for day, count in enumerate(per_day):
        midnight = start + timedelta(days=day)
        for _ in range(count):
            hour = rng.choices(range(24), _HOURS)[0]
            received = (midnight + timedelta(hours=hour, seconds=rng.randrange(3600))).astimezone(UTC)
            if received > now:
                continue
            category = policy.category(rng.choices(cats, cat_w)[0])
            source = Source(rng.choices(srcs, src_w)[0])
            community = rng.choice(communities)
            centre = routing.get((community, str(category.centre_kind)))
            a = assess(policy, category.code, source, received)
            tid = next_id
            next_id += 1
            resident += 1
            _ticket(w, rng, policy, tid, a, centre, community, received, now, crews, dispatchers, centre_kinds, routing,
                    recent_closed, resident)
            written += 1
            if len(w.tickets) >= _BATCH:
                await w.flush()
    await w.flush()
    async with db.transaction() as conn:
        await _register_and_notices(conn, rng, plan, start, now, list(centre_kinds), dispatchers)
        if db.backend == POSTGRESQL:
            await _advance_identities(conn)
    log.info("seeded %d tickets over %d days", written, plan.days)
    return written


def _ticket(w: _Writer, rng: random.Random, policy: Policy, tid: int, a, centre: str | None, community: str, received: datetime,
            now: datetime, crews, dispatchers, centre_kinds, routing, recent_closed, resident: int) -> None:
    """One ticket's life, as the bot would record it, cut at ``now``."""
    ev = w.events
    level = str(a.level)
    building = f"{rng.randint(1, 30)}号楼"
    flat = f"{building}-{rng.randint(1, 6)}-{rng.randint(1, 18)}0{rng.randint(1, 4)}"
    ev.append((tid, to_iso(received), "created", resident, "居民", _j({"source": str(a.source), "level": level, "reasons": []})))
    if centre is None:
        ev.append((tid, to_iso(received), "routed_to_dispatch", None, None, _j({"reason": "no_centre", "kind": str(a.category.centre_kind)})))
    else:
        ev.append((tid, to_iso(received), "routed", None, None, _j({"centre": centre})))
    accept_due, onsite_due, close_due = a.deadlines.accept_by, a.deadlines.onsite_by, a.deadlines.close_by
    dl: dict[str, list] = {k: [due, due, "open", None, None, 0] for k, due in
                           (("accept", accept_due), ("onsite", onsite_due), ("close", close_due))}
    state: dict[str, Any] = {"status": "new", "accepted": None, "arrived": None, "closed": None, "outcome": None,
                             "reopen": 0, "complaints": 0, "repeat_of": None, "centre": centre}
    d_id, d_name = rng.choice(dispatchers)

    def overdue(kind: str, due: datetime) -> bool:
        if due <= now:
            ev.append((tid, to_iso(due), "overdue", None, None, _j({"limit": kind, "late_by_minutes": 0, "alert": None})))
            return True
        return False

    def meet(kind: str, action: str, at: datetime, who: tuple[int, str]) -> bool:
        """The step at ``at`` unless it is after now; overdue and late as the clock records them."""
        due = dl[kind][0]
        if at > due:
            overdue(kind, due)
        if at > now:
            return False
        ev.append((tid, to_iso(at), action, who[0], who[1], "{}"))
        dl[kind][2:5] = ["met", to_iso(at), int(at > due)]
        if at > due:
            ev.append((tid, to_iso(at), "late", None, None, _j({"limit": kind, "minutes": int((at - due).total_seconds() // 60)})))
        return True

    if rng.random() < 0.03 and centre is not None:
        # Repeat of a ticket this centre closed recently (Art. 23 (6)).
        pool = recent_closed.get(centre)
        if pool:
            state["repeat_of"] = rng.choice(pool)
            ev.append((tid, to_iso(received), "repeat_fault", None, None, _j({"of": state["repeat_of"], "centre": centre})))
    if centre is None:
        _write(w, tid, a, state, dl, community, received, resident, flat, building)
        return
    crew = crews.get(centre) or [(1, "crew")]
    who = rng.choice(crew)
    # Accept: mostly well within 30 minutes; one in twelve late.
    late_accept = rng.random() < 0.08
    at = received + _minutes(rng.uniform(31, 75) if late_accept else rng.uniform(1, 29))
    if not meet("accept", "accept", at, who):
        _write(w, tid, a, state, dl, community, received, resident, flat, building)
        return
    state.update(status="accepted", accepted=(at, who[0]))
    t = at
    # Returned and transferred to another centre of the same kind (Art. 5, 13 other rules (3)).
    if rng.random() < 0.03:
        others = [c for c, k in centre_kinds.items() if k == centre_kinds[centre] and c != centre]
        if others:
            asked = t + _minutes(rng.uniform(3, 20))
            moved = asked + _minutes(rng.uniform(5, 30))
            if moved <= now:
                target = rng.choice(others)
                ev.append((tid, to_iso(asked), "return_requested", who[0], who[1], _j({"reason": "不归本中心", "centre": centre})))
                if dl["onsite"][2] == "open" and dl["onsite"][0] < moved:
                    overdue("onsite", dl["onsite"][0])
                    dl["onsite"][5] = 1          # overdue already written
                ev.append((tid, to_iso(moved), "transferred", d_id, d_name, _j({"from": centre, "to": target, "reason": "不归本中心"})))
                centre = target
                state.update(centre=target, status="new", accepted=None)
                crew = crews.get(centre) or [(1, "crew")]
                who = rng.choice(crew)
                due = moved + _minutes(a.category.accept_minutes)
                dl["accept"] = [due, due, "open", None, None, 0]
                at = moved + _minutes(rng.uniform(31, 60) if rng.random() < 0.08 else rng.uniform(1, 29))
                if not meet("accept", "accept", at, who):
                    _write(w, tid, a, state, dl, community, received, resident, flat, building)
                    return
                state.update(status="accepted", accepted=(at, who[0]))
                t = at
    # Complaints while open (Art. 24 (3)).
    for n in range(1, 3):
        if rng.random() < (0.05 if n == 1 else 0.3) and state["complaints"] == n - 1:
            c_at = t + _minutes(rng.uniform(5, 40))
            if c_at <= now:
                state["complaints"] = n
                ev.append((tid, to_iso(c_at), "complaint", resident + 7, "邻居", _j({"centre": centre, "count": n})))
    # On site: a delay asked now and then; one in ten late.
    if rng.random() < 0.04:
        asked = max(t, dl["onsite"][0] - _minutes(15))
        new_due = dl["onsite"][0] + _minutes(30)
        decided = asked + _minutes(3)
        if decided <= now and asked < dl["onsite"][0]:
            ev.append((tid, to_iso(asked), "delay_requested", who[0], who[1],
                       _j({"limit": "onsite", "reason": "等配件", "from": to_iso(dl["onsite"][0]), "to": to_iso(new_due)})))
            if rng.random() < 0.7:
                ev.append((tid, to_iso(decided), "delay_approved", d_id, d_name,
                           _j({"limit": "onsite", "from": to_iso(dl["onsite"][0]), "to": to_iso(new_due)})))
                dl["onsite"][0] = new_due
                dl["onsite"][5] = dl["onsite"][5] | 2
            else:
                ev.append((tid, to_iso(decided), "delay_rejected", d_id, d_name, _j({"limit": "onsite"})))
    span = (dl["onsite"][0] - t).total_seconds() / 60
    at = t + _minutes(rng.uniform(span + 1, span + 60) if rng.random() < 0.10 or span <= 2 else rng.uniform(2, span))
    if dl["onsite"][5] & 1 and at > dl["onsite"][0]:
        # its overdue was written at the transfer; the step is late against the first centre
        due = dl["onsite"][0]
        if at <= now:
            ev.append((tid, to_iso(at), "arrive", who[0], who[1], "{}"))
            dl["onsite"][2:5] = ["met", to_iso(at), 1]
            ev.append((tid, to_iso(at), "late", None, None, _j({"limit": "onsite", "minutes": int((at - due).total_seconds() // 60)})))
            arrived = True
        else:
            arrived = False
    else:
        arrived = meet("onsite", "arrive", at, who)
    if not arrived:
        _write(w, tid, a, state, dl, community, received, resident, flat, building)
        return
    state.update(status="on_site", arrived=(at, who[0]))
    t = at
    # Long coordination: a written report within 8 hours (Art. 13 limits (4)).
    if rng.random() < 0.01:
        coord = t + _minutes(10)
        report_due = coord + policy.report_limit
        ev.append((tid, to_iso(coord), "coordination", who[0], who[1], _j({"report_by": to_iso(report_due)})))
        dl["report"] = [report_due, report_due, "open", None, None, 0]
        r_at = coord + _minutes(rng.uniform(500, 600) if rng.random() < 0.15 else rng.uniform(30, 470))
        if meet("report", "report_submitted", r_at, who):
            pass
    # Close: one in sixteen late.
    close_span = (dl["close"][0] - t).total_seconds() / 60
    at = t + _minutes(rng.uniform(close_span + 1, close_span + 240) if rng.random() < 0.06 or close_span <= 5
                      else rng.uniform(15, min(close_span, 360)))
    if not meet("close", "close", at, who):
        _write(w, tid, a, state, dl, community, received, resident, flat, building)
        return
    for k in dl:
        if dl[k][2] == "open":
            dl[k][2] = "cancelled"
    state.update(status="closed", closed=(at, who[0]), outcome="done")
    recent = recent_closed.setdefault(centre, [])
    recent.append(tid)
    if len(recent) > 200:
        del recent[:100]
    _followup(w, rng, policy, tid, a, state, dl, at, now, who, resident, d_id, d_name, crews.get(centre) or crew, centre)
    _write(w, tid, a, state, dl, community, received, resident, flat, building)


def _followup(w: _Writer, rng: random.Random, policy: Policy, tid: int, a, state, dl, closed: datetime, now: datetime, who,
              resident: int, d_id: int, d_name: str, crew, centre: str) -> None:
    """Art. 8: asked at Done; answered in Telegram (solved and rated, or not solved: reopened and
    done again), or listed for dispatch and phoned."""
    ev = w.events
    ev.append((tid, to_iso(closed), "followup_asked", None, None, _j({"round": 0})))
    roll = rng.random()
    row = [tid, 0, to_iso(closed), to_iso(closed + timedelta(hours=24)), "asked", None, None, None, None, None, None]
    if roll < 0.55:
        at = closed + _minutes(rng.uniform(10, 600))
        if at <= now:
            rating = rng.choices([5, 4, 3, 2, 1, None], [55, 25, 8, 3, 2, 7])[0]
            ev.append((tid, to_iso(at), "followup_solved", resident, "居民", _j({"round": 0})))
            ev.append((tid, to_iso(at + _minutes(1)), "followup_rating", resident, "居民", _j({"rating": rating})))
            row[4:7] = ["done", 1, rating]
            row[9:11] = [to_iso(at), resident]
    elif roll < 0.60:
        at = closed + _minutes(rng.uniform(30, 600))
        if at <= now:
            # Not solved: reopened with fresh on-site and close limits, done again (Art. 8, 13).
            ev.append((tid, to_iso(at), "reopened", resident, "居民", _j({"centre": centre, "round": 1})))
            state["reopen"] = 1
            onsite_due = at + _minutes(a.category.onsite_minutes)
            close_due = at + policy.close_limit(a.level)
            arrive = at + _minutes(rng.uniform(10, a.category.onsite_minutes - 1))
            done = arrive + _minutes(rng.uniform(20, 180))
            dl["onsite"] = [onsite_due, onsite_due, "open", None, None, 0]
            dl["close"] = [close_due, close_due, "open", None, None, 0]
            state.update(status="accepted", arrived=None, closed=None, outcome=None)
            row[4:6] = ["reopened", 0]
            row[9:11] = [to_iso(at), resident]
            if arrive <= now:
                ev.append((tid, to_iso(arrive), "arrive", who[0], who[1], "{}"))
                dl["onsite"][2:5] = ["met", to_iso(arrive), 0]
                state.update(status="on_site", arrived=(arrive, who[0]))
            if done <= now and arrive <= now:
                ev.append((tid, to_iso(done), "close", who[0], who[1], "{}"))
                dl["close"][2:5] = ["met", to_iso(done), 0]
                state.update(status="closed", closed=(done, who[0]), outcome="done")
                ev.append((tid, to_iso(done), "followup_asked", None, None, _j({"round": 1})))
                row = [tid, 1, to_iso(done), to_iso(done + timedelta(hours=24)), "asked", None, None, None, None, None, None]
    else:
        listed = closed + timedelta(hours=24)
        phoned = listed + _minutes(rng.uniform(60, 1440))
        if listed <= now:
            ev.append((tid, to_iso(listed), "followup_listed", None, None, "{}"))
            row[4] = "listed"
            if phoned <= now:
                result = rng.choices(["satisfied", "basic", "unsatisfied", "unreachable"], [60, 20, 5, 15])[0]
                ev.append((tid, to_iso(phoned), "followup_phoned", d_id, d_name, _j({"result": result})))
                row[4], row[8], row[9], row[10] = "phoned", result, to_iso(phoned), d_id
    w.followups.append(tuple(row))


def _write(w: _Writer, tid: int, a, state, dl, community: str, received: datetime, resident: int, flat: str, building: str) -> None:
    acc, arr, clo = state["accepted"], state["arrived"], state["closed"]
    w.tickets.append((
        tid, a.category.code, str(a.source), str(a.level), state["status"], state["centre"],
        None if state["centre"] else "no_centre", resident, resident, "zh", "居民", None, community, flat,
        to_iso(received), to_iso(dl["accept"][0]), to_iso(dl["onsite"][0]), to_iso(dl["close"][0]),
        to_iso(acc[0]) if acc else None, acc[1] if acc else None, to_iso(arr[0]) if arr else None, arr[1] if arr else None,
        to_iso(clo[0]) if clo else None, clo[1] if clo else None, state["outcome"], state["reopen"], state["complaints"],
        state["repeat_of"], flat, building,
    ))
    for kind, (due, original, st, met_at, late, flags) in dl.items():
        w.deadlines.append((tid, kind, to_iso(due), to_iso(original), st, 0, None if st != "open" else to_iso(due), met_at, late,
                            int(bool(flags & 2))))


async def _advance_identities(conn) -> None:
    """PostgreSQL: the seed writes ticket and outage ids itself, which an identity column does
    not notice; move each past the largest id, or the bot's next ticket would take an id the
    seed used. (SQLite's next rowid is always past the largest.)"""
    for table in ("tickets", "outages"):
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} HAVING MAX(id) IS NOT NULL")


async def _register_and_notices(conn: aiosqlite.Connection, rng: random.Random, plan: SeedPlan, start: datetime, now: datetime,
                                centres: list[str], dispatchers: list[tuple[int, str]]) -> None:
    """Register entries (Art. 10 (1), 18-22) and outage notices (Art. 23 (4)), about one a week per centre each."""
    d_id, d_name = dispatchers[0]
    entries, outages, postings = [], [], []
    async with conn.execute("SELECT COALESCE(MAX(id), 0) FROM outages") as cur:
        outage_id = (await cur.fetchone())[0]
    for centre in centres:
        for week in range(max(1, plan.days // 7)):
            at = start + timedelta(days=7 * week + rng.uniform(0, 7))
            if at > now:
                continue
            if rng.random() < 0.5:
                kind = rng.choices(["praise", "criticism", "press", "supervision"], [40, 30, 10, 20])[0]
                entries.append((kind, centre, None, None, "leadership", "记录", None, d_id, d_name, to_iso(at)))
            if rng.random() < 0.3:
                outage_id += 1
                posted = at + timedelta(minutes=rng.uniform(-600, 120))
                late = int(posted > at)
                outages.append((outage_id, "planned", "published", "检修", to_iso(at + timedelta(days=2)), to_iso(at + timedelta(days=2, hours=8)),
                                to_iso(at + timedelta(days=2, hours=8)), 0, d_id, to_iso(at - timedelta(days=1))))
                postings.append((outage_id, centre, 0, "[]", to_iso(at), to_iso(posted) if posted <= now else None,
                                 late if posted <= now else None))
    await conn.executemany(
        "INSERT INTO register_entries(kind, centre_id, staff_id, staff_name, source, text, ticket_id, entered_by, entered_name, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    await conn.executemany(
        "INSERT INTO outages(id, kind, status, reason, starts_at, ends_at, original_ends_at, chat_id, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outages)
    await conn.executemany(
        "INSERT INTO outage_postings(outage_id, centre_id, chat_id, communities, due_at, posted_at, late) VALUES (?, ?, ?, ?, ?, ?, ?)",
        postings)
