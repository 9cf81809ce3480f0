"""How long the month's assessment report takes over a database of 100,000 and of 1,000,000
seeded tickets (`heatbot seed`'s season, the same daily rate: 100k is one 150-day season, 1M
ten times as many days, so both Januaries hold about as many tickets and the question is
whether the report's cost follows the month or the whole database).

    python -m bench.report [--dir /tmp/heatbot-bench] [--dense] [--pg URL] [--sizes 100k,1m]

The databases are kept in ``--dir`` and reused (seeding a million tickets takes minutes).
``--pg`` (a PostgreSQL server's URL, its admin database) runs it on PostgreSQL instead: the
databases are ``heatbot_bench_<size>`` on that server, created and seeded when missing or not
holding the season, reused otherwise. ``--sizes`` picks some of the sizes (the ratio needs both).
``--dense`` also times 1M tickets in one 150-day season (a month ten times larger). The
report is made as ``heatbot report --format html`` makes it (figures, events, crew, days,
the page); each size is timed three times and the median kept. Last line: JSON with
``report_100k_s``, ``report_1m_s`` and ``ratio`` (goal: 1M under 5x 100k and under 10 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from bot.orgfile import load_org
from bot.report import build_report, to_html, to_xlsx
from bot.seed import SeedPlan, seed
from bot.texts import Texts
from rules.assessment import period_between
from rules.policy import load_policy
from storage.db import open_database
from storage.dialect import SQLITE
from storage.figures import tune_for_reading
from storage.org import replace_org

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
SEASON_END = date(2026, 4, 14)            # the last seeded day; January 2026 is well inside it
MONTH = period_between(date(2026, 1, 1), date(2026, 1, 31), TZ)


async def _ensure(path: Path, tickets: int, days: int) -> float | None:
    """Seed ``path`` unless it already holds this season; the seconds it took, or None if reused."""
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == f"{tickets} {days}":
        return None
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
    seconds = await _seed(path, tickets, days)
    marker.write_text(f"{tickets} {days}")
    return seconds


async def _ensure_pg(server: str, name: str, tickets: int, days: int) -> tuple[str, float | None]:
    """PostgreSQL: database ``heatbot_bench_<name>`` on ``server``, seeded unless it already holds
    ``tickets`` tickets (a seed cut short holds fewer: dropped and made again). Its URL, and the
    seconds seeding took or None if reused."""
    database = f"heatbot_bench_{name}"
    url = urlunsplit(urlsplit(server)._replace(path="/" + database))     # host, port, user kept
    with psycopg.connect(server, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None
        if exists:
            with psycopg.connect(url) as conn:
                held = conn.execute("SELECT to_regclass('tickets') IS NOT NULL").fetchone()[0] and \
                    conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
            if held == tickets:
                return url, None
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return url, await _seed(url, tickets, days)


async def _seed(target: Path | str, tickets: int, days: int) -> float:
    began = time.perf_counter()
    db = await open_database(target)
    try:
        async with db.transaction() as conn:
            await replace_org(conn, load_org(ROOT / "org.example.toml"))
        start = SEASON_END - timedelta(days=days - 1)
        await seed(db, load_policy(), SeedPlan(tickets, days, 14, start), TZ)
        if db.backend == SQLITE:
            await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await db.conn.execute("ANALYZE")
        else:
            # the planner's statistics, and the visibility map that lets an index answer alone
            await db.conn.execute("VACUUM ANALYZE")
    finally:
        await db.close()
    return time.perf_counter() - began


async def _size_mb(target: Path | str) -> float:
    if isinstance(target, Path):
        return target.stat().st_size / 1e6
    db = await open_database(target, migrate=False)
    try:
        async with db.conn.execute("SELECT pg_database_size(current_database())") as cur:
            return (await cur.fetchone())[0] / 1e6
    finally:
        await db.close()


async def _time_report(path: Path | str, rounds: int = 3) -> tuple[float, int, float]:
    """(median seconds for the HTML report, tickets received in the month, XLSX seconds)."""
    policy = load_policy()
    texts = Texts(TZ)
    times = []
    received = 0
    xlsx = 0.0
    for _ in range(rounds):
        db = await open_database(path, migrate=False)
        try:
            await tune_for_reading(db.conn)          # as `heatbot report` opens it
            began = time.perf_counter()
            report = await build_report(db.conn, MONTH, tz=TZ, rules=policy.assessment, made_at=MONTH.end + timedelta(days=1),
                                        with_tickets=False)
            to_html(report, texts, "zh")
            times.append(time.perf_counter() - began)
            received = sum(c.received for c in report.centres)
        finally:
            await db.close()
    db = await open_database(path, migrate=False)
    try:
        await tune_for_reading(db.conn)
        began = time.perf_counter()
        report = await build_report(db.conn, MONTH, tz=TZ, rules=policy.assessment, made_at=MONTH.end + timedelta(days=1))
        to_xlsx(report, TZ)
        xlsx = time.perf_counter() - began
    finally:
        await db.close()
    return statistics.median(times), received, xlsx


async def main(folder: Path, dense: bool, pg: str | None = None, only: set[str] | None = None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [("100k", 100_000, 150), ("1m", 1_000_000, 1500)] + ([("1m_dense", 1_000_000, 150)] if dense else [])
    result: dict = {"backend": "postgresql" if pg else "sqlite"}
    for name, tickets, days in sizes:
        if only and name not in only:
            continue
        if pg:
            target, seeded = await _ensure_pg(pg, name, tickets, days)
            where = f"database heatbot_bench_{name}"
        else:
            target = folder / f"season_{name}.db"
            seeded = await _ensure(target, tickets, days)
            where = str(target)
        if seeded is not None:
            print(f"seeded {tickets} tickets over {days} days in {seeded:.0f} s ({where})", flush=True)
            result[f"seed_{name}_s"] = round(seeded, 1)
        seconds, received, xlsx = await _time_report(target)
        print(f"{name}: January's report {seconds:.2f} s ({received} tickets received that month; with the XLSX "
              f"tickets sheet {xlsx:.2f} s); database {await _size_mb(target):.0f} MB", flush=True)
        result[f"report_{name}_s"] = round(seconds, 3)
        result[f"month_tickets_{name}"] = received
        result[f"report_xlsx_{name}_s"] = round(xlsx, 3)
    if "report_1m_s" in result and "report_100k_s" in result:
        result["ratio"] = round(result["report_1m_s"] / result["report_100k_s"], 3)
    if "report_1m_dense_s" in result and "report_100k_s" in result:
        result["ratio_dense"] = round(result["report_1m_dense_s"] / result["report_100k_s"], 3)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/heatbot-bench")
    parser.add_argument("--dense", action="store_true")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server (its admin database's URL) to run on instead of SQLite")
    parser.add_argument("--sizes", help="comma-separated: 100k, 1m, 1m_dense (default: all that apply)")
    args = parser.parse_args()
    only = set(args.sizes.split(",")) if args.sizes else None
    print(json.dumps(asyncio.run(main(Path(args.dir), args.dense, args.pg, only))))
