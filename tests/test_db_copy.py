"""``heatbot db copy``: a company's SQLite database moved to PostgreSQL, and every way it refuses.

The copy runs as the operator runs it, ``heatbot db copy`` in a child process; the bot then runs
on the copy in this process against the emulator. PostgreSQL comes from ``pg_url`` (a new
database per test; skipped with the reason when no server is configured).
"""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest

from bot import app as heatbot_app
from bot import clockwork, desk
from bot.app import build_application
from bot.cli import main
from bot.clock import FakeClock
from bot.services import Services, Who
from bot.texts import Texts
from demo.world import World
from rules.policy import load_policy
from storage import tickets
from storage.copy import COPY_LOCK
from storage.db import InstanceLock, open_database
from storage.drafts import Draft
from tests.conftest import make_config
from tests.pg import role_with_password
from tests.story import report_cold_flat
from tests.test_cli import Run, child_env, free_port, heatbot
from tgemu import Emulator, EmulatorClient

PASSWORD = "s3cret-Pa55"        # put in every URL here; it must never be printed


def url_as(url: str, *, user: str | None = None, password: str = PASSWORD) -> str:
    """``url`` with a password (and another user) put in: a URL, as HEATBOT_DB takes them."""
    parts = urlsplit(url)
    user = user or parts.username or ""
    where = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{where}"))


async def copy(source: Path, target: str, cwd: Path, timeout: float = 60) -> Run:
    run = await heatbot("db", "copy", "--from", str(source), "--to", target, env=child_env(), cwd=cwd, timeout=timeout)
    assert PASSWORD not in run.out + run.err
    return run


def seed(path: Path, tickets: int = 400) -> Path:
    assert main(["seed", "--db", str(path), "--tickets", str(tickets), "--days", "10", "--seed", "5",
                 "--start", "2025-12-20", "--tz", "Asia/Shanghai"]) == 0
    return path


@pytest.fixture(scope="module")
def season(tmp_path_factory) -> Path:
    """A seeded season (tickets, ledger, deadlines, follow-ups, outages, register, org): read only."""
    return seed(tmp_path_factory.mktemp("season") / "season.db")


def sqlite_rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute(query)]


def pg_rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query)]


