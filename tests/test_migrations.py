"""The migration runner (issue 2): numbered files applied in order with PRAGMA user_version,
each in one transaction; a database newer than the code is refused; WAL is on."""
from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from storage.db import DatabaseTooNew, MigrationError, available_migrations, migration_script, open_database


def migrations(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


TWO = {
    "0001_people.sql": "-- people\nCREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);\n",
    "0002_pets.sql": (
        "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people(id)); -- trailing comment\n"
        "INSERT INTO people (name) VALUES ('semi;colon');\n"
        "CREATE TRIGGER pets_guard BEFORE INSERT ON pets BEGIN\n"
        "    SELECT RAISE(ABORT, 'no owner') WHERE NEW.owner IS NULL;\n"
        "END;"
    ),
}


async def open_with(path: Path, folder: Path):
    db = await open_database(path, migrate=False)
    try:
        return db, await db.migrate(available_migrations(folder))
    except BaseException:
        await db.close()
        raise


async def test_migrations_apply_in_order_and_set_user_version(tmp_path: Path):
    path = tmp_path / "a.db"
    db, version = await open_with(path, migrations(tmp_path, TWO))
    try:
        assert version == 2 and await db.user_version() == 2
        async with db.conn.execute("SELECT name FROM people") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["semi;colon"]
    finally:
        await db.close()
    assert {"people", "pets"} <= tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == [("pets_guard",)]


async def test_only_the_new_migrations_run_when_the_code_gains_one(tmp_path: Path):
    path = tmp_path / "a.db"
    folder = migrations(tmp_path, {"0001_people.sql": TWO["0001_people.sql"]})
    db, _ = await open_with(path, folder)
    try:
        await db.conn.execute("INSERT INTO people (name) VALUES ('kept')")
    finally:
        await db.close()

    migrations(tmp_path, {"0002_pets.sql": TWO["0002_pets.sql"]})
    db, version = await open_with(path, folder)
    try:
        assert version == 2
        async with db.conn.execute("SELECT name FROM people ORDER BY id") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["kept", "semi;colon"]
    finally:
        await db.close()


async def test_reopening_a_migrated_database_changes_nothing(tmp_path: Path):
    path = tmp_path / "a.db"
    folder = migrations(tmp_path, TWO)
    for _ in range(3):
        db, version = await open_with(path, folder)
        await db.close()
        assert version == 2
    assert user_version(path) == 2
    with sqlite3.connect(path) as conn:
        # The INSERT in 0002 ran once, not once per opening.
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 1


async def test_a_failing_migration_leaves_the_database_at_the_previous_version_with_nothing_of_it_applied(tmp_path: Path):
    path = tmp_path / "a.db"
    folder = migrations(tmp_path, {
        "0001_people.sql": TWO["0001_people.sql"],
        "0002_broken.sql": (
            "CREATE TABLE half_done (id INTEGER);\n"
            "INSERT INTO people (name) VALUES ('half');\n"
            "INSERT INTO no_such_table VALUES (1);\n"
            "CREATE TABLE never (id INTEGER);\n"
        ),
    })
    with pytest.raises(MigrationError) as caught:
        await open_with(path, folder)
    message = str(caught.value)
    assert "0002_broken.sql" in message and "no_such_table" in message and "version 1" in message
    assert "\n" not in message

    assert user_version(path) == 1
    assert "half_done" not in tables(path) and "never" not in tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 0


async def test_the_connection_is_usable_after_a_failed_migration(tmp_path: Path):
    path = tmp_path / "a.db"
    folder = migrations(tmp_path, {"0001_bad.sql": "CREATE TABLE t (id INTEGER);\nSELEC 1;\n"})
    db = await open_database(path, migrate=False)
    try:
        with pytest.raises(MigrationError, match="0001_bad.sql"):
            await db.migrate(available_migrations(folder))
        assert not db.conn.in_transaction
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE after (id INTEGER)")
        assert await db.user_version() == 0
    finally:
        await db.close()


async def test_a_database_newer_than_the_code_is_refused_with_a_clear_message(tmp_path: Path):
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(DatabaseTooNew) as caught:
        await open_with(path, migrations(tmp_path, TWO))
    message = str(caught.value)
    assert str(path) in message and "version 7" in message and "up to 2" in message and "upgrade heatbot" in message
    assert "\n" not in message
    assert user_version(path) == 7 and tables(path) == set()


async def test_open_database_refuses_a_file_newer_than_the_shipped_migrations(tmp_path: Path):
    path = tmp_path / "a.db"
    newest = available_migrations()[-1][0]
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newest + 1}")
    with pytest.raises(DatabaseTooNew):
        await open_database(path)


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({"0001_a.sql": "", "0003_c.sql": ""}, "expected number 0002"),
        ({"0002_b.sql": ""}, "expected number 0001"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "used twice"),
        ({"0001_a.sql": "", "init.sql": ""}, "init.sql"),
        ({"1_a.sql": ""}, "1_a.sql"),
        ({"0001-a.sql": ""}, "0001-a.sql"),
        ({"0001_.sql": ""}, "0001_.sql"),
        ({"0001_has space.sql": ""}, "0001_has space.sql"),
    ],
    ids=["gap", "does-not-start-at-1", "duplicate-number", "no-number", "short-number", "dash", "no-name", "space-in-name"],
)
def test_gaps_and_badly_named_migration_files_are_rejected(tmp_path: Path, files: dict[str, str], complaint: str):
    with pytest.raises(MigrationError) as caught:
        available_migrations(migrations(tmp_path, files))
    assert complaint in str(caught.value)


