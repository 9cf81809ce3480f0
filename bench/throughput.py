"""Throughput: updates per second through heatbot's full intake path (report -> ticket -> card),
against a bare python-telegram-bot echo bot on the same emulator in the same run.

Flood limits are off and time is real: this measures our own cost per update (handlers,
SQLite transactions, templates, the outbox) against the floor PTB and the emulator set. The
sender's own budgets (Telegram's limits: 30/s in all, 20/min per group) are lifted for this
run, since with them the figure would only measure the budgets; its one-new-message-in-flight
rule (the duplicate window) stays.

    .venv/bin/python -m bench.throughput [--residents 60]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.common import TOKEN, UPDATES_PER_REPORT, config_for, flat_of, peak_rss_mb, report
from bot import app as heatbot_app
from bot.app import build_application
from bot.config import SendSettings
from tgemu import Emulator, EmulatorClient
from demo.world import build_world


async def heatbot_rate(emulator: Emulator, tg: EmulatorClient, residents: int, tmp: Path) -> float:
    unlimited = SendSettings(private_per_s=100_000, group_per_min=100_000, global_per_s=100_000)
    app = build_application(replace(config_for(emulator, tmp / "throughput.db"), send=unlimited))
    await heatbot_app.start(app)
    people = [await tg.user(f"住户{i}", language_code="zh") for i in range(residents)]
    start = time.perf_counter()
    await asyncio.gather(*(report(p, timeout=60, flat=flat_of(i)) for i, p in enumerate(people)))
    svc = app.bot_data["svc"]
    while True:     # until every card is posted
        async with svc.db.conn.execute("SELECT COUNT(*) FROM tickets WHERE card_message_id IS NULL") as cur:
            if (await cur.fetchone())[0] == 0:
                break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    await heatbot_app.stop(app)
    return residents * UPDATES_PER_REPORT / elapsed


async def echo_rate(emulator: Emulator, tg: EmulatorClient, residents: int) -> float:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text or "?")

    app: Application = ApplicationBuilder().token(TOKEN).base_url(emulator.api_base_url).build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(lambda u, c: u.callback_query.answer()))
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    people = [await tg.user(f"echo{i}") for i in range(residents)]

    async def talk(p) -> None:
        for n in range(UPDATES_PER_REPORT):
            await p.send(f"hello {n}")
            await p.next_message(timeout=60)

    start = time.perf_counter()
    await asyncio.gather(*(talk(p) for p in people))
    elapsed = time.perf_counter() - start
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    return residents * UPDATES_PER_REPORT / elapsed


async def run(residents: int) -> dict:
    emulator = Emulator()
    await emulator.start()
    tg = EmulatorClient.for_emulator(emulator)
    await build_world(tg, Path(__file__).resolve().parent.parent / "org.example.toml")
    tmp = Path(tempfile.mkdtemp(prefix="heatbot-throughput-"))
    echo = await echo_rate(emulator, tg, residents)
    bot = await heatbot_rate(emulator, tg, residents, tmp)
    await tg.aclose()
    await emulator.stop()
    result = {"bot_updates_per_s": round(bot, 1), "echo_updates_per_s": round(echo, 1), "ratio": round(bot / echo, 3), "peak_rss_mb": peak_rss_mb()}
    print(f"throughput: {residents} residents at once, {UPDATES_PER_REPORT} updates each, flood limits off, real time")
    print(f"  heatbot full intake (report -> ticket -> card): {bot:.1f} updates/s")
    print(f"  bare PTB echo bot on the same emulator:         {echo:.1f} updates/s")
    print(f"  ratio heatbot / echo: {result['ratio']}   peak RSS {result['peak_rss_mb']} MB")
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=60)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(json.dumps(asyncio.run(run(args.residents))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
