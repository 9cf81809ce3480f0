"""Reliable delivery under Telegram's limits and faults (issue 5).

The bot and the emulator share one fake clock (``SharedClock``): the emulator's flood limits,
the sender's holds, backoffs and budgets all read it, and the test moves it instead of
sleeping. Everything else is real: the Application polling over HTTP, the SQLite file.
"""
from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot import app as heatbot_app
from bot.app import build_application
from bot.clock import FakeClock
from tgemu import Emulator, EmulatorClient
from bot.services import Who
from demo.world import World, build_world
from storage import outbox, tickets
from storage.drafts import Draft
from tests.conftest import ORG_FILE, START, TOKEN, make_config

from bot import desk
from bot.callbacks import CardPress


class SharedClock(FakeClock):
    """One fake time for the bot (datetime and monotonic) and the emulator (float seconds)."""

    def __call__(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        return self.now().timestamp()

    def wall_delay(self, seconds: float) -> float:
        # Time only moves when the test moves it: look again soon rather than sleep it out.
        return min(seconds, 0.02)


@pytest.fixture
def shared() -> SharedClock:
    return SharedClock(START)


@pytest.fixture
async def emu(shared: SharedClock) -> AsyncIterator[Emulator]:
    e = Emulator(token=TOKEN, bot_username="heatbot_bot", clock=shared)
    await e.start(host="127.0.0.1", port=0)
    yield e
    await e.stop()


@pytest.fixture
async def tgc(emu: Emulator) -> AsyncIterator[EmulatorClient]:
    client = EmulatorClient.for_emulator(emu)
    yield client
    await client.aclose()


@pytest.fixture
async def w(tgc: EmulatorClient) -> World:
    return await build_world(tgc, ORG_FILE)


@pytest.fixture
async def hb(emu: Emulator, w: World, db_path: Path, shared: SharedClock) -> AsyncIterator[Application]:
    app = build_application(make_config(emu, db_path), clock=shared)
    await heatbot_app.start(app)
    yield app
    await heatbot_app.stop(app)


async def settle(shared: SharedClock, seconds: float = 0.0, *, step: float = 1.0, pause: float = 0.03) -> None:
    """Move the shared clock forward in steps, letting the bot work between them."""
    moved = 0.0
    while True:
        await asyncio.sleep(pause)
        if moved >= seconds:
            break
        shared.advance(seconds=min(step, seconds - moved))
        moved += min(step, seconds - moved)
    await asyncio.sleep(pause)


async def until(predicate, shared: SharedClock | None = None, timeout: float = 5.0, step: float = 0.5) -> None:
    """Wait (real time, bounded) for the bot to reach a state, moving the clock if given."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > end:
            raise AssertionError("condition not reached")
        if shared is not None:
            shared.advance(seconds=step)
        await asyncio.sleep(0.02)


async def started_resident(tgc: EmulatorClient, name: str = "张三"):
    resident = await tgc.user(name, language_code="zh")
    await resident.send("/start")
    await resident.next_message()
    return resident


_BUILDINGS = itertools.count(1)


async def new_tickets(app: Application, resident, count: int, *, community: str = "heping") -> list[int]:
    """``count`` reports from one resident, confirmed in one go (as after the intake's Confirm)."""
    svc = app.bot_data["svc"]
    who = Who(user_id=resident.id, chat_id=resident.id, name=resident.first_name, telegram_lang="zh")
    numbers = []
    async with svc.db.transaction() as conn:
        for i in range(count):
            draft = Draft(resident.id, "n", "confirm", {
                "category": "not_warm", "community_id": community, "address": f"{next(_BUILDINGS)}-1-101",   # a flat of its own: no repeat, no building-wide alert
                "phone": "13912345678", "temperature": 15, "description": "暖气不热",
            })
            numbers.append(int(await desk.create_ticket_from_draft(conn, svc, who, "zh", draft)))
    svc.wake_sender()
    return numbers


async def pending(app: Application) -> int:
    # In a transaction: on the bot's shared connection a plain read also sees the sender's
    # uncommitted writes, which another process (heatbot status) cannot see yet.
    async with app.bot_data["svc"].db.transaction() as conn:
        return await outbox.pending_count(conn)


async def ok_calls(tgc: EmulatorClient, method: str, chat_id: int | None = None) -> list:
    return [c for c in await tgc.calls(method) if c.ok and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]


async def texts_in(chat) -> list[str]:
    """What the bot posted in a chat."""
    return [m.text or m.caption or "" for m in await chat.transcript() if m.from_bot]


async def test_a_card_changed_three_times_under_a_flood_hold_is_edited_once_with_the_latest_content(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    [number] = await new_tickets(hb, resident, 1)
    group = w.groups["repair-north"]
    card = await group.next_message()
    crew = w.crew(5001)
    await tgc.force_429(group, 30)
    await crew.press(card, "受理")
    await until(lambda: _count_429_is(tgc, group.id, 1))
    # The buttons of an unedited card still say Accept, so the next steps come as the desk
    # receives them (the same call the card's buttons make).
    svc = hb.bot_data["svc"]
    who = Who(user_id=crew.id, chat_id=group.id, name=crew.first_name, telegram_lang="zh")
    assert "到场" in await desk.press(svc, who, CardPress(number, "arrive"), group.id, card.message_id)
    assert "完成" in await desk.press(svc, who, CardPress(number, "close"), group.id, card.message_id)
    # The resident hears every step while the group waits out its hold.
    await until(lambda: _resident_heard(resident, 4), shared, step=0.2)
    assert (await group.get(card.message_id)).version == 0
    await settle(shared, 31)
    await until(lambda: _edited(group, card.message_id))
    final = await group.get(card.message_id)
    assert final.version == 1 and "已完成" in final.text and final.button_texts() == ["不填写说明"]
    assert len(await ok_calls(tgc, "editMessageText", group.id)) == 1
    assert await _count_429(tgc, group.id) == 1
    assert await pending(hb) == 0


async def _count_429(tgc: EmulatorClient, chat_id: int) -> int:
    return len([c for c in await tgc.calls() if c.status == 429 and int(c.params.get("chat_id", 0)) == chat_id])


async def _count_429_is(tgc: EmulatorClient, chat_id: int, n: int) -> bool:
    return await _count_429(tgc, chat_id) == n


async def _resident_heard(resident, n: int) -> bool:
    """The greeting plus ``n`` more messages from the bot."""
    return len([m for m in await resident.transcript() if m.from_bot]) >= 1 + n


async def _edited(group, message_id: int) -> bool:
    return (await group.get(message_id)).version > 0


async def test_every_call_failing_for_a_minute_then_recovering_delivers_everything_in_order_without_hammering(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    await tgc.inject_faults("500", count=10_000, methods=["sendMessage", "editMessageText", "sendPhoto"])
    numbers = await new_tickets(hb, resident, 3)
    await settle(shared, 60, step=2)
    failed_calls = [c for c in await tgc.calls("sendMessage") if not c.ok]
    # Exponential backoff: a few tries per chat in a minute, not one per pass.
    assert 4 <= len(failed_calls) <= 2 * 12
    assert await pending(hb) == 6
    await tgc.clear_faults()
    await settle(shared, 40, step=2)
    await until(lambda: _pending_is(hb, 0), shared)
    cards = await texts_in(w.groups["repair-north"])
    assert [n for n in numbers if any(f"工单 {n:04d}" in t for t in cards)] == numbers
    assert [t.split("工单 ")[1][:4] for t in cards] == [f"{n:04d}" for n in numbers]   # in order
    receipts = [t for t in await texts_in(resident) if "报修已提交" in t]
    assert len(receipts) == 3
    async with hb.bot_data["svc"].db.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") as cur:
        assert (await cur.fetchone())[0] == 0


async def _card_is(svc, number: int, message_id: int) -> bool:
    return (await tickets.get_ticket(svc.db.conn, number)).card_message_id == message_id


async def _pending_is(app, n: int) -> bool:
    return await pending(app) == n


async def test_a_429_with_retry_after_30_on_the_busiest_group_holds_only_that_group_and_is_obeyed(hb, tgc, w, shared):
    await tgc.set_flood(True)
    resident = await started_resident(tgc)
    group = w.groups["repair-north"]
    await tgc.force_429(group, 30)
    numbers = await new_tickets(hb, resident, 5)
    await until(lambda: _resident_heard(resident, 5), shared, step=0.5, timeout=10)
    assert await _count_429(tgc, group.id) == 1
    assert await ok_calls(tgc, "sendMessage", group.id) == []
    [refused] = [c for c in await tgc.calls("sendMessage") if c.status == 429 and int(c.params["chat_id"]) == group.id]
    retry_after = int(refused.error.rsplit(" ", 1)[1])
    assert 29 <= retry_after <= 30
    await settle(shared, refused.time + retry_after - 1 - shared(), step=1)
    assert await ok_calls(tgc, "sendMessage", group.id) == []
    assert await _count_429(tgc, group.id) == 1                # no hammering during the hold
    await settle(shared, 10, step=1)
    await until(lambda: _pending_is(hb, 0), shared)
    cards = await texts_in(group)
    assert [t.split("工单 ")[1][:4] for t in cards] == [f"{n:04d}" for n in numbers]
    assert await _count_429(tgc, group.id) == 1


async def test_a_resident_who_blocked_the_bot_is_recorded_and_flagged_to_dispatch_once(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    await resident.block()
    [number] = await new_tickets(hb, resident, 1)
    group, dispatch = w.groups["repair-north"], w.groups["dispatch"]
    card = await group.next_message()
    alert = await dispatch.next_message()
    assert "请电话联系报修人" in alert.text and f"{number:04d}" in alert.text and "13912345678" in alert.text
    await w.crew(5001).press(card, "受理")                    # a second message to the resident fails too
    await group.wait_edited(card)
    await until(lambda: _pending_is(hb, 0), shared, step=0.1)
    conn = hb.bot_data["svc"].db.conn
    kinds = [e.kind for e in await tickets.list_events(conn, number)]
    assert kinds.count("resident_unreachable") == 1 and kinds.count("delivery_failed") == 2
    assert len(await dispatch.transcript()) == 1                 # told once
    assert (await tickets.get_ticket(conn, number)).status == "accepted"


async def test_a_group_the_bot_was_removed_from_fails_for_good_and_dispatch_is_told_once(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    group, dispatch = w.groups["repair-north"], w.groups["dispatch"]
    await group.remove_bot()
    numbers = await new_tickets(hb, resident, 2)
    alert = await dispatch.next_message()
    assert "北区维修服务中心" in alert.text and "kicked" in alert.text
    await until(lambda: _pending_is(hb, 0), shared, step=0.1)
    conn = hb.bot_data["svc"].db.conn
    for n in numbers:
        events = await tickets.list_events(conn, n)
        assert [e.detail.get("purpose") for e in events if e.kind == "delivery_failed"] == ["card"]
    assert len(await dispatch.transcript()) == 1
    assert await outbox.failed_count(conn) == 2
    assert len(await texts_in(resident)) == 1 + 2                # greeting + receipts: residents still got their receipts


async def test_a_card_deleted_in_the_group_is_posted_afresh_when_the_bot_edits_it_and_the_ticket_carries_on(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    [number] = await new_tickets(hb, resident, 1)
    group = w.groups["repair-north"]
    card = await group.next_message()
    crew = w.crew(5001)
    await crew.press(card, "受理")
    await group.wait_edited(card)
    await group.delete_message(card)
    svc = hb.bot_data["svc"]
    async with svc.db.transaction() as conn:      # the deadline clock refreshing the card, say
        await outbox.enqueue_card(conn, group.id, number, now=svc.clock.now())
    svc.wake_sender()
    fresh = await group.next_message()
    assert f"工单 {number:04d}" in fresh.text and "已受理" in fresh.text and fresh.button_texts()[0] == "📍 已到场"
    await until(lambda: _card_is(svc, number, fresh.message_id))
    assert (await tickets.get_ticket(svc.db.conn, number)).status == "accepted"
    assert "到场" in (await crew.press(fresh, "已到场")).text
    assert "已到场处理中" in (await group.wait_edited(fresh)).text
    kinds = [e.kind for e in await tickets.list_events(svc.db.conn, number)]
    assert kinds.count("card_posted") == 2 and "arrive" in kinds


async def test_sqlite_busy_under_a_second_writer_delays_delivery_but_loses_and_repeats_nothing(hb, tgc, w, shared, db_path):
    resident = await started_resident(tgc)
    release = threading.Event()
    locked = threading.Event()

    def hold_write_lock() -> None:
        other = sqlite3.connect(db_path, isolation_level=None, timeout=5)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(3)
        other.execute("COMMIT")
        other.close()

    # The lock is taken while the sender is rendering and recording these deliveries.
    await new_tickets(hb, resident, 3)
    thread = threading.Thread(target=hold_write_lock)
    thread.start()
    locked.wait(2)
    creating = asyncio.create_task(new_tickets(hb, resident, 2))    # a handler waits on the lock too
    await asyncio.sleep(0.5)
    release.set()
    await creating
    await asyncio.to_thread(thread.join)
    await until(lambda: _pending_is(hb, 0), shared, step=0.1)
    cards = await texts_in(w.groups["repair-north"])
    assert sorted(t.split("工单 ")[1][:4] for t in cards) == ["0001", "0002", "0003", "0004", "0005"]
    receipts = [t for t in await texts_in(resident) if "报修已提交" in t]
    assert len(receipts) == 5
    assert await outbox.failed_count(hb.bot_data["svc"].db.conn) == 0


async def test_a_message_telegram_accepted_but_answered_unreadably_is_recorded_sent_not_sent_again(hb, tgc, w, shared):
    resident = await tgc.user("张三", language_code="zh")
    await tgc.inject_faults("garbled", count=3, methods=["sendMessage"])
    await resident.send("/start")
    await until(lambda: _pending_is(hb, 0), shared)
    await settle(shared, 30, step=2)                    # any retry would have gone out by now
    greetings = [c for c in await tgc.calls("sendMessage") if int(c.params["chat_id"]) == resident.id]
    assert len(greetings) == 1
    assert len(await texts_in(resident)) == 1
    async with hb.bot_data["svc"].db.conn.execute("SELECT status FROM outbox WHERE chat_id = ?", (resident.id,)) as cur:
        assert [r[0] for r in await cur.fetchall()] == ["sent"]
