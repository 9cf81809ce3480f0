"""The database: connection, WAL, migrations and transactions, for SQLite or PostgreSQL.

One connection is shared by handlers, the outbox sender and the sweeper: aiosqlite's for a
file, or :mod:`storage.postgres`'s for a ``postgresql://`` URL, which offers the same calls.
Statements run one at a time, but an ``await`` inside a transaction would let another task's
statements slip into it, so every write goes through :meth:`Database.transaction`, which
serialises transactions with an asyncio lock. Between processes, SQLite's ``BEGIN IMMEDIATE``
takes the file's write lock; on PostgreSQL a transaction-scoped advisory lock does the same, so
two instances on one database write one at a time, exactly as two on one file do, and every
check-then-write the storage modules make holds on both.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import random
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage import postgres
from storage.dialect import DATABASE_ERRORS, POSTGRESQL, SQLITE, backend_of, is_postgres_url

__all__ = [
    "Database", "DatabaseTooNew", "DatabaseUnreachable", "fetch_one", "insert_id", "InstanceLock", "InstanceLocked", "MigrationError",
    "available_migrations", "migration_script", "open_database",
]

log = logging.getLogger(__name__)


class MigrationError(Exception):
    """A migration file is misnamed or missing, or one failed to apply (one line, for the CLI)."""


class DatabaseTooNew(MigrationError):
    """The file was written by a newer heatbot; running old code on it could corrupt it."""


class DatabaseUnreachable(Exception):
    """A PostgreSQL server refused us or could not be reached (one line, no password)."""


# Arbitrary keys for PostgreSQL's advisory locks, fixed forever: every heatbot instance on a
# database must agree on them. One serialises writing transactions (SQLite's write lock), the
# other lets one instance at a time migrate.
WRITE_LOCK = 0x68656174     # "heat"
MIGRATE_LOCK = 0x6d696772   # "migr"


_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.sql$")


def available_migrations(directory: Path | None = None, backend: str = SQLITE) -> list[tuple[int, str, str]]:
    """(version, name, sql) for each ``NNNN_name.sql`` (shipped ones by default), in order.

    Numbers start at 0001 with no gap or repeat: a missing file would otherwise leave every
    database that skipped it one table short without anybody noticing. PostgreSQL's files are
    the same history, written in its dialect, in ``migrations/postgresql/``.
    """
    if directory is None:
        folder = resources.files("storage").joinpath("migrations")
        if backend == POSTGRESQL:
            folder = folder.joinpath("postgresql")
        files = [(f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".sql")]
    else:
        files = [(p.name, p.read_text(encoding="utf-8")) for p in Path(directory).iterdir() if p.name.endswith(".sql")]
    found: list[tuple[int, str, str]] = []
    for name, sql in files:
        match = _MIGRATION_NAME.match(name)
        if match is None:
            raise MigrationError(f"migration file {name} is not named NNNN_name.sql (e.g. 0002_add_photos.sql)")
        found.append((int(match.group(1)), name, sql))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version < expected:
            raise MigrationError(f"migration {name}: number {version:04d} is used twice")
        if version != expected:
            raise MigrationError(f"migration {name}: expected number {expected:04d} (no gaps)")
    return found


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> sqlite3.Row | None:
    """The first row of ``sql``, or None, in one round trip to the connection's thread.

    ``async with conn.execute(...) as cur: await cur.fetchone()`` takes three (execute, fetch,
    close), each a hand-over between threads that costs more than a small query itself; the
    lookups every update makes (the user, their draft) use this instead."""
    rows = await conn.execute_fetchall(sql, params)
    return rows[0] if rows else None


async def insert_id(conn, sql: str, params: tuple | dict = ()) -> int | None:
    """Run an ``INSERT`` and return the new row's id (None when ``ON CONFLICT DO NOTHING``
    skipped it): ``RETURNING id``, which both backends understand, where SQLite alone has
    ``lastrowid``."""
    rows = await conn.execute_fetchall(f"{sql} RETURNING id", params)
    return rows[0][0] if rows else None


class Database:
    def __init__(self, conn: aiosqlite.Connection | postgres.PgConnection, path: Path | str) -> None:
        self.conn = conn
        self.path = path        # the file, or a PostgreSQL URL without its password
        self.backend = backend_of(conn)
        self._lock = asyncio.Lock()
        self._undoing: set[asyncio.Task] = set()
        # Set at the next commit, then replaced: a live view (the dispatch board) waits on it
        # instead of polling, and so hears of every change this process makes, the sweeper's too.
        self._next_commit = asyncio.Event()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        await self._lock.acquire()
        begin = asyncio.ensure_future(self._begin())
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            # BEGIN runs on the connection's thread whatever happens to this task. Left begun,
            # the connection would fail every later transaction ("cannot start a transaction
            # within a transaction") and hold the write lock against other processes. Undo it
            # once it has run, and keep our lock until then.
            undo = asyncio.ensure_future(self._undo_begin(begin))
            self._undoing.add(undo)
            undo.add_done_callback(self._undoing.discard)
            raise
        except BaseException:
            self._lock.release()
            raise
        try:
            yield self.conn
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                await self.conn.execute("COMMIT")
            except DATABASE_ERRORS:
                if self.conn.in_transaction:    # a failed COMMIT can leave it open
                    await self.conn.execute("ROLLBACK")
                raise
            committed, self._next_commit = self._next_commit, asyncio.Event()
            committed.set()
        finally:
            self._lock.release()

    def next_commit(self) -> asyncio.Event:
        """An event set when the next transaction of this process commits."""
        return self._next_commit

    async def _begin(self) -> None:
        if self.backend == POSTGRESQL:
            await self.conn.execute("BEGIN")
            await self.conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        else:
            await self.conn.execute("BEGIN IMMEDIATE")

    async def _undo_begin(self, begin: asyncio.Future) -> None:
        try:
            await begin
            await self.conn.execute("ROLLBACK")
        except Exception:       # BEGIN failed (nothing to undo) or the connection is gone
            pass
        finally:
            self._lock.release()

    async def close(self) -> None:
        if self._undoing:       # a cancelled BEGIN still being undone: let it finish first
            await asyncio.gather(*self._undoing, return_exceptions=True)
        await self.conn.close()

    async def user_version(self) -> int:
        if self.backend == POSTGRESQL:
            # heatbot_schema holds PostgreSQL's version, as PRAGMA user_version does SQLite's.
            row = await fetch_one(self.conn, "SELECT to_regclass('heatbot_schema') IS NOT NULL")
            if not row[0]:
                return 0
            row = await fetch_one(self.conn, "SELECT version FROM heatbot_schema")
            return int(row[0]) if row else 0
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def migrate(self, migrations: list[tuple[int, str, str]] | None = None) -> int:
        """Bring the schema up to the newest migration; return that version.

        Each migration and its ``user_version`` bump are one transaction: a failing one leaves the
        database exactly at the previous version. A database newer than the code is refused.
        """
        migrations = available_migrations(backend=self.backend) if migrations is None else migrations
        latest = migrations[-1][0] if migrations else 0
        if self.backend == POSTGRESQL:
            return await self._migrate_postgres(migrations, latest)
        current = await self.user_version()
        self._refuse_newer(current, latest)
        for version, name, sql in migrations:
            if version <= current:
                continue
            async with self._lock:
                # executescript would COMMIT an open transaction first, so the script opens its
                # own: SQLite's parser splits the statements, and the migration and its version
                # bump commit together or not at all.
                try:
                    await self.conn.executescript(migration_script(version, current, sql))
                except Exception as e:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    if await self.user_version() >= version:
                        # Another process opening the same file applied it while we waited for
                        # the write lock; our copy failed on its tables. Nothing is wrong.
                        current = version
                        continue
                    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                    raise MigrationError(
                        f"migration {name} failed ({reason}); database left at version {current}"
                    ) from e
            log.info("applied migration %s", name)
            current = version
        return latest

    def _refuse_newer(self, current: int, latest: int) -> None:
        if current > latest:
            raise DatabaseTooNew(
                f"database {self.path} is at schema version {current}, newer than this heatbot "
                f"(knows up to {latest}); upgrade heatbot instead of running an old one on it"
            )

    async def _migrate_postgres(self, migrations: list[tuple[int, str, str]], latest: int) -> int:
        """As for SQLite, each migration and its version bump commit together. A session advisory
        lock lets one instance migrate while others starting at the same moment wait, then find
        the work done."""
        async with self._lock:
            await self.conn.execute("SELECT pg_advisory_lock(?)", (MIGRATE_LOCK,))
            try:
                current = await self.user_version()
                self._refuse_newer(current, latest)
                for version, name, sql in migrations:
                    if version <= current:
                        continue
                    bump = ("CREATE TABLE heatbot_schema (version INTEGER NOT NULL);\n"
                            f"INSERT INTO heatbot_schema VALUES ({int(version)});" if current == 0 else
                            f"UPDATE heatbot_schema SET version = {int(version)};")
                    try:
                        await self.conn.executescript(f"BEGIN;\n{sql}\n;\n{bump}\nCOMMIT;")
                    except DATABASE_ERRORS as e:
                        if self.conn.in_transaction:
                            await self.conn.execute("ROLLBACK")
                        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                        raise MigrationError(
                            f"migration {name} failed ({reason}); database left at version {current}"
                        ) from e
                    log.info("applied migration %s", name)
                    current = version
            finally:
                await self.conn.execute("SELECT pg_advisory_unlock(?)", (MIGRATE_LOCK,))
        return latest


def migration_script(version: int, current: int, sql: str) -> str:
    """Migration ``version`` as one transaction, run only if the file is still at ``current``.

    ``current`` was read before the write lock was taken; another process opening the same file
    may have applied this migration (and later ones) meanwhile. A migration that happens to
    succeed twice (``IF NOT EXISTS``, an ``UPDATE``) would then run again and set the version
    back, so the script first checks the version under the lock: a CHECK constraint on a
    temporary table makes it fail, and the caller sees the newer version and moves on.
    """
    return (
        f"BEGIN IMMEDIATE;\n"
        f"CREATE TEMP TABLE _migrating_from (v INTEGER CHECK (v = {int(current)}));\n"
        f"INSERT INTO _migrating_from SELECT user_version FROM pragma_user_version;\n"
        f"DROP TABLE temp._migrating_from;\n"
        f"{sql}\n;\nPRAGMA user_version = {int(version)};\nCOMMIT;"
    )


# PRAGMA journal_mode=WAL on a file not yet in WAL mode must upgrade its read lock to a write
# lock, and SQLite does not call the busy handler for that upgrade (waiting there could
# deadlock), so a second process opening the same new file at that moment gets SQLITE_BUSY at
# once, whatever busy_timeout says. The other opener holds the lock only while it switches the
# file to WAL, so a bounded retry with a short backoff is enough.
_WAL_RETRY_FOR = 5.0            # seconds
_WAL_FIRST_BACKOFF = 0.005      # doubles per try, up to _WAL_MAX_BACKOFF
_WAL_MAX_BACKOFF = 0.2
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _is_busy(e: sqlite3.OperationalError) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY        # extended codes keep the primary code in the low byte
    return "locked" in str(e) or "busy" in str(e)


async def _enable_wal(conn: aiosqlite.Connection, path: Path) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + _WAL_RETRY_FOR
    backoff = _WAL_FIRST_BACKOFF
    while True:
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or loop.time() + backoff > give_up:
                raise
            log.debug("%s is busy switching to WAL; retrying in %.3f s", path, backoff)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, _WAL_MAX_BACKOFF)


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only: it holds residents' names, phones
    and addresses. SQLite gives the -wal and -shm files the main file's permissions, so they
    follow. An existing file is left as the operator set it (a warning if anyone may read it)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:       # an existing database, or another process created it just now
        pass
    try:
        mode = path.stat().st_mode
    except OSError:
        return                    # sqlite will say what is wrong with it
    if mode & 0o077:
        log.warning("database %s can be read by other users (mode %03o); it holds residents' "
                    "personal data: chmod 600 it and its -wal and -shm files", path, mode & 0o777)


async def open_database(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating it 0600 if new), switch to WAL and migrate. On any failure the connection
    is closed before the error propagates: its worker thread would otherwise keep the process
    alive after the caller has given up. A ``postgresql://`` URL opens PostgreSQL instead."""
    if isinstance(path, str) and is_postgres_url(path):
        return await _open_postgres(path, migrate=migrate)
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout=5000")
        await _enable_wal(conn, path)
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        await conn.close()
        raise
    return await _ready(Database(conn, path), migrate)