def table_names(path: Path) -> list[str]:
    return [r[0] for r in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def pg_total(url: str) -> int:
    """Rows in all heatbot tables of ``url`` (0 for a database without them)."""
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'heatbot_schema'")]
        return sum(conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names)


# ------------------------------------------------------------------ the move, end to end


async def test_the_bot_runs_on_the_copy_with_the_same_tickets_ledger_pending_messages_and_clocks(
        emulator: Emulator, tg: EmulatorClient, world: World, clock: FakeClock, db_path: Path, tmp_path: Path, pg_url: str):
    north = world.groups["repair-north"]
    # A day on SQLite: ticket 0001 filed through the bot, its card posted.
    app = build_application(make_config(emulator, db_path), clock=clock)
    await heatbot_app.start(app)
    try:
        first = await tg.user("张三", language_code="zh")
        await report_cold_flat(first)
        await north.next_message()
        second = await tg.user("李四", language_code="zh")
        await second.send("/start")
        await second.next_message()
    finally:
        await heatbot_app.stop(app)
    # Ticket 0002 is committed with its receipt and card still in the outbox when the bot stops.
    await file_ticket_unsent(db_path, clock, second.id, second.first_name)
    pending = sqlite_rows(db_path, "SELECT id, chat_id, purpose FROM outbox WHERE status = 'pending' ORDER BY id")
    assert pending, "the story should leave messages unsent"
    ledger = sqlite_rows(db_path, "SELECT id, ticket_id, at, kind, actor_id, actor, detail FROM ticket_events ORDER BY id")
    clocks = sqlite_rows(db_path, "SELECT id, ticket_id, kind, due_at, state, stage, next_at FROM deadlines ORDER BY id")

    run = await copy(db_path, url_as(pg_url), tmp_path)
    assert run.code == 0, run.err
    assert "ticket_events" in run.out and "verified" in run.out

    app = build_application(make_config(emulator, pg_url), clock=clock)
    await heatbot_app.start(app)
    try:
        svc = app.bot_data["svc"]
        # The same tickets and ledger, row for row.
        assert [t.address for t in [await tickets.get_ticket(svc.db.conn, n) for n in (1, 2)]] == ["3-2-501", "7-1-302"]
        assert pg_rows(pg_url, "SELECT id, ticket_id, at, kind, actor_id, actor, detail FROM ticket_events ORDER BY id") == ledger
        assert pg_rows(pg_url, "SELECT id, ticket_id, kind, due_at, state, stage, next_at FROM deadlines ORDER BY id") == clocks
        # What was waiting in the outbox is sent from PostgreSQL: ticket 0002's receipt and card.
        receipt = await second.next_message()
        assert "0002" in receipt.text
        card = await north.next_message()
        assert "0002" in card.text and "7-1-302" in card.text
        await wait_until_sent(pg_url, [p[0] for p in pending])
        # The copied clocks run: at 09:20 both tickets' accept limits (09:30) are reminded, once.
        clock.advance(minutes=20)
        assert await clockwork.sweep(svc) == 2
        reminded = ""       # one message each, or both gathered in one (bot/alerts.py)
        while not ("0001" in reminded and "0002" in reminded):
            reminded += (await north.next_message()).text
        # A ticket filed after the move takes the next number, and the ledger its next ids.
        third = await tg.user("王五", language_code="zh")
        receipt = await report_cold_flat(third, address="9-9-909")
        assert "0003" in receipt.text
        [(first_new_event,)] = pg_rows(pg_url, "SELECT MIN(id) FROM ticket_events WHERE ticket_id = 3")
        assert first_new_event > ledger[-1][0]
    finally:
        await heatbot_app.stop(app)


async def file_ticket_unsent(db_path: Path, clock: FakeClock, user_id: int, name: str) -> None:
    """Confirm a report as the bot does, with the bot stopped: its messages stay in the outbox."""
    db = await open_database(db_path)
    tz = ZoneInfo("Asia/Shanghai")
    svc = Services(db=db, clock=clock, policy=load_policy(None), texts=Texts(tz), tz=tz, default_lang="zh")
    draft = Draft(user_id, "n", "confirm", {"category": "not_warm", "community_id": "heping", "address": "7-1-302",
                                            "phone": "13987654321", "temperature": 15, "description": "不热"})
    try:
        async with db.transaction() as conn:
            await desk.create_ticket_from_draft(conn, svc, Who(user_id, user_id, name, "zh"), "zh", draft)
    finally:
        await db.close()


async def wait_until_sent(url: str, ids: list[int], within: float = 15) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        rows = pg_rows(url, f"SELECT status FROM outbox WHERE id IN ({','.join(map(str, ids))})")
        if all(s == "sent" for (s,) in rows) or loop.time() > give_up:
            break
        await asyncio.sleep(0.1)
    assert [s for (s,) in rows] == ["sent"] * len(ids)


async def test_a_copy_taken_while_the_bot_serves_is_one_consistent_moment_and_says_the_bot_was_running(
        bot, tg: EmulatorClient, world: World, db_path: Path, tmp_path: Path, pg_url: str):
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    with InstanceLock(db_path):             # as `heatbot run` holds it
        running = asyncio.ensure_future(copy(db_path, pg_url, tmp_path))
        # The bot goes on filing while the copy reads: it is not blocked, and the copy holds
        # this ticket whole or not at all.
        await report_cold_flat(await tg.user("李四", language_code="zh"), address="5-1-101")
        run = await running
    assert run.code == 0, run.err
    assert "a bot was running" in run.out
    [(copied,)] = pg_rows(pg_url, "SELECT COUNT(*) FROM tickets")
    assert copied in (1, 2)
    # Each copied ticket has its ledger, its clocks and its card's message; nothing of a ticket
    # outside the snapshot came along.
    assert pg_rows(pg_url, "SELECT DISTINCT ticket_id FROM ticket_events ORDER BY 1") == [(n,) for n in range(1, copied + 1)]
    assert pg_rows(pg_url, "SELECT DISTINCT ticket_id FROM deadlines ORDER BY 1") == [(n,) for n in range(1, copied + 1)]


def foreign_keys(url: str) -> set[tuple]:
    return set(pg_rows(url, "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                            "FROM pg_constraint WHERE contype = 'f'"))


async def test_a_seeded_season_arrives_whole_with_its_order_keys_and_append_only_ledger(season: Path, tmp_path: Path, pg_url: str):
    db = await open_database(pg_url)        # migrated beforehand (by a bot started too early): still empty
    await db.close()
    keys = foreign_keys(pg_url)
    run = await copy(season, pg_url, tmp_path)
    assert run.code == 0, run.err
    # The sender lease names the old bot's process: it is left behind, empty in the copy.
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM sender_lease") == [(0,)]
    for name in (n for n in table_names(season) if n != "sender_lease"):
        [(expected,)] = sqlite_rows(season, f"SELECT COUNT(*) FROM {name}")
        assert pg_rows(pg_url, f"SELECT COUNT(*) FROM {name}") == [(expected,)], name
        assert any(line.split()[:2] == [name, f"{expected:,}"] for line in run.out.splitlines()), (name, run.out)
    # Whole rows, not only counts: the tickets and the order SQLite's rowid gave.
    assert pg_rows(pg_url, "SELECT * FROM tickets ORDER BY id") == sqlite_rows(season, "SELECT * FROM tickets ORDER BY id")
    for table in ("centres", "communities"):
        assert (pg_rows(pg_url, f"SELECT id FROM {table} ORDER BY rowid")
                == sqlite_rows(season, f"SELECT id FROM {table} ORDER BY rowid"))
    assert foreign_keys(pg_url) == keys and keys      # every foreign key set aside for the copy is back
    with psycopg.connect(pg_url) as conn:
        # The ledger still refuses to be rewritten.
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("DELETE FROM ticket_events WHERE id = 1")
        conn.rollback()
        # New rows in every table with database-assigned ids take ids past the copied ones.
        [(centre_rowid,)] = conn.execute(
            "INSERT INTO centres (id, name_zh, name_en, kind, chat_id) VALUES ('new', '新', 'New', 'repair', -1) RETURNING rowid"
        ).fetchall()
        assert centre_rowid == len(sqlite_rows(season, "SELECT id FROM centres")) + 1
        [(event,)] = conn.execute(
            "INSERT INTO ticket_events (ticket_id, at, kind) VALUES (1, '2026-01-01T00:00:00Z', 'note') RETURNING id").fetchall()
        assert event == sqlite_rows(season, "SELECT MAX(id) FROM ticket_events")[0][0] + 1
        conn.rollback()


def private_copy(season: Path, to: Path) -> Path:
    with sqlite3.connect(season) as a, sqlite3.connect(to) as b:
        a.backup(b)
    return to


async def test_text_and_files_that_copy_must_escape_arrive_byte_for_byte(season: Path, tmp_path: Path, pg_url: str):
    source = private_copy(season, tmp_path / "source.db")
    awkward = "tab\there\nnew line\\N not null, back\\slash \\. 暖气片冰凉 🔥 '\"quotes\""
    every_byte = bytes(range(256))
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO ticket_events (ticket_id, at, kind, actor, detail) VALUES (1, '2026-01-01T00:00:00Z', "
                     "'note', ?, ?)", (awkward, awkward))
        conn.execute("INSERT INTO outbox (chat_id, kind, priority, purpose, payload, created_at, file) "
                     "VALUES (-100, 'message', 2, 'report', ?, '2026-01-01T00:00:00Z', ?)", (awkward, every_byte))
        conn.execute("UPDATE tickets SET temperature = 14.25, description = ? WHERE id = 2", (awkward,))
    run = await copy(source, pg_url, tmp_path)
    assert run.code == 0, run.err
    assert pg_rows(pg_url, "SELECT actor, detail FROM ticket_events WHERE kind = 'note' ORDER BY id DESC LIMIT 1") == [(awkward, awkward)]
    assert pg_rows(pg_url, "SELECT payload, file FROM outbox WHERE purpose = 'report'") == [(awkward, every_byte)]
    assert pg_rows(pg_url, "SELECT temperature, description FROM tickets WHERE id = 2") == [(14.25, awkward)]


@pytest.mark.parametrize(("fault", "words"), [
    # SQLite keeps text in an INTEGER column; PostgreSQL cannot.
    ("UPDATE tickets SET accepted_by = '139-1234-5678' WHERE id = 7", ("tickets", "row 7", "column accepted_by")),
    # A ledger row of a ticket that is not there (SQLite checks foreign keys only when asked to).
    ("INSERT INTO ticket_events (ticket_id, at, kind, detail) VALUES (999999, '2026-01-01T00:00:00Z', 'note', '139-1234-5678')",
     ("ticket_events", "foreign key", "ticket_events_ticket_id_fkey")),
])
async def test_a_row_postgresql_refuses_is_named_without_its_values_and_nothing_is_copied(
        season: Path, tmp_path: Path, pg_url: str, fault: str, words: tuple[str, ...]):
    source = private_copy(season, tmp_path / "source.db")
    with sqlite3.connect(source) as conn:
        conn.execute(fault)
    run = await copy(source, pg_url, tmp_path)
    run.assert_one_clear_line(*words)
    assert "1234" not in run.err and "999999" not in run.err    # values (a phone number, perhaps) are never printed
    assert pg_total(pg_url) == 0


# ------------------------------------------------------------------ refusals, each one line


@pytest.mark.parametrize("occupant", ["a copy already there", "another application's table"])
async def test_a_target_that_is_not_empty_is_refused_in_one_line_and_left_as_it_was(
        season: Path, tmp_path: Path, pg_url: str, occupant: str):
    if occupant == "a copy already there":
        assert (await copy(season, pg_url, tmp_path)).code == 0
    else:
        with psycopg.connect(pg_url) as conn:
            conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount NUMERIC)")
            conn.execute("INSERT INTO invoices VALUES (1, 10)")
    before = pg_total(pg_url)
    tables = pg_rows(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    run = await copy(season, url_as(pg_url), tmp_path)
    run.assert_one_clear_line("not empty")
    assert pg_total(pg_url) == before
    assert pg_rows(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1") == tables


@pytest.mark.parametrize(("case", "words"), [
    ("newer", ("schema version 99", "newer")),
    ("older", ("schema version 11", "older", "start heatbot")),
    ("not heatbot's", ("not a heatbot database",)),
    ("not SQLite", ("not a SQLite database",)),
    ("missing", ("no database",)),
])
async def test_a_source_this_heatbot_cannot_copy_is_refused_before_the_target_is_touched(
        season: Path, tmp_path: Path, pg_url: str, case: str, words: tuple[str, ...]):
    source = tmp_path / "source.db"
    if case in ("newer", "older"):
        with sqlite3.connect(season) as a, sqlite3.connect(source) as b:
            a.backup(b)
            b.execute(f"PRAGMA user_version = {99 if case == 'newer' else 11}")
    elif case == "not heatbot's":
        with sqlite3.connect(source) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
    elif case == "not SQLite":
        source.write_text("ticket,address\n1,3-2-501\n")
    run = await copy(source, pg_url, tmp_path)
    run.assert_one_clear_line(*words)
    assert pg_rows(pg_url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()") == [(0,)]


async def test_two_copies_at_once_into_one_database_copy_once_and_the_second_refuses(season: Path, tmp_path: Path, pg_url: str):
    # Hold the copy lock so both are surely running at once, then let them race.
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (COPY_LOCK,))
        both = [asyncio.ensure_future(copy(season, pg_url, tmp_path)) for _ in range(2)]
        await wait_for_copies_waiting(holder, 2, both)
        holder.execute("SELECT pg_advisory_unlock(%s)", (COPY_LOCK,))
        runs = await asyncio.gather(*both)
    assert sorted(r.code for r in runs) == [0, 2], runs
    [refused] = [r for r in runs if r.code != 0]
    refused.assert_one_clear_line("not empty")
    [(tickets_copied,)] = pg_rows(pg_url, "SELECT COUNT(*) FROM tickets")
    assert tickets_copied == sqlite_rows(season, "SELECT COUNT(*) FROM tickets")[0][0]


async def wait_for_copies_waiting(conn: psycopg.Connection, n: int, runs: list[asyncio.Future], within: float = 30) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        [(waiting,)] = conn.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (COPY_LOCK & 0xFFFFFFFF,)).fetchall()
        if waiting == n:
            return
        done = [r for r in runs if r.done()]
        assert not done, f"a copy finished before the lock was let go: {done[0].result()}"
        assert loop.time() < give_up, f"only {waiting} of {n} copies reached the lock"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(("fault", "words"), [
    ("a row lost on the way", ("table deadlines", "rolled back")),
    ("a ledger row changed on the way", ("ledger ticket_events", "rolled back")),
])
async def test_a_copy_that_does_not_match_its_source_is_rolled_back_whole(
        season: Path, tmp_path: Path, pg_url: str, fault: str, words: tuple[str, ...]):
    db = await open_database(pg_url)        # the target migrated, then tampered with by a trigger
    await db.close()
    keys = foreign_keys(pg_url)
    with psycopg.connect(pg_url) as conn:
        if fault == "a row lost on the way":
            conn.execute("CREATE FUNCTION lose() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN IF NEW.id = 3 THEN RETURN NULL; END IF; RETURN NEW; END $$")
            conn.execute("CREATE TRIGGER lose BEFORE INSERT ON deadlines FOR EACH ROW EXECUTE FUNCTION lose()")
        else:
            conn.execute("CREATE FUNCTION alter_kind() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN IF NEW.id = 5 THEN NEW.kind := 'closed'; END IF; RETURN NEW; END $$")
            conn.execute("CREATE TRIGGER alter_kind BEFORE INSERT ON ticket_events FOR EACH ROW EXECUTE FUNCTION alter_kind()")
    run = await copy(season, pg_url, tmp_path)
    run.assert_one_clear_line(*words)
    assert pg_total(pg_url) == 0
    assert foreign_keys(pg_url) == keys and keys      # the keys set aside for the copy are back


# ------------------------------------------------------------------ a server that cannot be used


@pytest.fixture
def refusing_role(pg_server: str) -> Iterator[tuple[str, str]]:
    """A role on the test server: (name, password)."""
    with role_with_password(pg_server, f"right-{PASSWORD}") as name:
        yield name, f"right-{PASSWORD}"


async def test_an_unreachable_server_is_one_line_without_the_password(season: Path, tmp_path: Path):
    url = f"postgresql://heat:{PASSWORD}@127.0.0.1:{free_port()}/heatbot"
    run = await copy(season, url, tmp_path)
    run.assert_one_clear_line("cannot connect", "127.0.0.1")


async def test_a_wrong_password_is_one_line_without_the_password(
        season: Path, tmp_path: Path, pg_url: str, refusing_role: tuple[str, str]):
    role, _ = refusing_role
    url = url_as(pg_url, user=role)           # not the role's password
    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError:
        pass
    else:
        pytest.skip("the test server lets this role in without checking its password (trust authentication)")
    run = await copy(season, url, tmp_path)
    run.assert_one_clear_line("cannot connect", "password")


async def test_a_role_the_server_does_not_let_in_is_one_line_without_the_password(
        season: Path, tmp_path: Path, pg_url: str, pg_server: str, refusing_role: tuple[str, str]):
    role, password = refusing_role
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"ALTER ROLE {role} NOLOGIN")
    run = await copy(season, url_as(pg_url, user=role, password=password), tmp_path)
    run.assert_one_clear_line("cannot connect", role)
    assert password not in run.out + run.err
