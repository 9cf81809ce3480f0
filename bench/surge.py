"""Surge: N reports for one centre within 10 minutes, with Telegram's flood limits on.

Time is accelerated: the emulator's limits, the bot's clock and the sender's clock all run on
one ScaledClock, so every figure below is in simulated seconds. The theoretical minimum is the
time Telegram's limits allow for the messages this run sent: for each chat its messages over
its limit (1/s private, 20/min group) and all messages over the global 30/s; the largest.

    .venv/bin/python -m bench.surge [--reports 1000] [--window 600] [--scale 4]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import ROOT, TOKEN, ScaledClock, peak_rss_mb, report
from storage.timestamps import from_iso
from tgemu import Emulator, EmulatorClient
from demo.world import build_world
from storage.db import open_database

COUNTED = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageReplyMarkup")


async def run(reports: int, window: float, scale: float, seed: int) -> dict:
    random.seed(seed)
    clock = ScaledClock(scale)
    emulator = Emulator(clock=clock)
    await emulator.start()
    # Several control clients: each resident waits on a long poll, and one client's pool is 100.
    clients = [EmulatorClient.for_emulator(emulator) for _ in range(max(1, reports // 50))]
    tg = clients[0]
    tmp = Path(tempfile.mkdtemp(prefix="heatbot-surge-"))
    db_path = tmp / "surge.db"
    await build_world(tg, ROOT / "org.example.toml")   # the groups and people the org file names
    await tg.set_flood(True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.api_base_url,
           "HEATBOT_DB": str(db_path), "HEATBOT_ORG": str(ROOT / "org.example.toml"),
           "BENCH_SCALE": str(scale), "BENCH_WALL0": repr(clock.wall0)}
    # The bot runs in its own process, as in production, so it has a CPU of its own.
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.surge_bot", cwd=tmp, env=env,
                                               stdout=asyncio.subprocess.PIPE)
    assert (await bot.stdout.readline()).strip() == b"ready"
    residents = [await clients[i % len(clients)].user(f"住户{i}", language_code="zh") for i in range(reports)]
    failures: list[str] = []
    t0 = clock.monotonic()
    start_at = clock.now()
    wall0 = time.monotonic()

    async def one(i: int) -> None:
        # Arrivals spread evenly over the window (simulated seconds).
        await asyncio.sleep(max(0.0, clock.wall_delay(t0 + i * window / reports - clock.monotonic())))
        try:
            await report(residents[i], timeout=120)
        except Exception as e:  # a resident who never got an answer is a lost report
            failures.append(f"{type(e).__name__}: {str(e)[:80]}")

    tasks = [asyncio.create_task(one(i)) for i in range(reports)]
    last_arrival = t0 + window
    await asyncio.gather(*tasks)
    db = await open_database(db_path, migrate=False)
    conn = db.conn
    while True:         # until the outbox has drained
        async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
            if (await cur.fetchone())[0] == 0:
                break
        await asyncio.sleep(0.2)
    wall = time.monotonic() - wall0
    bot.terminate()
    stats = json.loads((await bot.stdout.readline()) or b"{}")
    await bot.wait()

    async with conn.execute("SELECT COUNT(*), SUM(card_message_id IS NOT NULL) FROM tickets") as cur:
        tickets, carded = await cur.fetchone()
    async with conn.execute("SELECT MAX(at) FROM ticket_events WHERE kind = 'card_posted'") as cur:
        last_card = from_iso((await cur.fetchone())[0])
    async with conn.execute("SELECT MAX(sent_at), SUM(status = 'sent'), SUM(status = 'failed') FROM outbox WHERE purpose = 'resident_status'") as cur:
        last_reply_iso, receipts, failed_receipts = await cur.fetchone()
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status != 'sent'") as cur:
        undelivered = (await cur.fetchone())[0]
    async with conn.execute("SELECT COUNT(*) FROM ticket_events WHERE kind = 'card_posted' AND json_extract(detail, '$.digest') = 1") as cur:
        digested = (await cur.fetchone())[0]
    await db.close()

    calls = await tg.calls()
    ok = [c for c in calls if c.ok and c.method in COUNTED]
    per_chat = Counter(int(c.params["chat_id"]) for c in ok)
    http_429 = sum(1 for c in calls if c.status == 429)
    bounds = [len(ok) / 30.0]
    for chat, n in per_chat.items():
        bounds.append(n / 1.0 if chat > 0 else n * 3.0)
    theoretical = max(bounds)
    to_card = (last_card - start_at).total_seconds()
    to_reply = (from_iso(last_reply_iso) - start_at).total_seconds()
    group_msgs = sum(n for chat, n in per_chat.items() if chat < 0)
    delivered = min(carded or 0, receipts or 0)
    lost = reports - delivered
    result = {
        "reports": reports, "delivered": delivered, "lost": lost, "http_429": http_429,
        "seconds_to_last_card": round(to_card, 1), "seconds_to_last_reply": round(to_reply, 1),
        "theoretical_min_seconds": round(theoretical, 1), "ratio": round(max(to_card, to_reply) / theoretical, 3),
        "peak_rss_mb": stats.get("peak_rss_mb"),     # the bot's process
    }
    print(f"surge: {reports} reports for one centre over {window:.0f} s (simulated; clock x{scale:g}, {wall:.0f} s of wall time)")
    print(f"  tickets committed {tickets}, with a card {carded} ({digested} of them via digests), receipts sent {receipts}, failed {failed_receipts or 0}")
    print(f"  residents without an answer: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))
    print(f"  outbox rows not sent: {undelivered}; sender: {({k: v for k, v in stats.items() if k != 'peak_rss_mb'})}")
    print(f"  messages counted by Telegram's limits: {len(ok)} ({group_msgs} in the centre group), 429s: {http_429}")
    print(f"  last card at {to_card:.1f} s, last resident reply at {to_reply:.1f} s (the last report arrived by {last_arrival - t0:.0f} s)")
    print(f"  theoretical minimum {theoretical:.1f} s  ->  ratio {result['ratio']}  (goal <= 1.2, lost 0)")
    print(f"  peak RSS: bot {result['peak_rss_mb']} MB, emulator and residents {peak_rss_mb()} MB")
    for c in clients:
        await c.aclose()
    await emulator.stop()
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reports", type=int, default=1000)
    p.add_argument("--window", type=float, default=600.0, help="simulated seconds over which the reports arrive")
    p.add_argument("--scale", type=float, default=4.0, help="simulated seconds per wall second")
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.reports, args.window, args.scale, args.seed))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
