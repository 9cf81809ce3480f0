"""Surge: N reports within a window (10 minutes by default), with Telegram's flood limits on,
for one centre or spread over several (``--centres``: a city's cold snap reaches every centre).

Time is accelerated: the emulator's limits, the bot's clock and the sender's clock all run on
one ScaledClock, so every figure below is in simulated seconds. The theoretical minimum is the
time Telegram's limits allow for the messages this run sent: for each chat its messages over
its limit (1/s private, 20/min group) and all messages over the global 30/s; the largest.

    .venv/bin/python -m bench.surge [--reports 1000] [--centres 1] [--window 600] [--scale 4]
                                    [--db postgresql://…/postgres [--instances 2]]

With ``--db`` the bot runs on a fresh database created on that PostgreSQL server (dropped after);
with ``--instances N`` too, N bot processes serve it in webhook mode behind a round-robin
balancer (tgemu.balancer), as behind a company's load balancer; one of them holds the sender
lease and sends, so Telegram's limits are the same as for one.

With ``--centres N`` (1-5) the reports go round-robin to the example organisation's first N
communities, each served by a repair centre of its own (the org file is copied with N repair
centres, so each centre's group has its own 20-a-minute budget). Each resident reports a flat
of their own: a second report for one flat is recorded on its open ticket (Art. 23).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import ROOT, TOKEN, ScaledClock, flat_of, peak_rss_mb, report
from storage.timestamps import from_iso
from tgemu import Emulator, EmulatorClient
from tgemu.balancer import RoundRobin
from demo.world import build_world
from storage.db import open_database
from bot.orgfile import load_org

# The example organisation's communities: the word a resident types to find one, and its name.
COMMUNITIES = (("heping", "和平", "和平苑"), ("xingfuli", "幸福", "幸福里"), ("yangguang", "阳光", "阳光花园"),
               ("lijingwan", "丽景", "丽景湾"), ("jianshe", "建设", "建设小区"))
_EXTRA_CENTRES = (("repair-east", "东区维修服务中心", "East Repair Centre", -1001000000103),
                  ("repair-west", "西区维修服务中心", "West Repair Centre", -1001000000104),
                  ("repair-central", "中区维修服务中心", "Central Repair Centre", -1001000000105))


def org_for(centres: int) -> str:
    """The example org file with ``centres`` repair centres, the k-th serving the k-th community
    (centres 1 keeps the file as it is: every report goes to 和平苑's North Repair Centre)."""
    text = (ROOT / "org.example.toml").read_text(encoding="utf-8")
    if centres <= 1:
        return text
    repair = ["repair-north", "repair-south"] + [c[0] for c in _EXTRA_CENTRES]
    extra = "".join(f'\n[[centres]]\nid = "{cid}"\nname_zh = "{zh}"\nname_en = "{en}"\nkind = "repair"\nchat_id = {chat}\n'
                    for cid, zh, en, chat in _EXTRA_CENTRES[:max(0, centres - 2)])
    head, sep, rest = text.partition("\n[[communities]]")
    blocks = rest.split("\n[[communities]]")
    for k, (cid, _, _) in enumerate(COMMUNITIES):
        i = next(n for n, b in enumerate(blocks) if f'id = "{cid}"' in b)
        blocks[i] = re.sub(r'repair = "[a-z-]+"', f'repair = "{repair[k % centres]}"', blocks[i])
    return head + extra + sep + "\n[[communities]]".join(blocks)


COUNTED = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageReplyMarkup")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _fresh_pg_database(server: str) -> tuple[str, str]:
    """A new database on ``server``: (its name, its URL)."""
    import psycopg
    from urllib.parse import urlsplit, urlunsplit
    name = f"heatbot_bench_surge_{os.getpid()}"
    async with await psycopg.AsyncConnection.connect(server, autocommit=True) as admin:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    return name, urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


async def run(reports: int, window: float, scale: float, seed: int, centres: int = 1,
              server: str | None = None, instances: int = 1) -> dict:
    random.seed(seed)
    clock = ScaledClock(scale)
    emulator = Emulator(clock=clock)
    await emulator.start()
    # Several control clients: each resident waits on a long poll, and one client's pool is 100.
    clients = [EmulatorClient.for_emulator(emulator) for _ in range(max(1, reports // 50))]
    tg = clients[0]
    tmp = Path(tempfile.mkdtemp(prefix="heatbot-surge-"))
    pg_name, db_path = await _fresh_pg_database(server) if server else (None, tmp / "surge.db")
    org_path = tmp / "org.toml"
    org_path.write_text(org_for(centres), encoding="utf-8")
    await build_world(tg, org_path)   # the groups and people the org file names
    await tg.set_flood(True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.api_base_url,
           "HEATBOT_DB": str(db_path), "HEATBOT_ORG": str(org_path),
           "BENCH_SCALE": str(scale), "BENCH_WALL0": repr(clock.wall0)}
    # The bot runs in its own process (or processes), as in production, so it has a CPU of its own.
    balancer = None
    if instances > 1:
        balancer = RoundRobin([_free_port() for _ in range(instances)])
        await balancer.start()
        env.update(WEBHOOK_URL=balancer.url, WEBHOOK_SECRET="bench_secret")
    bots = []
    for i in range(instances):
        port_env = {"WEBHOOK_PORT": str(balancer.ports[i])} if balancer else {}
        bots.append(await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.surge_bot", cwd=tmp,
                                                         env={**env, **port_env}, stdout=asyncio.subprocess.PIPE))
        # One at a time: the first migrates the new database; the others then find it done.
        assert (await bots[-1].stdout.readline()).strip() == b"ready"
    residents = [await clients[i % len(clients)].user(f"住户{i}", language_code="zh") for i in range(reports)]
    failures: list[str] = []
    t0 = clock.monotonic()
    start_at = clock.now()
    wall0 = time.monotonic()

    async def one(i: int) -> None:
        # Arrivals spread evenly over the window (simulated seconds).
        await asyncio.sleep(max(0.0, clock.wall_delay(t0 + i * window / reports - clock.monotonic())))
        try:
            _, search, name = COMMUNITIES[i % centres]
            await report(residents[i], timeout=120, flat=flat_of(i // centres), search=search, community=name)
        except Exception as e:  # a resident who never got an answer is a lost report
            failures.append(f"{type(e).__name__}: {str(e)[:80]}")

    tasks = [asyncio.create_task(one(i)) for i in range(reports)]
    last_arrival = t0 + window
    await asyncio.gather(*tasks)
    db = await open_database(db_path, migrate=False)
    conn = db.conn
    # Until every ticket has its card and nothing for a resident waits. Not until the whole outbox
    # has drained: in a surge longer than the 30-minute accept limit nobody here accepts, so the
    # limits' reminders and escalations (Art. 13) keep coming as long as the bot runs.
    while True:
        async with conn.execute(
            "SELECT (SELECT COUNT(*) FROM tickets WHERE card_message_id IS NULL) + (SELECT COUNT(*) FROM outbox "
            "WHERE status = 'pending' AND purpose IN ('reply', 'resident_status'))"
        ) as cur:
            if (await cur.fetchone())[0] == 0:
                break
        await asyncio.sleep(0.2)
    wall = time.monotonic() - wall0
    stats: dict = {}
    for bot in bots:
        bot.terminate()
        for key, value in json.loads((await bot.stdout.readline()) or b"{}").items():
            stats[key] = max(stats.get(key, 0), value) if key == "peak_rss_mb" else stats.get(key, 0) + value
        await bot.wait()
    if balancer is not None:
        await balancer.stop()

    async with conn.execute("SELECT COUNT(*), SUM(CASE WHEN card_message_id IS NOT NULL THEN 1 ELSE 0 END) FROM tickets") as cur:
        tickets, carded = await cur.fetchone()
    async with conn.execute("SELECT MAX(at) FROM ticket_events WHERE kind = 'card_posted'") as cur:
        last_card = from_iso((await cur.fetchone())[0])
    async with conn.execute("SELECT MAX(sent_at), SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), "
                            "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) FROM outbox WHERE purpose = 'resident_status'") as cur:
        last_reply_iso, receipts, failed_receipts = await cur.fetchone()
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status != 'sent'") as cur:
        undelivered = (await cur.fetchone())[0]
    async with conn.execute("SELECT purpose, COUNT(*) FROM outbox WHERE status = 'pending' GROUP BY purpose ORDER BY 2 DESC") as cur:
        still_pending = {r[0]: r[1] for r in await cur.fetchall()}
    async with conn.execute("SELECT COUNT(*) FROM ticket_events WHERE kind = 'card_posted' "
                            "AND CAST(json_extract(detail, '$.digest') AS INTEGER) = 1") as cur:
        digested = (await cur.fetchone())[0]
    await db.close()
    if pg_name is not None:
        import psycopg
        async with await psycopg.AsyncConnection.connect(server, autocommit=True) as admin:
            await admin.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")

    calls = await tg.calls()
    ok = [c for c in calls if c.ok and c.method in COUNTED]
    per_chat = Counter(int(c.params["chat_id"]) for c in ok)
    centre_chats = {c.chat_id for c in load_org(org_path).centres}
    http_429 = sum(1 for c in calls if c.status == 429)
    bounds = [len(ok) / 30.0]
    for chat, n in per_chat.items():
        bounds.append(n / 1.0 if chat > 0 else n * 3.0)
    theoretical = max(bounds)
    to_card = (last_card - start_at).total_seconds()
    to_reply = (from_iso(last_reply_iso) - start_at).total_seconds()
    group_msgs = sum(n for chat, n in per_chat.items() if chat in centre_chats)
    delivered = min(carded or 0, receipts or 0)
    lost = reports - delivered
    result = {
        "reports": reports, "centres": centres, "backend": "postgresql" if server else "sqlite", "instances": instances, "delivered": delivered, "lost": lost, "http_429": http_429,
        "seconds_to_last_card": round(to_card, 1), "seconds_to_last_reply": round(to_reply, 1),
        "theoretical_min_seconds": round(theoretical, 1), "ratio": round(max(to_card, to_reply) / theoretical, 3),
        "peak_rss_mb": stats.get("peak_rss_mb"),     # the bot's process
    }
    print(f"surge ({result['backend']}, {instances} instance{'s' if instances > 1 else ''}): "
          f"{reports} reports for {centres} centre{'s' if centres > 1 else ''} over {window:.0f} s (simulated; clock x{scale:g}, {wall:.0f} s of wall time)")
    print(f"  tickets committed {tickets}, with a card {carded} ({digested} of them via digests), receipts sent {receipts}, failed {failed_receipts or 0}")
    print(f"  residents without an answer: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))
    print(f"  outbox rows not sent: {undelivered} (still pending: {still_pending or 'none'}); sender: {({k: v for k, v in stats.items() if k != 'peak_rss_mb'})}")
    print(f"  messages counted by Telegram's limits: {len(ok)} ({group_msgs} in the centre groups), 429s: {http_429}")
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
    p.add_argument("--centres", type=int, default=1, choices=range(1, 6), metavar="1-5",
                   help="how many centres the reports are spread over (round-robin by community)")
    p.add_argument("--window", type=float, default=600.0, help="simulated seconds over which the reports arrive")
    p.add_argument("--scale", type=float, default=4.0, help="simulated seconds per wall second")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--db", help="a PostgreSQL server URL (its admin database); default: a SQLite file")
    p.add_argument("--instances", type=int, default=1, help="bot processes behind a balancer (webhook mode; needs --db)")
    args = p.parse_args()
    if args.instances > 1 and not args.db:
        p.error("--instances above 1 needs --db postgresql://…: one SQLite file serves one process")
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.reports, args.window, args.scale, args.seed, args.centres, args.db, args.instances))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