async def _ready(db: Database, migrate: bool) -> Database:
    try:
        if migrate:
            await db.migrate()
    except BaseException:
        await db.conn.close()
        raise
    return db


async def _open_postgres(url: str, *, migrate: bool) -> Database:
    where = postgres.describe_url(url)
    try:
        conn = await postgres.connect(url)
    except DATABASE_ERRORS as e:
        # libpq's message: "connection to server at … failed: FATAL:  role … does not exist".
        # The last failure is the one to show; it never contains the password.
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = text.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
        raise DatabaseUnreachable(f"cannot connect to {where}: {reason}") from None
    return await _ready(Database(conn, where), migrate)


class InstanceLocked(Exception):
    """Another process serves this database already (one line, for the CLI)."""


class InstanceLock:
    """One bot process per SQLite database: an exclusive ``flock`` on ``<db>.lock``, held for
    the life of the process.

    Two bots on one database each handle every update and each send every outbox row. Why a
    lock file and not a SQLite lock: the kernel drops a ``flock`` when its process dies, even
    by SIGKILL, so a crash never leaves a stale lock behind; and it leaves the database's own
    locks alone, so ``heatbot status`` and other readers keep working while the bot runs (an
    exclusive SQLite locking mode would shut them out). ``flock`` is per host, like SQLite
    itself; several instances on one PostgreSQL database will coordinate through the outbox
    claims instead.
    """

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = Path(db_path)
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`InstanceLocked` at once (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise InstanceLocked(
                f"another heatbot instance is running on {self.db_path}"
                f"{f' (pid {holder})' if holder.isdigit() else ''}; stop it first"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # The holder's pid, for the message a second instance prints; the lock is the flock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
