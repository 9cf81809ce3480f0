"""The SQLite database: connection, WAL, migrations and transactions.

One aiosqlite connection is shared by handlers, the outbox sender and the sweeper. aiosqlite
runs statements one at a time, but an ``await`` inside a transaction would let another task's
statements slip into it, so every write goes through :meth:`Database.transaction`, which
serialises transactions with an asyncio lock and uses ``BEGIN IMMEDIATE``.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

__all__ = ["Database", "DatabaseTooNew", "MigrationError", "available_migrations", "open_database"]

log = logging.getLogger(__name__)


class MigrationError(Exception):
    pass


class DatabaseTooNew(MigrationError):
    """The file was written by a newer heatbot; running old code on it could corrupt it."""


def available_migrations(directory: Path | None = None) -> list[tuple[int, str, str]]:
    """(version, name, sql) for each ``NNNN_name.sql``, in order, with no gaps."""
    if directory is None:
        files = [(f.name, f.read_text(encoding="utf-8")) for f in resources.files("storage").joinpath("migrations").iterdir() if f.name.endswith(".sql")]
    else:
        files = [(p.name, p.read_text(encoding="utf-8")) for p in directory.glob("*.sql")]
    found: list[tuple[int, str, str]] = []
    for name, sql in files:
        head, _, _ = name.partition("_")
        if not head.isdigit():
            raise MigrationError(f"migration file {name} does not start with a number")
        found.append((int(head), name, sql))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise MigrationError(f"migration {name}: expected number {expected:04d}")
    return found


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def close(self) -> None:
        await self.conn.close()

    async def migrate(self, migrations: list[tuple[int, str, str]] | None = None) -> int:
        migrations = available_migrations() if migrations is None else migrations
        latest = migrations[-1][0] if migrations else 0
        async with self.conn.execute("PRAGMA user_version") as cur:
            current = (await cur.fetchone())[0]
        if current > latest:
            raise DatabaseTooNew(
                f"database {self.path} is at schema version {current}, newer than this heatbot "
                f"(knows up to {latest}); upgrade heatbot instead of running an old one on it"
            )
        for version, name, sql in migrations:
            if version <= current:
                continue
            log.info("applying migration %s", name)
            async with self._lock:
                # executescript would COMMIT first; run statements ourselves so the
                # migration and its user_version bump are one transaction.
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(sql):
                        await self.conn.execute(statement)
                    await self.conn.execute(f"PRAGMA user_version = {int(version)}")
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise MigrationError(f"migration {name} failed; database left at version {version - 1}") from None
                await self.conn.execute("COMMIT")
        return latest


def _split_sql(sql: str) -> list[str]:
    statements, buf = [], []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        buf.append(line)
        candidate = "\n".join(buf)
        if stripped.endswith(";") and sqlite3.complete_statement(candidate):
            statements.append(candidate)
            buf = []
    if "".join(buf).strip():
        statements.append("\n".join(buf))
    return statements


async def open_database(path: Path | str, *, migrate: bool = True) -> Database:
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    db = Database(conn, path)
    if migrate:
        try:
            await db.migrate()
        except BaseException:
            await conn.close()
            raise
    return db
