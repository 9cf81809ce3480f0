"""One sender per bot at a time (issue 16, several instances): the sender lease.

Each test runs on SQLite and on PostgreSQL (the ``database`` fixture; skipped without a server),
with one connection per "instance" as separate processes would have. The lease runs on real time; here
its clocks are injected (:class:`LeaseClock`) and moved by the test, so nothing sleeps out a
lease. The senders' Telegram is the emulator.
"""
from __future__ import annotations

import asyncio
import subprocess
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram import Bot

from bot import app as heatbot_app
from bot import desk, outages
from bot.app import build_application
from bot.clock import FakeClock
from bot.config import SendSettings
from bot.delivery import DeliveryHooks
from bot.lease import LEASE_FOR, RENEW_EVERY, RETRY_EVERY, SenderLease, bot_id_of
from bot.payload import message
from bot.lease import LeaseLost
from bot.sender import OutboxSender
from bot.services import Services
from bot.texts import Texts
from rules.policy import load_policy
from storage import lease as leases
from storage import outbox
from storage.db import Database, open_database
from storage.outbox import Priority
from bot.web import Listen
from tests.conftest import START, TOKEN, make_config
from tgemu import Emulator, EmulatorClient

TZ = ZoneInfo("Asia/Shanghai")
BOT_ID = bot_id_of(TOKEN)


class LeaseClock:
    """Real time as the lease sees it (a monotonic and a wall clock), moved by the test."""

    def __init__(self) -> None:
        self.t = 5000.0
        self._wall0 = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self.t - 5000.0)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
async def two_databases(database: Path | str) -> AsyncIterator[tuple[Database, Database]]:
    """Two connections to the database (``database``: SQLite, then PostgreSQL), as two instances have."""
    first = await open_database(database)
    try:
        second = await open_database(database)
        try:
            yield first, second
        finally:
            await second.close()
    finally:
        await first.close()


@pytest.fixture
def lease_clock() -> LeaseClock:
    return LeaseClock()


def _lease(db: Database, clock: LeaseClock, holder: str | None = None) -> SenderLease:
    return SenderLease(db, BOT_ID, holder or outbox.new_claimer(), monotonic=clock.monotonic, wall=clock.wall)


async def test_the_first_instance_takes_the_lease_and_the_second_stands_by(two_databases, lease_clock):
    a, b = (_lease(db, lease_clock) for db in two_databases)
    assert await a.tick() and a.held
    assert not await b.tick() and not b.held
    async with two_databases[1].transaction() as conn:
        state = await b.state(conn)
    assert not state.held and state.holder == a.holder          # a standby sees who sends
    assert await b.check() is False                             # it never sends


async def test_the_holder_renews_its_lease_and_keeps_it_for_as_long_as_it_renews(two_databases, lease_clock):
    a, b = (_lease(db, lease_clock) for db in two_databases)
    await a.tick()
    async with two_databases[0].transaction() as conn:
        first = await leases.current(conn, BOT_ID)
    for _ in range(20):                                        # a minute of renewals
        lease_clock.advance(RENEW_EVERY)
        await a.tick()
        await b.tick()
        assert a.held and not b.held
    async with two_databases[0].transaction() as conn:
        now = await leases.current(conn, BOT_ID)
    assert now.holder == a.holder and now.taken_at == first.taken_at
    assert now.expires_at == lease_clock.wall() + timedelta(seconds=LEASE_FOR)


async def test_a_lease_not_renewed_expires_and_the_other_instance_takes_it_over_within_the_lease(two_databases, lease_clock):
    a, b = (_lease(db, lease_clock) for db in two_databases)
    await a.tick()
    await b.tick()
    waited = 0.0
    while not b.held:                                          # a stops renewing (died, paused)
        assert waited <= LEASE_FOR, "not taken over within the lease"
        lease_clock.advance(0.5)
        waited += 0.5
        await b.tick()
    assert LEASE_FOR - RETRY_EVERY <= waited <= LEASE_FOR + 0.5
    assert b.taken == 1 and not a.held


async def test_a_holder_paused_past_its_lease_learns_it_lost_it_before_it_may_send(two_databases, lease_clock):
    a, b = (_lease(db, lease_clock) for db in two_databases)
    await a.tick()
    lease_clock.advance(LEASE_FOR + 1)                               # a is stopped (SIGSTOP) this long
    assert await b.tick()
    assert not a.held                                          # by its own clock, before asking anyone
    assert await a.check() is False                            # it asked: b holds it
    assert not a.held and b.held


