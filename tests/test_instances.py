"""Several instances on one PostgreSQL database (issue 16, item 2): two real ``heatbot run``
processes in webhook mode behind a round-robin load balancer, residents reporting throughout,
and the process that holds the sender lease killed with SIGKILL mid-surge three times (and
started again each time). Afterwards nothing is lost, at most one message per kill went out
twice, and every deadline stage fired once.

Telegram is the emulator, in this process; the load balancer is a few lines of aiohttp here.
Like Telegram, the emulator delivers an update again when it gets no answer (a killed instance
never answers), and the balancer passes it to the instance that is still up.
"""
from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot import desk
from bot.clock import FakeClock, SystemClock
from bot.services import Services, Who
from bot.texts import Texts
from demo.world import World
from rules.policy import load_policy
from storage.db import Database, open_database
from storage.drafts import Draft
from tests.test_cli import bot_env, free_port
from tgemu import Emulator, EmulatorClient, Msg, User
from tgemu.balancer import RoundRobin

TZ = ZoneInfo("Asia/Shanghai")
RESIDENTS = 8
REPORTS_EACH = 1
LATE_TICKETS = 6            # reported 40 minutes ago: their deadline stages fire during the run
KILLS = 3
SENDS_BETWEEN_KILLS = 12
SECRET = "lb_secret"
GROUP_PER_MIN = 300


@pytest.fixture
async def balancer() -> AsyncIterator[RoundRobin]:
    lb = RoundRobin([free_port(), free_port()])
    await lb.start()
    yield lb
    await lb.stop()


class Instances:
    """The two ``heatbot run`` processes, by webhook port."""

    def __init__(self, env: dict[str, str], ports: list[int], workdir: Path) -> None:
        self.env = env
        self.ports = ports
        self.workdir = workdir
        self.procs: dict[int, asyncio.subprocess.Process] = {}

    async def start(self, port: int) -> None:
        env = dict(self.env, WEBHOOK_PORT=str(port))
        with open(self.workdir / f"bot-{port}.log", "ab") as log:
            self.procs[port] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", env=env, cwd=self.workdir,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    async def kill(self, port: int) -> None:
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    def port_of(self, pid: int) -> int | None:
        return next((port for port, proc in self.procs.items() if proc.pid == pid), None)

    async def stop_all(self) -> None:
        for port in list(self.procs):
            await self.kill(port)


