"""Outbox rows are claimed before they are sent: two senders on one database never take the same
row, a chat's messages keep their order across senders, and a dead sender's rows are freed.

Two bot processes on one database are refused by the instance lock (tests/test_cli.py); the
claims are what several instances on one PostgreSQL database will rely on.
"""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot

from bot.clock import FakeClock
from tgemu import EmulatorClient
from bot.payload import message
from bot import desk, outages
from bot.config import SendSettings
from bot.delivery import DeliveryHooks
from bot.sender import OutboxSender
from bot.services import Services
from bot.texts import Texts
from rules.policy import load_policy
from storage import outbox
from storage.db import Database, open_database
from storage.outbox import Priority
from tests.conftest import START

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def two_connections(db_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    first = await open_database(db_path)
    try:
        second = await open_database(db_path)
        try:
            yield first, second
        finally:
            await second.close()
    finally:
        await first.close()


async def _enqueue(db: Database, chats: list[int], per_chat: int) -> None:
    async with db.transaction() as conn:
        for n in range(per_chat):
            for chat in chats:
                await outbox.enqueue_message(conn, chat, message(f"{chat} #{n}"), priority=Priority.STATUS,
                                             purpose="reply", now=START)


async def _pick(db: Database, claimer: str, limit: int = 100) -> list[outbox.OutboxItem]:
    async with db.transaction() as conn:
        return [item for item in await outbox.next_batch(conn, limit)
                if await outbox.claim(conn, item.id, claimer, START)]


async def test_a_row_claimed_by_one_sender_is_skipped_by_another_with_the_rest_of_its_chat(two_connections):
    a, b = two_connections
    await _enqueue(a, [101, 102, 103], per_chat=2)
    taken_by_a = await _pick(a, "a", limit=2)
    taken_by_b = await _pick(b, "b")
    assert {i.chat_id for i in taken_by_a} == {101, 102}
    # b gets the one chat a left alone, and not the second row of a's chats (order per chat).
    assert [(i.chat_id, i.payload["text"]) for i in taken_by_b] == [(103, "103 #0")]
    assert await _pick(a, "a") == [] and await _pick(b, "b") == []
    async with b.transaction() as conn:
        for item in taken_by_b:
            await outbox.mark_sent(conn, item.id, 1, START)
        await outbox.bump_attempts(conn, taken_by_a[0].id, "NetworkError")     # a retry frees its row
    assert sorted(i.payload["text"] for i in await _pick(b, "b")) == [f"{taken_by_a[0].chat_id} #0", "103 #1"]


async def test_the_claims_of_a_dead_process_are_released_and_a_live_ones_kept(two_connections):
    a, _ = two_connections
    await _enqueue(a, [201, 202], per_chat=1)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = f"{socket.gethostname()}:{int(finished.stdout)}:-:00000000"
    alive = outbox.new_claimer()                  # this process: a sibling sender, still running
    [first] = await _pick(a, dead, limit=1)
    [second] = await _pick(a, alive, limit=1)
    async with a.transaction() as conn:
        assert await outbox.release_stale_claims(conn) == 1
    assert [i.id for i in await _pick(a, "next")] == [first.id]
    assert second.id not in [i.id for i in await _pick(a, "next")]


@pytest.fixture
async def two_senders(emulator, db_path: Path) -> AsyncIterator[tuple[Services, list[OutboxSender]]]:
    settings = SendSettings(private_per_s=1000, group_per_min=1000, global_per_s=1000)     # not what is tested here
    dbs: list[Database] = []
    bots: list[Bot] = []
    senders: list[OutboxSender] = []
    try:
        for _ in range(2):
            dbs.append(await open_database(db_path))
            bot = Bot("123456:TEST-TOKEN", base_url=emulator.api_base_url, base_file_url=emulator.file_base_url)
            await bot.initialize()
            bots.append(bot)
            svc = Services(db=dbs[-1], clock=FakeClock(START), policy=load_policy(None), texts=Texts(TZ), tz=TZ,
                           default_lang="zh")
            hooks = DeliveryHooks(     # as bot/app.py wires them
                resident_unreachable=lambda conn, ticket_id, error, svc=svc: desk.resident_unreachable(conn, svc, ticket_id, error),
                group_unreachable=lambda conn, chat_id, ticket_id, error, svc=svc: desk.group_unreachable(conn, svc, chat_id, ticket_id, error),
                render_document=lambda conn, spec, svc=svc: outages.render_document(conn, svc, spec),
            )
            senders.append(OutboxSender(bot, svc, hooks, settings=settings))
        yield senders[0].svc, senders
    finally:
        for sender in senders:
            await sender.stop()
        for bot in bots:
            await bot.shutdown()
        for db in dbs:
            await db.close()


async def test_two_senders_on_one_database_send_each_row_once_and_each_chat_in_order(two_senders, tg: EmulatorClient):
    svc, senders = two_senders
    users = [await tg.user(f"住户{i}") for i in range(20)]
    for u in users:
        await u.send("/start")
    await _enqueue(svc.db, [u.id for u in users], per_chat=10)
    for sender in senders:
        sender.start()
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while True:
        async with svc.db.transaction() as conn:
            left = await outbox.pending_count(conn)
        if left == 0 or loop.time() > end:
            break
        await asyncio.sleep(0.05)
    assert left == 0
    for sender in senders:
        await sender.stop()

    sent = [c.params["text"] for c in await tg.calls("sendMessage") if c.ok]
    assert len(sent) == 200 and Counter(sent).most_common(1)[0][1] == 1          # every row once
    for u in users:
        assert [m.text for m in await u.transcript() if m.from_bot] == [f"{u.id} #{n}" for n in range(10)]
    async with svc.db.transaction() as conn:
        async with conn.execute("SELECT claimed_by, COUNT(*) FROM outbox GROUP BY claimed_by") as cur:
            by_sender = dict(await cur.fetchall())
    # One sender per bot: the sender lease's holder sent every row (tests/test_sender_lease.py).
    assert len(by_sender) == 1 and set(by_sender) <= {s.claimer for s in senders}
