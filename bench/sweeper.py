"""One sweep of the deadline clock with 1,000 and with 100,000 open tickets, the same few due.

    .venv/bin/python -m bench.sweeper

The sweeper must cost what is due, not what is open (issue 4): it reads only deadlines whose
``next_at`` has come, through a partial index. Each size is measured in this same process on
a fresh SQLite file: the median of several sweeps that each fire the same 5 due deadlines.
The last line is one JSON object: open_1k_ms, open_100k_ms, ratio (100k over 1k).
"""
from __future__ import annotations

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
    """Open tickets whose limits are all far ahead, plus DUE_FEW whose accept limit has come."""
    far = to_iso(NOW + timedelta(days=2))
    received = to_iso(NOW - timedelta(minutes=40))
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO tickets(id, category, source, level, status, centre_id, resident_lang, received_at, accept_by, onsite_by, close_by, address) "
            "VALUES (?, 'not_warm', 'resident', 'major', 'new', 'repair-north', 'zh', ?, ?, ?, ?, '1-1-101')",
            [(i, received, far, far, far) for i in range(1, open_tickets + 1)],
        )
        rows = []
        for i in range(1, open_tickets + 1):
            for kind in ("accept", "onsite", "close"):
                rows.append((i, kind, far, far, to_iso(NOW + timedelta(days=1, hours=23))))
        await conn.executemany(
            "INSERT INTO deadlines(ticket_id, kind, due_at, original_due_at, next_at) VALUES (?, ?, ?, ?, ?)", rows,
        )


async def _arm_due(db) -> None:
    """(Re)make the same few accept limits due now, stage none, so every sweep does equal work."""
    due = to_iso(NOW - timedelta(minutes=5))
    async with db.transaction() as conn:
        await conn.execute(
            f"UPDATE deadlines SET due_at = ?, stage = 1, next_at = ?, state = 'open' WHERE kind = 'accept' AND ticket_id <= {DUE_FEW}",
            (due, due),
        )
        await conn.execute("DELETE FROM outbox")


async def measure(open_tickets: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = await open_database(Path(tmp) / "bench.db")
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


async def main() -> int:
    small = await measure(1_000)
    print(f"one sweep, 1,000 open tickets, {DUE_FEW} due:   {small:8.2f} ms (median of {ROUNDS})")
    large = await measure(100_000)
    print(f"one sweep, 100,000 open tickets, {DUE_FEW} due: {large:8.2f} ms (median of {ROUNDS})")
    ratio = large / small
    print(f"ratio 100k / 1k: {ratio:.2f} (goal ≤ 1.5)")
    print(json.dumps({"open_1k_ms": round(small, 3), "open_100k_ms": round(large, 3), "ratio": round(ratio, 3),
                      "due_per_sweep": DUE_FEW, "rounds": ROUNDS}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