async def _serving(port: int, timeout: float = 30) -> None:
    """Until the instance's web server answers (it starts once the database is migrated)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    await resp.read()
                    return
            except aiohttp.ClientError:
                assert loop.time() < end, f"the instance on port {port} did not start"
                await asyncio.sleep(0.1)


async def _sender_pid(db: Database) -> int | None:
    """The process holding the sender lease now (holder "host:pid:start:nonce"), if any."""
    rows = await db.conn.execute_fetchall(
        "SELECT holder FROM sender_lease WHERE expires_at > ?", (_iso_now(),))
    return int(rows[0][0].split(":")[1]) if rows else None


def _iso_now() -> str:
    from storage.timestamps import to_iso
    return to_iso(SystemClock().now())


async def _sent_ok(tg: EmulatorClient) -> int:
    return len([c for c in await tg.calls() if c.ok and c.method in ("sendMessage", "sendPhoto", "sendDocument")])


class Walker:
    """A resident on the phone, who reads on until the message that lets them go on.

    A kill may repeat a message (in flight at the sender) and may have an update handled twice
    (handled and committed, but the answer to Telegram cut off: Telegram delivers it again), which
    can add a reply the story did not expect. Updates are handled one after another in the order
    sent (each is answered once handled), so the resident types on without waiting for each
    prompt, and waits only for the messages whose buttons they press and for the receipt."""

    def __init__(self, resident: User, timeout: float = 30) -> None:
        self.resident = resident
        self.timeout = timeout

    async def until(self, match) -> Msg:
        return await self.resident.next_message_where(match, timeout=self.timeout)

    async def press_when_offered(self, button: str) -> None:
        msg = await self.until(lambda m: button in m.button_texts())
        await self.resident.press(msg, button)

    async def report(self, address: str) -> Msg:
        """The whole report (tests/story.py's steps); returns the receipt."""
        await self.resident.send("/report")
        await self.press_when_offered("家中不热")
        await self.resident.send("和平")
        await self.press_when_offered("和平苑")
        for text in (address, "13912345678", "14", "暖气片冰凉"):
            await self.resident.send(text)
        await self.press_when_offered("✅ 确认提交")
        return await self.until(lambda m: "报修已提交" in (m.text or ""))


async def _resident(resident: User, n: int) -> None:
    walker = Walker(resident)
    try:
        await resident.send("/start")
        await walker.until(lambda m: "📝 我要报修" in m.button_texts())
        for k in range(REPORTS_EACH):
            receipt = await walker.report(f"{n + 1}-{k + 1}-101")
            assert "报修已提交" in receipt.text, receipt.text
    except Exception as e:
        # The whole conversation, to tell a lost or doubled update from a doubled message.
        raise AssertionError(f"{e}\n--- {resident.first_name}'s chat:\n{await resident.render_transcript()}") from e


async def _late_tickets(db: Database, residents: list[User]) -> None:
    """Tickets reported 40 minutes ago (the accept limit is 30): their reminders and
    escalations are due at once, and every instance's sweeper sees them."""
    svc = Services(db=db, clock=FakeClock(SystemClock().now() - timedelta(minutes=40)), policy=load_policy(None),
                   texts=Texts(TZ), tz=TZ, default_lang="zh")
    async with db.transaction() as conn:
        for i in range(LATE_TICKETS):
            r = residents[i % len(residents)]
            draft = Draft(r.id, "n", "confirm", {
                "category": "not_warm", "community_id": "heping" if i % 2 else "yangguang",
                "address": f"9{i}-1-101", "phone": "13912345678", "temperature": 15, "description": "不热",
            })
            await desk.create_ticket_from_draft(conn, svc, Who(r.id, r.id, r.first_name, "zh"), "zh", draft)


async def test_two_instances_with_the_sender_killed_three_times_lose_nothing_and_fire_every_stage_once(
        pg_url: str, emulator: Emulator, tg: EmulatorClient, world: World, balancer: RoundRobin, tmp_path: Path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_DB=pg_url, WEBHOOK_URL=balancer.url,
                  WEBHOOK_SECRET=SECRET, HEATBOT_LOG_LEVEL="WARNING",
                  # One new message in flight: a kill can then repeat at most one (README).
                  HEATBOT_SEND_NEW_IN_FLIGHT="1",
                  # Groups' budget (20 a minute) raised, or the late tickets' reminders take minutes.
                  HEATBOT_SEND_GROUP_PER_MIN=str(GROUP_PER_MIN))
    instances = Instances(env, balancer.ports, workdir)
    db: Database | None = None
    early: list[User] = []
    try:
        for port in balancer.ports:
            await instances.start(port)
        for port in balancer.ports:
            await _serving(port)
        loop = asyncio.get_running_loop()
        db = await open_database(pg_url, migrate=False)
        residents = [await tg.user(f"住户{i}", language_code="zh") for i in range(RESIDENTS)]
        # Other residents' late tickets, so the walking residents' conversations stay theirs.
        early = [await tg.user(f"早报户{i}", language_code="zh") for i in range(LATE_TICKETS)]
        for person in [*early, *world.staff.values()]:
            await person.send("/start")     # the bot may write to them privately from now on
        for person in [*early, *world.staff.values()]:
            await person.next_message(timeout=30)
        await _late_tickets(db, early)
        walks = [asyncio.create_task(_resident(r, i)) for i, r in enumerate(residents)]

        kills, base = 0, await _sent_ok(tg)
        give_up = loop.time() + 60
        while kills < KILLS:
            assert loop.time() < give_up, f"only {kills} kills: the surge ended first"
            await asyncio.sleep(0.05)
            if await _sent_ok(tg) < base + SENDS_BETWEEN_KILLS:
                continue
            port = instances.port_of(await _sender_pid(db) or -1)
            if port is None:
                continue                    # between holders
            await instances.kill(port)
            kills += 1
            await instances.start(port)
            base = await _sent_ok(tg)
        await asyncio.wait_for(asyncio.gather(*walks), 90)
        end = loop.time() + 60
        while True:
            left = (await db.conn.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"))[0][0]
            due = (await db.conn.execute_fetchall(
                "SELECT COUNT(*) FROM deadlines WHERE next_at IS NOT NULL AND next_at <= ?", (_iso_now(),)))[0][0]
            if (left == 0 and due == 0) or loop.time() > end:
                break
            await asyncio.sleep(0.2)
        assert left == 0 and due == 0, f"{left} messages still pending, {due} stages not fired"
        failed = await db.conn.execute_fetchall("SELECT chat_id, purpose, error FROM outbox WHERE status = 'failed'")
        assert not failed, [tuple(r) for r in failed]
        recorded = {(r[0], r[1]) for r in await db.conn.execute_fetchall(
            "SELECT DISTINCT chat_id, message_id FROM outbox WHERE status = 'sent' AND message_id IS NOT NULL")}
        tickets = await db.conn.execute_fetchall("SELECT resident_user_id, card_message_id FROM tickets")
        alerts = await db.conn.execute_fetchall("SELECT deadline_id, kind, COUNT(*) FROM alerts GROUP BY deadline_id, kind")
        stage_rows = await db.conn.execute_fetchall(
            "SELECT chat_id, payload FROM outbox WHERE purpose IN ('reminder', 'escalation')")
    finally:
        await instances.stop_all()
        if db is not None:
            await db.close()
    # Both instances handled updates.
    assert all(balancer.handled[port] > 0 for port in balancer.ports), balancer.handled
    # Every report has its ticket and its card, and the resident their receipt.
    per_resident = Counter(r[0] for r in tickets)
    assert all(per_resident[r.id] == REPORTS_EACH for r in residents), per_resident
    assert len(tickets) <= RESIDENTS * REPORTS_EACH + LATE_TICKETS + KILLS      # an update redelivered after a kill
    assert all(card is not None for _, card in tickets)
    for r in residents:
        receipts = [m for m in await r.transcript() if m.from_bot and "报修已提交" in m.text]
        assert REPORTS_EACH <= len(receipts) <= REPORTS_EACH + kills, (r.id, len(receipts))
    # Every committed message arrived; at most one went out twice per kill.
    chats = [*residents, *early, *world.staff.values(), *world.groups.values()]
    delivered: set[tuple[int, int]] = set()
    texts: Counter[tuple[int, str]] = Counter()
    for chat in chats:
        for m in await chat.transcript():
            if m.from_bot:
                delivered.add((m.chat_id, m.message_id))
                texts[(m.chat_id, m.text)] += 1
    assert recorded <= delivered
    duplicates = delivered - recorded
    assert len(duplicates) <= kills, duplicates
    # Every deadline stage fired once: one alert per stage, one message per recipient of it,
    # delivered (once, but for a kill's duplicate).
    assert alerts and all(count == 1 for _, _, count in alerts), alerts
    stage_messages = Counter((chat, json.loads(payload)["text"]) for chat, payload in stage_rows)
    assert stage_messages and max(stage_messages.values()) == 1
    extra = 0
    for (chat, text) in stage_messages:
        plain = next((t for (c, t) in texts if c == chat and _same_text(t, text)), None)
        assert plain is not None, f"stage message to {chat} never arrived: {text[:60]}"
        extra += texts[(chat, plain)] - 1
    assert extra <= kills


def _same_text(shown: str, html: str) -> bool:
    """The emulator shows a message's text without its HTML tags."""
    return shown == re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
