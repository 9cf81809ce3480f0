"""One sweep of the deadline clock with 1,000 and with many more open tickets, the same few due.

    .venv/bin/python -m bench.sweeper [--sizes 1000,100000] [--db postgresql://…/postgres]

The sweeper must cost what is due, not what is open: it reads only deadlines whose ``next_at``
has come, through a partial index. Each size is measured in this same process on a fresh
database (a SQLite file, or with ``--db`` a PostgreSQL database created on that server and
dropped after): the median of several sweeps that each fire the same 5 due deadlines.
The last line is one JSON object: the milliseconds per size and the ratio of the largest to the
smallest.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import clockwork
from bot.clock import FakeClock
from storage.timestamps import to_iso
from bot.orgfile import load_org
from bot.services import Services
from bot.texts import Texts
from rules.policy import load_policy
from storage.db import open_database
from storage.org import replace_org

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
DUE_FEW = 5
ROUNDS = 15


async def _fill(db, open_tickets: int) -> None:
    """Open tickets whose limits are all far ahead, plus DUE_FEW whose accept limit has come.
    Generated inside the database (a recursive count both backends run), so a million rows
    take seconds, not the minutes a million round trips would."""
    far = to_iso(NOW + timedelta(days=2))
    received = to_iso(NOW - timedelta(minutes=40))
    count = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    async with db.transaction() as conn:
        await conn.execute(
            count + "INSERT INTO tickets(id, category, source, level, status, centre_id, resident_lang, received_at, "
            "accept_by, onsite_by, close_by, address) "
            "SELECT i, 'not_warm', 'resident', 'major', 'new', 'repair-north', 'zh', ?, ?, ?, ?, '1-1-101' FROM n",
            (open_tickets, received, far, far, far),
        )
        await conn.execute(
            count + "INSERT INTO deadlines(ticket_id, kind, due_at, original_due_at, next_at) "
            "SELECT i, k.kind, ?, ?, ? FROM n CROSS JOIN (SELECT 'accept' AS kind UNION ALL SELECT 'onsite' "
            "UNION ALL SELECT 'close') AS k",
            (open_tickets, far, far, to_iso(NOW + timedelta(days=1, hours=23))),
        )
        if getattr(conn, "backend", "sqlite") == "postgresql":
            await conn.execute("ANALYZE")       # fresh statistics, as autovacuum would give in time


async def _arm_due(db) -> None:
    """(Re)make the same few accept limits due now, stage none, so every sweep does equal work."""
    due = to_iso(NOW - timedelta(minutes=5))
    async with db.transaction() as conn:
        await conn.execute(
            f"UPDATE deadlines SET due_at = ?, stage = 1, next_at = ?, state = 'open' WHERE kind = 'accept' AND ticket_id <= {DUE_FEW}",
            (due, due),
        )
        await conn.execute("DELETE FROM outbox")


async def measure(open_tickets: int, server: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "bench.db" if server is None else await _pg_database(server, open_tickets)
        db = await open_database(target)
        try:
            async with db.transaction() as conn:
                await replace_org(conn, load_org(ROOT / "org.example.toml"))
            await _fill(db, open_tickets)
            tz = ZoneInfo("Asia/Shanghai")
            svc = Services(db=db, clock=FakeClock(NOW), policy=load_policy(), texts=Texts(tz), tz=tz, default_lang="zh")
            samples = []
            for _ in range(ROUNDS):
                await _arm_due(db)
                start = time.perf_counter()
                fired = await clockwork.sweep(svc)
                samples.append((time.perf_counter() - start) * 1000)
                assert fired == DUE_FEW, fired
            return statistics.median(samples)
        finally:
            await db.close()
            if server is not None:
                await _pg_admin(server, f"DROP DATABASE IF EXISTS {_pg_name(open_tickets)} WITH (FORCE)")


def _pg_name(open_tickets: int) -> str:
    return f"heatbot_bench_sweeper_{open_tickets}"


async def _pg_admin(server: str, sql: str) -> None:
    import psycopg
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as admin:
        await admin.execute(sql)


async def _pg_database(server: str, open_tickets: int) -> str:
    from urllib.parse import urlsplit, urlunsplit
    name = _pg_name(open_tickets)
    await _pg_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _pg_admin(server, f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


async def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.sweeper")
    parser.add_argument("--sizes", default="1000,100000", help="open tickets per run, comma-separated (default 1000,100000)")
    parser.add_argument("--db", help="a PostgreSQL server URL (its admin database); default: SQLite files")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    where = "PostgreSQL" if args.db else "SQLite"
    results = {}
    for size in sizes:
        results[size] = await measure(size, args.db)
        print(f"{where}: one sweep, {size:,} open tickets, {DUE_FEW} due: {results[size]:8.2f} ms (median of {ROUNDS})")
    ratio = results[sizes[-1]] / results[sizes[0]]
    print(f"ratio {sizes[-1]:,} / {sizes[0]:,}: {ratio:.2f} (goal ≤ 1.5)")
    print(json.dumps({"backend": where, "ms": {str(k): round(v, 3) for k, v in results.items()}, "ratio": round(ratio, 3),
                      "due_per_sweep": DUE_FEW, "rounds": ROUNDS}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