def test_files_that_are_not_sql_are_ignored(tmp_path: Path):
    folder = migrations(tmp_path, {"0001_a.sql": "SELECT 1;", "README.md": "notes", "0002_b.sql.bak": ""})
    assert [(v, n) for v, n, _ in available_migrations(folder)] == [(1, "0001_a.sql")]


async def test_wal_mode_and_foreign_keys_are_on(tmp_path: Path):
    db = await open_database(tmp_path / "a.db")
    try:
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with db.conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    finally:
        await db.close()


async def test_the_shipped_migrations_apply_to_a_fresh_file(tmp_path: Path):
    shipped = available_migrations()
    assert shipped and [v for v, _, _ in shipped] == list(range(1, len(shipped) + 1))
    path = tmp_path / "nested" / "dir" / "heatbot.db"
    db = await open_database(path)
    try:
        assert await db.user_version() == shipped[-1][0]
    finally:
        await db.close()
    assert {"centres", "communities", "staff"} <= tables(path)


async def test_two_openings_of_one_fresh_file_both_end_up_migrated(tmp_path: Path):
    # Two processes started at once (bot and a tool) race for the first migration; the loser
    # must see the winner's work, not fail on "table already exists".
    path = tmp_path / "a.db"
    first, second = await asyncio.gather(open_database(path), open_database(path))
    try:
        assert await first.user_version() == await second.user_version() == available_migrations()[-1][0]
    finally:
        await first.close()
        await second.close()


ROUNDS = 50


def _open_fresh_files_in_step(folder: str, rounds: int, barrier, results) -> None:
    """One of two processes: open ``0.db`` .. ``N.db`` in lock step with the other one."""
    failures: list[str] = []

    async def open_and_close(path: Path) -> None:
        db = await open_database(path)
        await db.close()

    for i in range(rounds):
        barrier.wait(timeout=60)
        try:
            asyncio.run(open_and_close(Path(folder) / f"{i}.db"))
        except Exception as e:
            failures.append(f"round {i}: {type(e).__name__}: {e}")
    results.put(failures)


