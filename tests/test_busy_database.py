"""A write lock held by another process: what a person sends waits and is kept, never dropped.

The lock is real: a second sqlite3 connection on the bot's file holds BEGIN IMMEDIATE. The bot's
busy timeout and pauses are shortened so the test takes a moment; it waits for events (the
bot's messages, its retry log lines), never for a deadline.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from handlers.patience import PATIENCE_KEY, Patience
from storage import drafts
from tests.story import report_to_address

# SQLite's file lock and busy timeout; PostgreSQL's faults are in tests/test_postgres_faults.py.
pytestmark = pytest.mark.sqlite_only


@asynccontextmanager
async def write_lock(path) -> AsyncIterator[None]:
    """Another process's write lock. Taken in a thread: the bot may be mid-transaction, and
    waiting for it on the event loop would stop it from ever finishing."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
async def at_address(bot, tg):
    """A resident at the address question of a report; the bot's busy timeout cut to 50 ms."""
    svc = bot.bot_data["svc"]
    await svc.db.conn.execute("PRAGMA busy_timeout=50")
    resident = await tg.user("张三", language_code="zh")
    assert "楼号" in (await report_to_address(resident)).text
    return resident


async def retries_logged(caplog, at_least: int) -> None:
    for _ in range(2000):                      # a bound for a loaded machine; normally a few tries
        if sum("trying again" in r.getMessage() for r in caplog.records) >= at_least:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the handler did not retry")


async def test_a_message_sent_while_another_process_holds_the_write_lock_is_kept_and_handled(bot, db_path, at_address, caplog):
    resident = at_address
    bot.bot_data[PATIENCE_KEY] = Patience(waits=(0.02,) * 500)
    caplog.set_level(logging.WARNING, logger="handlers.patience")
    async with write_lock(db_path):
        await resident.send("3-2-501")
        slow = await resident.next_message()
        assert "不用重发" in slow.text and "抱歉" not in slow.text
        await retries_logged(caplog, at_least=3)          # still waiting, and still told only once
    ask_phone = await resident.next_message()
    assert "电话" in ask_phone.text
    draft = await drafts.get_draft(bot.bot_data["svc"].db.conn, resident.id)
    assert draft.data["address"] == "3-2-501"
    said = [m.text for m in await resident.transcript() if m.from_bot]
    assert sum("不用重发" in t for t in said) == 1 and not any("出了点问题" in t for t in said)


async def test_when_patience_runs_out_the_person_is_told_to_try_again(bot, db_path, at_address):
    resident = at_address
    bot.bot_data[PATIENCE_KEY] = Patience(waits=(0.01, 0.01))
    async with write_lock(db_path):
        await resident.send("3-2-501")
        assert "不用重发" in (await resident.next_message()).text
        assert "出了点问题" in (await resident.next_message()).text
    draft = await drafts.get_draft(bot.bot_data["svc"].db.conn, resident.id)
    assert "address" not in draft.data
