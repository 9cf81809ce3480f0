"""The throwaway PostgreSQL: scripts/postgres starts and stops a server, tests/pg.py gives each
test a database of its own on the one scripts/test started."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.pg import create_database, database_exists, database_name, drop_database, temporary_database

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "postgres"

# Databases seen by the two turns of test_each_test_gets_an_empty_database_of_its_own.
_seen: list[str] = []


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_an_empty_database_of_its_own(pg_url: str, turn: str) -> None:
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (database_name(pg_url),)
        assert _tables(pg_url) == []
        # Had the other turn been given this same database, this table would be there already.
        conn.execute("CREATE TABLE mark (turn text NOT NULL)")
        conn.execute("INSERT INTO mark VALUES (%s)", (turn,))
        conn.commit()
        assert conn.execute("SELECT turn FROM mark").fetchall() == [(turn,)]
    assert database_name(pg_url) not in _seen
    _seen.append(database_name(pg_url))


@dataclass
class _Dropped:
    names: list[str] = field(default_factory=list)
    still_open: list[psycopg.Connection] = field(default_factory=list)


@pytest.fixture
def dropped_after_the_test(pg_server: str) -> Iterator[_Dropped]:
    """The databases named by the test must be gone once every later fixture is torn down."""
    record = _Dropped()
    yield record
    try:
        assert record.names, "the test recorded no database"
        assert [name for name in record.names if database_exists(pg_server, name)] == []
    finally:
        for conn in record.still_open:
            conn.close()


def test_a_database_is_dropped_after_its_test_even_with_a_connection_left_open(
        dropped_after_the_test: _Dropped, pg_server: str, request: pytest.FixtureRequest) -> None:
    # Requested only now, so it is set up after (and torn down before) the checking fixture.
    url = request.getfixturevalue("pg_url")
    assert database_exists(pg_server, database_name(url))
    dropped_after_the_test.names.append(database_name(url))
    # Open until the checking fixture closes it, after pg_url's teardown has dropped the database.
    dropped_after_the_test.still_open.append(psycopg.connect(url))


def test_a_temporary_database_is_dropped_even_when_its_block_fails(pg_server: str) -> None:
    with pytest.raises(RuntimeError), temporary_database(pg_server) as url:
        assert database_exists(pg_server, database_name(url))
        raise RuntimeError("the test failed")
    assert not database_exists(pg_server, database_name(url))


def test_a_database_made_from_a_template_starts_as_its_copy(pg_server: str) -> None:
    template_url = create_database(pg_server)
    template = database_name(template_url)
    try:
        with psycopg.connect(template_url) as conn:
            conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, what text NOT NULL)")
            conn.execute("INSERT INTO ledger VALUES (1, 'migrated once')")
        # Connection closed: PostgreSQL copies a template only while nobody is connected to it.
        with temporary_database(pg_server, template=template) as url:
            assert database_name(url) != template
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT what FROM ledger").fetchall() == [("migrated once",)]
                conn.execute("INSERT INTO ledger VALUES (2, 'only in the copy')")
        with psycopg.connect(template_url) as conn:
            assert conn.execute("SELECT count(*) FROM ledger").fetchone() == (1,)
    finally:
        drop_database(pg_server, template)


def _server_installed() -> bool:
    if shutil.which("pg_ctl") and shutil.which("initdb"):
        return True
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))


needs_server_binaries = pytest.mark.skipif(
    not _server_installed(), reason="PostgreSQL's server binaries (initdb, pg_ctl) are not installed")


def _postgres(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_dirs() -> Iterator[Callable[[], str]]:
    """New folders for servers. As root the server runs as user postgres, which must reach them:
    pytest's own tmp_path (and a TMPDIR under /root) is closed to other users, /tmp is not.
    Whatever a test leaves running is stopped."""
    dirs: list[str] = []
    parent = "/tmp" if os.geteuid() == 0 else None

    def make() -> str:
        dirs.append(tempfile.mkdtemp(prefix="heatbot-pg-", dir=parent))
        return dirs[-1]

    yield make
    for d in dirs:
        if os.path.exists(d):
            _postgres("stop", d)
            shutil.rmtree(d, ignore_errors=True)


@needs_server_binaries
def test_postgres_script_starts_two_separate_servers_and_stop_removes_their_folders(fresh_dirs: Callable[[], str]) -> None:
    first_dir, second_dir = fresh_dirs(), fresh_dirs()
    started = _postgres("start", first_dir)
    assert started.returncode == 0, started.stderr
    first = started.stdout.strip()
    started = _postgres("start", second_dir)
    assert started.returncode == 0, started.stderr
    second = started.stdout.strip()
    assert first.startswith("postgresql://") and second.startswith("postgresql://")

    where = [(psycopg.conninfo.conninfo_to_dict(u)["host"], psycopg.conninfo.conninfo_to_dict(u)["port"])
             for u in (first, second)]
    assert where[0] != where[1]
    # Two servers, not one: a database made on the first is unknown to the second.
    made = create_database(first)
    assert database_exists(first, database_name(made))
    assert not database_exists(second, database_name(made))
    with psycopg.connect(first) as conn:
        # Thrown away, so built for speed, and reachable only through its socket or loopback.
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses', 'server_encoding')"
        ).fetchall())
    assert settings["fsync"] == "off" and settings["synchronous_commit"] == "off"
    assert settings["full_page_writes"] == "off" and settings["server_encoding"] == "UTF8"
    assert settings["listen_addresses"] in ("", "127.0.0.1")

    for d, url in ((first_dir, first), (second_dir, second)):
        stopped = _postgres("stop", d)
        assert stopped.returncode == 0, stopped.stderr
        assert not os.path.exists(d)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5).close()


@needs_server_binaries
def test_postgres_script_refuses_to_start_in_a_used_folder_or_remove_a_foreign_one(fresh_dirs: Callable[[], str]) -> None:
    used = fresh_dirs()
    Path(used, "keep.txt").write_text("someone's file")
    started = _postgres("start", used)
    assert started.returncode != 0 and started.stdout == ""
    assert len(started.stderr.strip().splitlines()) == 1
    stopped = _postgres("stop", used)
    assert stopped.returncode != 0
    assert Path(used, "keep.txt").read_text() == "someone's file"