def test_two_processes_opening_one_new_file_at_once_both_succeed_fifty_times_in_a_row(tmp_path: Path):
    # The bot and `heatbot status` started together: the switch to WAL needs a lock upgrade
    # that SQLite will not wait for, so one of them used to fail with "database is locked".
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_open_fresh_files_in_step, args=(str(tmp_path), ROUNDS, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        failures = [results.get(timeout=110) for _ in procs]
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
    assert failures == [[], []]
    latest = available_migrations()[-1][0]
    assert all(user_version(tmp_path / f"{i}.db") == latest for i in range(ROUNDS))


async def test_a_new_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only(tmp_path: Path):
    # They hold residents' names, phones and addresses.
    path = tmp_path / "heatbot.db"
    db = await open_database(path)
    try:
        async with db.transaction() as conn:      # a write, so the -wal file has content
            await conn.execute("CREATE TABLE scratch (x INTEGER)")
        files = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    finally:
        await db.close()
    assert {"heatbot.db", "heatbot.db-wal", "heatbot.db-shm"} <= files.keys()
    assert files == dict.fromkeys(files, 0o600)


async def test_an_existing_database_that_others_can_read_is_named_in_a_warning_and_left_as_it_is(tmp_path: Path, caplog):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="storage.db"):
        db = await open_database(path)
        await db.close()
    assert any(str(path) in r.getMessage() and "chmod 600" in r.getMessage() for r in caplog.records)
    assert path.stat().st_mode & 0o777 == 0o644       # the operator's file, the operator's choice


async def test_a_transaction_cancelled_while_waiting_to_begin_leaves_the_connection_usable(tmp_path: Path):
    # A task cancelled at BEGIN (the sender stopping while another process writes) used to
    # leave the connection inside a transaction: every later one failed, and stopping hung.
    path = tmp_path / "a.db"
    db = await open_database(path)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")                  # our BEGIN now waits for this lock

        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute("CREATE TABLE never (x)")

        task = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        other.execute("COMMIT")                           # our BEGIN goes through now, on its thread
        async with asyncio.timeout(10):
            async with db.transaction() as conn:
                await conn.execute("CREATE TABLE later (x)")
        other.execute("BEGIN IMMEDIATE")                  # and nothing of ours holds the lock
        other.execute("ROLLBACK")
    finally:
        other.close()
        await db.close()
    assert "later" in tables(path) and "never" not in tables(path)


def test_a_migration_script_runs_only_on_the_version_it_was_read_at(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    conn.execute("CREATE TABLE log (n INTEGER)")
    conn.execute("PRAGMA user_version = 2")               # another process got here first
    with pytest.raises(sqlite3.IntegrityError):
        conn.executescript(migration_script(2, 1, "INSERT INTO log VALUES (2)"))
    conn.execute("ROLLBACK")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 0
    conn.executescript(migration_script(3, 2, "INSERT INTO log VALUES (3)"))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    assert conn.execute("SELECT n FROM log").fetchall() == [(3,)]


async def test_openers_racing_never_run_a_migration_twice_or_set_the_version_back(tmp_path: Path):
    # Migrations that would succeed a second time: the race must not let them.
    migrations = [(1, "0001_log.sql", "CREATE TABLE IF NOT EXISTS log (n INTEGER)")] + [
        (n, f"{n:04d}_step.sql", f"INSERT INTO log VALUES ({n})") for n in range(2, 8)
    ]
    for round_ in range(10):
        path = tmp_path / f"{round_}.db"
        dbs = await asyncio.gather(*(open_database(path, migrate=False) for _ in range(3)))
        try:
            versions = await asyncio.gather(*(db.migrate(migrations) for db in dbs))
            assert versions == [7, 7, 7]
            async with dbs[0].conn.execute("SELECT n FROM log ORDER BY n") as cur:
                assert [r[0] for r in await cur.fetchall()] == list(range(2, 8))
            assert await dbs[0].user_version() == 7
        finally:
            for db in dbs:
                await db.close()
