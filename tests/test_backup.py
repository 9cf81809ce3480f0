"""``heatbot backup`` while the bot runs, and ``heatbot restore`` with the bot stopped."""
from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from storage.db import InstanceLock, open_database
from storage.tickets import get_ticket
from tests.story import report_cold_flat
from tests.test_cli import Run, child_env, heatbot


def tickets_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]


async def test_a_backup_taken_while_the_bot_serves_holds_every_committed_ticket(bot, tg, world, db_path, tmp_path):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    out = tmp_path / "backups" / "heatbot-2026-01-15.db"
    out.parent.mkdir()
    run = await heatbot("backup", "--out", str(out), env=child_env(HEATBOT_DB=str(db_path)), cwd=tmp_path)
    assert run.code == 0, run.err
    assert "1 tickets" in run.out and "integrity ok" in run.out
    assert tickets_in(out) == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600            # residents' phones: the bot's user alone
    assert list(out.parent.iterdir()) == [out]                   # no partial file left behind
    # The bot went on working on its own database meanwhile.
    await report_cold_flat(await tg.user("李四", language_code="zh"), address="5-1-101")
    assert tickets_in(db_path) == 2 and tickets_in(out) == 1


async def test_a_restored_backup_opens_and_keeps_the_database_it_replaced(bot, tg, world, db_path, tmp_path):
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    backup_file = tmp_path / "backup.db"
    assert (await heatbot("backup", "--out", str(backup_file), env=child_env(HEATBOT_DB=str(db_path)), cwd=tmp_path)).code == 0

    target = tmp_path / "other" / "heatbot.db"
    target.parent.mkdir()
    with sqlite3.connect(target) as conn:                       # a database with something else in it
        conn.execute("CREATE TABLE scratch(x)")
    run = await heatbot("restore", str(backup_file), "--db", str(target), env=child_env(), cwd=tmp_path)
    assert run.code == 0, run.err
    [kept] = [p for p in target.parent.iterdir() if ".before-restore-" in p.name]
    assert "scratch" in {r[0] for r in sqlite3.connect(kept).execute("SELECT name FROM sqlite_master")}
    db = await open_database(target)
    try:
        ticket = await get_ticket(db.conn, 1)
        assert ticket is not None and ticket.address == "3-2-501"
    finally:
        await db.close()


async def test_a_restore_while_a_bot_serves_the_database_is_refused_in_one_line(tmp_path, db_path):
    backup_file = tmp_path / "backup.db"
    db = await open_database(db_path)
    await db.close()
    (await heatbot("backup", "--out", str(backup_file), "--db", str(db_path), env=child_env(), cwd=tmp_path))
    with InstanceLock(db_path):
        run = await heatbot("restore", str(backup_file), "--db", str(db_path), env=child_env(), cwd=tmp_path)
    run.assert_one_clear_line("another heatbot instance", str(db_path))


@pytest.mark.parametrize("case", ["out-exists", "no-database", "postgresql-url"])
async def test_a_backup_that_cannot_go_ahead_says_why_in_one_line(tmp_path, db_path, case):
    db = await open_database(db_path)
    await db.close()
    out = tmp_path / "backup.db"
    args, env, word = ["--out", str(out)], child_env(HEATBOT_DB=str(db_path)), str(out)
    if case == "out-exists":
        out.write_bytes(b"precious")
    elif case == "no-database":
        env, word = child_env(HEATBOT_DB=str(tmp_path / "nope.db")), "nope.db"
    else:
        env, word = child_env(HEATBOT_DB="postgresql://heat:hunter2pw@db/heatbot"), "pg_dump"
    run: Run = await heatbot("backup", *args, env=env, cwd=tmp_path)
    run.assert_one_clear_line(word)
    assert "hunter2pw" not in run.err + run.out
    if case == "out-exists":
        assert out.read_bytes() == b"precious"


@pytest.mark.parametrize("case", ["not-sqlite", "not-heatbot", "newer-schema", "missing"])
async def test_a_restore_of_a_file_that_is_not_a_usable_backup_changes_nothing(tmp_path, db_path, case):
    db = await open_database(db_path)
    await db.close()
    before = db_path.read_bytes()
    bad = tmp_path / "bad.db"
    if case == "not-sqlite":
        bad.write_bytes(b"this is a text file, not a database" * 100)
    elif case == "not-heatbot":
        with sqlite3.connect(bad) as conn:
            conn.execute("CREATE TABLE other(x)")
    elif case == "newer-schema":
        bad.write_bytes(db_path.read_bytes())
        with sqlite3.connect(bad) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA user_version = 9999")
    run = await heatbot("restore", str(bad), "--db", str(db_path), env=child_env(), cwd=tmp_path)
    run.assert_one_clear_line(str(bad))
    assert db_path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
