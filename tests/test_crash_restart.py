"""Crash safety (issue 5): SIGKILL the real bot process mid-surge, start it again, and check
the transcripts. Every committed message arrives; the only duplicates are messages that were
in flight at a kill: at most one per chat per kill (a chat has one send in flight at a time),
and at most HEATBOT_SEND_NEW_IN_FLIGHT per kill in all.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import desk
from bot.config import SendSettings
from bot.clock import SystemClock
from tgemu import Emulator, EmulatorClient
from bot.services import Services, Who
from bot.texts import Texts
from demo.world import World
from rules.policy import load_policy
from storage.db import open_database
from storage.drafts import Draft
from tests.conftest import ORG_FILE, ROOT, TOKEN

RESIDENTS = 30
TICKETS_PER_RESIDENT = 4
KILLS = 3


def _spawn(emulator: Emulator, db_path: Path, workdir: Path) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "HEATBOT_DB": str(db_path), "HEATBOT_ORG": str(ORG_FILE), "HEATBOT_LOG_LEVEL": "WARNING",
        "HEATBOT_ALLOW_EXAMPLE_ORG": "1",
        "HEATBOT_SEND_PRIVATE_PACING": "always",
    }
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "bot.log", "ab"))


async def _sent_ok(tg: EmulatorClient) -> int:
    return len([c for c in await tg.calls() if c.ok and c.method in ("sendMessage", "sendPhoto")])


async def _surge(db_path: Path, residents) -> None:
    """Tickets as the intake's Confirm commits them, from a second connection to the same file."""
    db = await open_database(db_path)
    svc = Services(db=db, clock=SystemClock(), policy=load_policy(None), texts=Texts(ZoneInfo("Asia/Shanghai")),
                   tz=ZoneInfo("Asia/Shanghai"), default_lang="zh")
    try:
        for round_ in range(TICKETS_PER_RESIDENT):
            async with db.transaction() as conn:
                for i, r in enumerate(residents):
                    draft = Draft(r.id, "n", "confirm", {
                        "category": "not_warm", "community_id": "heping" if i % 2 else "yangguang",
                        "address": f"{round_ * 100 + i}-1-101",   # one flat per building: no building-wide alert "phone": "13912345678", "temperature": 15, "description": "不热",
                    })
                    await desk.create_ticket_from_draft(conn, svc, Who(r.id, r.id, r.first_name, "zh"), "zh", draft)
    finally:
        await db.close()


async def test_killing_the_bot_mid_surge_loses_nothing_and_duplicates_at_most_one_message_per_chat_per_kill(
    emulator: Emulator, tg: EmulatorClient, world: World, db_path: Path, tmp_path: Path,
):
    workdir = tmp_path / "run"
    workdir.mkdir()
    await tg.set_flood(True)            # Telegram's limits make the surge last long enough to kill
    proc = _spawn(emulator, db_path, workdir)
    try:
        residents = [await tg.user(f"住户{i}", language_code="zh") for i in range(RESIDENTS)]
        for r in residents:
            await r.send("/start")
        for r in residents:
            await r.next_message(timeout=15)
        await _surge(db_path, residents)
        kills = 0
        base = await _sent_ok(tg)
        while kills < KILLS:
            await asyncio.sleep(0.05)
            if await _sent_ok(tg) >= base + 25:
                proc.send_signal(signal.SIGKILL)
                proc.wait(5)
                kills += 1
                proc = _spawn(emulator, db_path, workdir)
                base = await _sent_ok(tg)

        db = await open_database(db_path)
        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + 25
            while True:
                async with db.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") as cur:
                    left = (await cur.fetchone())[0]
                if left == 0 or loop.time() > end:
                    break
                await asyncio.sleep(0.2)
            assert left == 0, f"{left} messages still pending"
            async with db.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") as cur:
                assert (await cur.fetchone())[0] == 0
            async with db.conn.execute("SELECT DISTINCT chat_id, message_id FROM outbox WHERE status = 'sent' AND message_id IS NOT NULL") as cur:
                recorded = {(r[0], r[1]) for r in await cur.fetchall()}
            async with db.conn.execute("SELECT COUNT(*) FROM tickets WHERE card_message_id IS NULL") as cur:
                assert (await cur.fetchone())[0] == 0          # every ticket has its card (or digest)
        finally:
            await db.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)

    chats = [*residents, world.groups["repair-north"], world.groups["repair-south"], world.groups["dispatch"]]
    delivered = set()
    for chat in chats:
        delivered |= {(m.chat_id, m.message_id) for m in await chat.transcript() if m.from_bot}
    assert recorded <= delivered                              # every committed message arrived
    duplicates = delivered - recorded                         # sent, but the kill beat the commit
    window = SendSettings().new_in_flight
    assert len(duplicates) <= kills * window, duplicates
    assert max(Counter(chat for chat, _ in duplicates).values(), default=0) <= kills, duplicates
    receipts = Counter()
    for r in residents:
        receipts[r.id] = sum(1 for m in await r.transcript() if m.from_bot and "报修已提交" in m.text)
    assert all(TICKETS_PER_RESIDENT <= receipts[r.id] <= TICKETS_PER_RESIDENT + kills for r in residents), receipts