async def test_a_holder_trusts_its_lease_for_less_than_the_lease_and_renews_before_sending_after(two_databases, lease_clock):
    a = _lease(two_databases[0], lease_clock)
    await a.tick()
    lease_clock.advance(LEASE_FOR - 2)            # no tick (a busy loop); inside the lease but not the margin
    assert not a.held
    assert await a.check() is True          # renewed on the spot, as nobody else took it
    assert a.held


async def test_a_lease_whose_holder_process_has_ended_is_taken_at_once(two_databases, lease_clock):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = f"{socket.gethostname()}:{int(finished.stdout)}:-:00000000"
    await _lease(two_databases[0], lease_clock, holder=dead).tick()
    b = _lease(two_databases[1], lease_clock)
    assert await b.tick()                   # no waiting for the expiry: the holder is gone


async def test_a_new_holder_frees_the_rows_the_old_one_had_in_flight_and_a_stopped_holder_gives_it_up(two_databases, lease_clock):
    a, b = (_lease(db, lease_clock) for db in two_databases)
    await a.tick()
    async with two_databases[0].transaction() as conn:
        for chat in (301, 302):
            await outbox.enqueue_message(conn, chat, message("x"), priority=Priority.STATUS, purpose="reply", now=START)
        for item in await outbox.next_batch(conn, 10):
            assert await outbox.claim(conn, item.id, a.holder, START)
    lease_clock.advance(LEASE_FOR)
    assert await b.tick()
    async with two_databases[1].transaction() as conn:
        assert len(await outbox.next_batch(conn, 10)) == 2     # free again, for b to send
    await b.stop()                                             # b stops: the lease is free at once
    c = _lease(two_databases[0], lease_clock)
    assert await c.tick()


# ------------------------------------------------------------------- the senders


@asynccontextmanager
async def _senders(emulator: Emulator, databases, **lease_clocks) -> AsyncIterator[list[OutboxSender]]:
    """A sender per database connection, as two instances have (budgets lifted: not tested here)."""
    settings = SendSettings(private_per_s=1000, group_per_min=1000, global_per_s=200)
    bots: list[Bot] = []
    senders: list[OutboxSender] = []
    try:
        for db in databases:
            bot = Bot(TOKEN, base_url=emulator.api_base_url, base_file_url=emulator.file_base_url)
            await bot.initialize()
            bots.append(bot)
            svc = Services(db=db, clock=FakeClock(START), policy=load_policy(None), texts=Texts(TZ), tz=TZ, default_lang="zh")
            hooks = DeliveryHooks(     # as bot/app.py wires them
                resident_unreachable=lambda conn, ticket_id, error, svc=svc: desk.resident_unreachable(conn, svc, ticket_id, error),
                group_unreachable=lambda conn, chat_id, ticket_id, error, svc=svc: desk.group_unreachable(conn, svc, chat_id, ticket_id, error),
                render_document=lambda conn, spec, svc=svc: outages.render_document(conn, svc, spec),
            )
            senders.append(OutboxSender(bot, svc, hooks, settings=settings, **lease_clocks))
        yield senders
    finally:
        for sender in senders:
            await sender.stop()
        for bot in bots:
            await bot.shutdown()


async def _enqueue(db: Database, chats: list[int], per_chat: int, tag: str) -> None:
    async with db.transaction() as conn:
        for n in range(per_chat):
            for chat in chats:
                await outbox.enqueue_message(conn, chat, message(f"{tag} {chat} #{n}"), priority=Priority.STATUS,
                                             purpose="reply", now=START)


async def _until(condition, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await condition():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def _pending(db: Database) -> int:
    async with db.transaction() as conn:
        return await outbox.pending_count(conn)


async def test_a_holder_paused_past_its_lease_sends_nothing_when_it_wakes(emulator, two_databases, tg: EmulatorClient, lease_clock):
    async with _senders(emulator, two_databases, lease_monotonic=lease_clock.monotonic, lease_wall=lease_clock.wall) as (a, b):
        await _paused_holder_sends_nothing(a, b, tg, lease_clock)


async def _paused_holder_sends_nothing(a: OutboxSender, b: OutboxSender, tg: EmulatorClient, lease_clock: LeaseClock) -> None:
    users = [await tg.user(f"住户{i}") for i in range(3)]
    for u in users:
        await u.send("/start")
    await a.lease.tick()
    lease_clock.advance(LEASE_FOR + 1)                               # a is paused past its lease
    await b.lease.tick()                                       # and b took over meanwhile
    await _enqueue(a.svc.db, [u.id for u in users], 1, "after")
    assert await a.pump() is None                              # a wakes: it sends nothing
    with pytest.raises(LeaseLost):                             # and no call of its reaches Telegram
        await a.bot.send_message(users[0].id, "from a")
    assert await tg.calls("sendMessage") == []
    assert await _pending(a.svc.db) == 3
    await b.pump()
    await _until(lambda: _zero(b.svc.db))
    assert sorted(c.params["text"] for c in await tg.calls("sendMessage")) == sorted(f"after {u.id} #0" for u in users)


async def _zero(db: Database) -> bool:
    return await _pending(db) == 0


async def test_of_two_senders_on_one_database_only_the_holder_sends_and_the_other_takes_over_when_it_stops(
        emulator, two_databases, tg: EmulatorClient):
    # Real time here: the senders' lease loops run as in production.
    async with _senders(emulator, two_databases) as senders:
        await _one_sends_then_the_other(senders, tg)


async def _one_sends_then_the_other(senders: list[OutboxSender], tg: EmulatorClient) -> None:
    users = [await tg.user(f"住户{i}") for i in range(20)]
    for u in users:
        await u.send("/start")
    db = senders[0].svc.db
    await _enqueue(db, [u.id for u in users], 5, "first")
    for sender in senders:
        sender.start()
    await _until(lambda: _zero(db))
    [holder] = [s for s in senders if s.lease.held]
    [standby] = [s for s in senders if s is not holder]

    await _enqueue(db, [u.id for u in users], 5, "second")
    await holder.stop()                                        # mid-way: stopped with rows waiting
    # The standby's lease loop runs on real time: it tries every RETRY_EVERY seconds, and the
    # stopped holder gave the lease up, so it takes it at its next try.
    await _until(lambda: _zero(db), timeout=RETRY_EVERY + 30)
    assert standby.lease.held and standby.lease.taken == 1

    sent = [c.params["text"] for c in await tg.calls("sendMessage") if c.ok]
    assert len(sent) == 200 and Counter(sent).most_common(1)[0][1] == 1           # every row once
    for u in users:
        assert [m.text for m in await u.transcript() if m.from_bot] == \
            [f"{tag} {u.id} #{n}" for tag in ("first", "second") for n in range(5)]
    async with db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT claimed_by, COUNT(*) FROM outbox WHERE payload LIKE ? GROUP BY claimed_by", ('%first%',))
    assert {r[0] for r in rows} == {holder.claimer}                 # the standby sent none of the first


# ------------------------------------------------------------ /healthz, /metrics


async def test_a_standby_instance_is_healthy_says_who_sends_and_sends_once_the_lease_is_free(
        emulator: Emulator, world, database: Path | str, clock: FakeClock):
    other = "otherhost:4242:-:0badcafe"          # another instance, on another host, sending
    db = await open_database(database)
    try:
        async with db.transaction() as conn:
            await leases.take(conn, BOT_ID, other, datetime.now(UTC), timedelta(minutes=5))
        app = build_application(make_config(emulator, database), clock=clock)
        await heatbot_app.start(app, http=Listen("127.0.0.1", 0))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.bot_data['web'].port}", timeout=10) as web:
                health = await web.get("/healthz")
                assert health.status_code == 200, health.text
                assert health.json()["sender"]["lease"] == "standby"
                assert health.json()["sender"]["lease_holder"] == other
                assert await _lease_held_metric(web) == 0

                async with db.transaction() as conn:       # the other instance stops
                    await leases.release(conn, BOT_ID, other)
                await _until(lambda: _reports_held(web), timeout=RETRY_EVERY + 10)
                health = await web.get("/healthz")
                assert health.status_code == 200 and health.json()["sender"]["lease_holder"] == app.bot_data["sender"].claimer
                assert await _lease_held_metric(web) == 1
        finally:
            await heatbot_app.stop(app)
    finally:
        await db.close()


async def _reports_held(web: httpx.AsyncClient) -> bool:
    return (await web.get("/healthz")).json()["sender"]["lease"] == "held"


async def _lease_held_metric(web: httpx.AsyncClient) -> float:
    page = await web.get("/metrics")
    [value] = [s.value for family in text_string_to_metric_families(page.text) for s in family.samples
               if s.name == "heatbot_sender_lease_held"]
    return value
