"""Moving a company from SQLite to PostgreSQL: every row of every table, in one transaction.

``heatbot db copy --from heatbot.db --to postgresql://…`` (bot/dbcli.py) calls
:func:`copy_database`. The steps, and why each is done so:

- **The source is read in one read transaction.** In WAL mode a reader sees one snapshot (every
  committed transaction or none of it) and does not block the writer, so the copy is
  consistent while a bot still runs on the file. An online backup into a temporary file
  (storage/backup.py) would be equally consistent, but costs a second full write of the file
  and leaves a copy of residents' names and phones in a temporary folder; reading the snapshot
  directly needs neither. What the bot commits after the snapshot is not in the copy: for the
  real move the bot is stopped first (README, "Moving to PostgreSQL").
- **Only a heatbot database at this code's schema version** is copied: an older one is brought
  up to date by starting heatbot on it once, a newer one needs a newer heatbot. The source is
  never changed.
- **The target is migrated** (:func:`storage.db.open_database`), then must be **empty**: not
  one row in any heatbot table. Copying into a database that already serves a company would
  mix two companies' tickets under colliding ids. A database already holding rows, or another
  application's tables, is refused before it is migrated, so a refusal changes nothing.
- **One PostgreSQL transaction**, holding the advisory lock :data:`COPY_LOCK` (and the bots'
  write lock, so nobody writes meanwhile): a second ``db copy`` into the same database waits,
  then finds it no longer empty and refuses. A failure anywhere rolls everything back.
- **Everything the company owns is copied**: every table but the schema version and the
  sender lease (which names the old bot's process; the new bot takes its own).
- **COPY, not INSERT**: psycopg's ``cursor.copy()`` streams rows in PostgreSQL's COPY protocol,
  its bulk-loading path, instead of one statement per row. Ids are copied as they are; COPY writes identity
  columns too (even GENERATED ALWAYS ones, as ``OVERRIDING SYSTEM VALUE`` would), so the
  ``rowid`` columns that stand in for SQLite's implicit rowid get SQLite's values and the
  code's ``ORDER BY rowid`` keeps its order. The foreign keys are set aside meanwhile and
  added back (checked in one pass) before the commit, as pg_restore does. The ledgers refuse
  UPDATE and DELETE by trigger; inserting is what they allow.
- **Sequences** are then set past the largest id, so the next ticket gets the next number.
- **Verified before commit**: rows per table counted again on both sides, and the two ledgers'
  (id, owner, kind, time) compared by checksum. Any difference rolls back. After the commit,
  ``ANALYZE`` gives the planner its statistics.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from storage.db import (
    WRITE_LOCK, DatabaseUnreachable, InstanceLock, InstanceLocked, MigrationError, available_migrations, open_database,
)
from storage.dialect import is_postgres_url
from storage.postgres import CONNECT_TIMEOUT, describe_url

__all__ = ["COPY_LOCK", "CopyError", "CopyReport", "copy_database"]

log = logging.getLogger(__name__)

# The advisory lock key every `heatbot db copy` takes on its target, fixed forever: "copy".
COPY_LOCK = 0x636f7079

# PostgreSQL's own schema bookkeeping (the schema version); never copied, never counted.
_BOOKKEEPING = frozenset({"heatbot_schema"})

# Tables whose rows belong to the process that wrote them, not to the company: left empty in
# the copy (the table must still be empty there, like every other). The sender lease names the
# old bot's process; copied, it would keep the new bot from sending until it ran out.
_NOT_COPIED = frozenset({"sender_lease"})

# The append-only ledgers, checked row by row (cheaply, by checksum) after copying:
# (table, the column naming what the row belongs to).
_LEDGERS = {"ticket_events": "ticket_id", "outage_events": "outage_id"}

_FETCH = 5000       # rows read from SQLite at a time


class CopyError(Exception):
    """A copy that cannot go ahead or did not match (one line, for the CLI; never a password)."""


@dataclass(frozen=True)
class CopyReport:
    source: Path
    target: str                         # the URL without its password
    schema_version: int
    rows: tuple[tuple[str, int], ...]   # (table, rows copied), in the order they were copied
    seconds: float
    bot_running: bool                   # a bot served the source while it was read

    @property
    def total(self) -> int:
        return sum(n for _, n in self.rows)


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]            # PostgreSQL's columns to fill
    source: tuple[str, ...]             # what to select from SQLite for each (a column, or rowid)
    identities: tuple[str, ...]         # identity columns, whose sequences follow the copied ids


def copy_database(source: Path, target: str, *, clock: Callable[[], float] = time.perf_counter) -> CopyReport:
    """Copy the heatbot database in the SQLite file ``source`` into the PostgreSQL database at
    ``target`` (a URL), which must be empty; see the module's description. Raises
    :class:`CopyError` (one line) when it cannot or when the copy does not match; the target
    then holds no copied row.

    Runs its own event loop for the migration: call it from a thread, not from a coroutine.
    """
    began = clock()
    where = _check_target_url(target)
    src = _open_source(source)
    try:
        version = _check_source(src, source)
        lock = InstanceLock(source)
        try:
            lock.acquire()      # held while reading: no bot starts on the file mid-copy
            bot_running = False
        except InstanceLocked:
            bot_running = True
        except OSError:         # a read-only folder: no lock file; a bot there could not have one either
            bot_running = False
        try:
            with _connect(target, where) as pg:
                _refuse_occupied(pg, where)
            _migrate(target)
            with _connect(target, where) as pg:
                rows = _copy(src, pg, where)
        finally:
            lock.release()
    finally:
        src.close()
    return CopyReport(source, where, version, tuple(rows), clock() - began, bot_running)


def _check_target_url(target: str) -> str:
    if not is_postgres_url(target):
        raise CopyError("the target must be a PostgreSQL URL (postgresql://user@host/database)")
    try:
        return describe_url(target, strict=True)
    except ValueError:
        raise CopyError("the target is not a valid PostgreSQL URL") from None


def _open_source(source: Path) -> sqlite3.Connection:
    if not source.is_file():
        raise CopyError(f"no database at {source}")
    try:
        # Read-only: the copy never changes the source. isolation_level=None: the one read
        # transaction below is ours to begin and end.
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error as e:
        raise CopyError(f"cannot open {source}: {e}") from None
    try:
        conn.execute("BEGIN")
        # The snapshot starts at the first read and holds until the end of the copy.
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise CopyError(f"{source} is not a SQLite database ({e})") from None
    return conn


def _check_source(src: sqlite3.Connection, source: Path) -> int:
    version = src.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 or not {"tickets", "ticket_events", "outbox"} <= tables:
        raise CopyError(f"{source} is not a heatbot database (no heatbot schema)")
    latest = available_migrations()[-1][0]
    if version > latest:
        raise CopyError(f"{source} is at schema version {version}, newer than this heatbot (knows up to {latest}); "
                        f"copy it with the heatbot that wrote it")
    if version < latest:
        raise CopyError(f"{source} is at schema version {version}, older than this heatbot's {latest}; "
                        f"start heatbot on it once (it migrates at start-up), then copy")
    return version


def _connect(target: str, where: str) -> psycopg.Connection:
    try:
        return psycopg.connect(target, connect_timeout=CONNECT_TIMEOUT, application_name="heatbot db copy")
    except psycopg.Error as e:
        # psycopg's message names the host and the failure; it never contains the password.
        raise CopyError(f"cannot connect to {where}: {_last_line(e)}") from None


def _last_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[-1] if text else type(e).__name__


def _tables(pg: psycopg.Connection) -> list[str]:
    return [r[0] for r in pg.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]


def _refuse_occupied(pg: psycopg.Connection, where: str) -> None:
    """Refuse, before migrating anything, a database that holds another application's tables or
    heatbot rows already. (The check that counts is repeated under the lock in :func:`_copy`.)"""
    tables = _tables(pg)
    try:
        if tables and "heatbot_schema" not in tables:
            shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
            raise CopyError(f"{where} is not empty: it holds tables that are not heatbot's ({shown}); "
                            f"copy into a new database")
        _refuse_rows(pg, where, [t for t in tables if t not in _BOOKKEEPING])
    finally:
        pg.rollback()


def _refuse_rows(pg: psycopg.Connection, where: str, names: list[str]) -> None:
    full = _non_empty(pg, names)
    if full:
        raise CopyError(f"{where} is not empty ({len(full)} heatbot tables hold rows, e.g. {full[0]}); "
                        f"copy into a new, empty database")


def _migrate(target: str) -> None:
    async def run() -> None:
        db = await open_database(target)
        await db.close()
    try:
        asyncio.run(run())
    except (DatabaseUnreachable, MigrationError) as e:
        raise CopyError(str(e)) from None


def _copy(src: sqlite3.Connection, pg: psycopg.Connection, where: str) -> list[tuple[str, int]]:
    encoding = pg.execute("SHOW server_encoding").fetchone()[0]
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise CopyError(f"{where} stores text as {encoding}; heatbot needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8')")
    # Everything below is one transaction (psycopg opened it): committed whole, or not at all.
    pg.execute("SELECT pg_advisory_xact_lock(%s)", (COPY_LOCK,))
    # And the bots' write lock: a bot started on the target meanwhile waits for the commit.
    pg.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    names = [t for t in _tables(pg) if t not in _BOOKKEEPING]
    _refuse_rows(pg, where, names)
    plan = _plan(src, pg, [t for t in names if t not in _NOT_COPIED])
    foreign_keys = _set_foreign_keys_aside(pg)
    copied: list[tuple[str, int]] = []
    digests: dict[str, str] = {}
    for table in plan:
        digest = hashlib.md5() if table.name in _LEDGERS else None
        count = _copy_table(src, pg, table, digest)
        copied.append((table.name, count))
        if digest is not None:
            digests[table.name] = digest.hexdigest()
    _restore_foreign_keys(pg, foreign_keys)
    for table in plan:
        _advance_sequences(pg, table)
    _verify(src, pg, copied, digests)
    pg.commit()
    _analyze(pg, [t.name for t in plan])
    return copied


def _analyze(pg: psycopg.Connection, names: list[str]) -> None:
    """Statistics for the planner now, as after pg_restore: autovacuum would gather them within
    a minute or so, and until then the bot's first queries would be planned blind (measured:
    2.7 s for the 100,000-ticket season). The copy is committed already; a failure here only
    leaves it to autovacuum."""
    try:
        pg.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, names))))
        pg.commit()
    except psycopg.Error as e:
        pg.rollback()
        log.warning("ANALYZE after the copy failed (%s); autovacuum will gather the statistics", _last_line(e))


def _non_empty(pg: psycopg.Connection, names: list[str]) -> list[str]:
    if not names:
        return []
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name} FROM (SELECT 1 FROM {table} LIMIT 1) AS t").format(name=sql.Literal(n), table=sql.Identifier(n))
        for n in names)
    return [r[0] for r in pg.execute(query)]


def _plan(src: sqlite3.Connection, pg: psycopg.Connection, names: list[str]) -> list[_Table]:
    """Each table's columns, mapped by name, in an order that fills parents before children.

    Both schemas come from the same migration history, so they should agree; a column or table
    on one side only is refused rather than dropped silently."""
    sqlite_tables = {r[0] for r in src.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")} - _NOT_COPIED
    missing = sorted(sqlite_tables - set(names))
    if missing:
        raise CopyError(f"the PostgreSQL schema has no table {missing[0]}, which the SQLite database has; "
                        f"is the target's heatbot older than this one?")
    plan: dict[str, _Table] = {}
    for name in names:
        if name not in sqlite_tables:
            continue        # PostgreSQL's alone (none today): it stays empty, as checked
        plan[name] = _map_table(src, pg, name)
    return [plan[n] for n in _parents_first(pg, list(plan))]


def _map_table(src: sqlite3.Connection, pg: psycopg.Connection, name: str) -> _Table:
    lite = [r[1] for r in src.execute(f"PRAGMA table_info({_quote(name)})")]
    rows = pg.execute(
        "SELECT attname, attidentity <> '', attgenerated <> '' FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (sql.Identifier(name).as_string(pg),)).fetchall()
    columns: list[str] = []
    source: list[str] = []
    identities: list[str] = []
    for column, identity, generated in rows:
        if identity:
            identities.append(column)
        if generated:
            continue        # computed by PostgreSQL (staff.rowid copies user_id)
        if column in lite:
            source.append(column)
        elif column == "rowid":
            source.append("rowid")      # SQLite's implicit rowid: the insertion order
        else:
            raise CopyError(f"the PostgreSQL table {name} has a column {column} the SQLite one lacks; the schemas differ")
        columns.append(column)
    extra = [c for c in lite if c not in columns]
    if extra:
        raise CopyError(f"the SQLite table {name} has a column {extra[0]} the PostgreSQL one lacks; the schemas differ")
    return _Table(name, tuple(columns), tuple(source), tuple(identities))


def _parents_first(pg: psycopg.Connection, names: list[str]) -> list[str]:
    """The tables in an order where each comes after the tables its foreign keys point to
    (a table pointing at itself, as tickets.repeat_of does, is checked at the end of its COPY)."""
    parents: dict[str, set[str]] = {n: set() for n in names}
    for child, parent in pg.execute(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
            " JOIN pg_namespace s ON s.oid = c.connamespace WHERE c.contype = 'f' AND s.nspname = current_schema()"):
        child, parent = child.strip('"'), parent.strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    done: set[str] = set()
    while len(ordered) < len(names):
        ready = sorted(n for n in names if n not in done and parents[n] <= done)
        if not ready:
            raise CopyError("the tables' foreign keys form a cycle; cannot order the copy")
        ordered.extend(ready)
        done.update(ready)
    return ordered


def _set_foreign_keys_aside(pg: psycopg.Connection) -> list[tuple[str, str, str]]:
    """Drop the foreign keys for the copy; :func:`_restore_foreign_keys` adds them back,
    checking every row at once. Checked row by row, they made COPY about twice as slow
    (measured: 885,000 ledger rows, 15 s with, 9 s without, re-adding 0.2 s); pg_restore loads
    data the same way. Inside the transaction nobody else sees the table without them, and a
    rollback brings them back. A user who may not alter the tables (not their owner) copies
    with the keys in place, only slower.
    (table, constraint, definition) of each dropped key."""
    keys = [(t, n, d) for t, n, d in pg.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_namespace s ON s.oid = c.connamespace WHERE c.contype = 'f' AND s.nspname = current_schema()"
        " ORDER BY 1, 2")]
    try:
        with pg.transaction():          # a savepoint: a refusal leaves the keys as they were
            for table, name, _ in keys:
                pg.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        log.info("not the tables' owner: copying with the foreign keys checked row by row")
        return []
    return keys


def _restore_foreign_keys(pg: psycopg.Connection, keys: list[tuple[str, str, str]]) -> None:
    for table, name, definition in keys:
        try:
            pg.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)))
        except psycopg.Error as e:
            raise CopyError(f"the copied rows break a foreign key of {table}: {_safe_reason(e)}; "
                            f"the copy was rolled back, nothing is left in the target") from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_table(src: sqlite3.Connection, pg: psycopg.Connection, table: _Table, digest: hashlib._Hash | None) -> int:
    select = f"SELECT {', '.join(_quote(c) for c in table.source)} FROM {_quote(table.name)} ORDER BY rowid"
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(table.name), columns=sql.SQL(", ").join(map(sql.Identifier, table.columns)))
    ledger = _ledger_positions(table) if digest is not None else None
    count = 0
    try:
        with pg.cursor() as cur, cur.copy(statement) as copy:
            rows = src.execute(select)
            while batch := rows.fetchmany(_FETCH):
                for row in batch:
                    copy.write_row(row)
                count += len(batch)
                if ledger is not None:
                    _digest_rows(digest, batch, ledger)
    except psycopg.Error as e:
        raise CopyError(f"cannot copy table {table.name}: {_safe_reason(e)}; nothing was copied") from None
    log.debug("copied %d rows of %s", count, table.name)
    return count


def _ledger_positions(table: _Table) -> tuple[int, int, int, int]:
    owner = _LEDGERS[table.name]
    return tuple(table.columns.index(c) for c in ("id", owner, "kind", "at"))   # type: ignore[return-value]


def _digest_rows(digest, rows: Iterable[tuple], positions: tuple[int, int, int, int]) -> None:
    # The same text PostgreSQL's side builds in _ledger_checksum, row by row in id order.
    for row in rows:
        digest.update("{}:{}:{}:{}\n".format(*(row[i] for i in positions)).encode())


def _safe_reason(e: psycopg.Error) -> str:
    """PostgreSQL's reason without the data: a bad value's message quotes it, and it may be a
    resident's phone number or address. The column it was in is enough to find it."""
    diag = e.diag
    if isinstance(e, psycopg.errors.DataError):
        # The context reads "COPY tickets, line 7, column accepted_by: \"…the value…\"".
        where = re.search(r"line (\d+), column (\w+)", diag.context or "")
        at = f" (row {where.group(1)} in rowid order, column {where.group(2)})" if where else ""
        return f"a value PostgreSQL cannot store{at}: {type(e).__name__}"
    return diag.message_primary or _last_line(e)


def _advance_sequences(pg: psycopg.Connection, table: _Table) -> None:
    """Each identity column's sequence past the largest copied value, so the next new row gets
    the next id (an empty table's sequence is left to start at 1)."""
    for column in table.identities:
        pg.execute(sql.SQL(
            "SELECT setval(pg_get_serial_sequence({name}, {col}), m) FROM (SELECT max({column}) AS m FROM {table}) AS t"
            " WHERE m IS NOT NULL").format(
                name=sql.Literal(sql.Identifier(table.name).as_string(pg)), col=sql.Literal(column),
                column=sql.Identifier(column), table=sql.Identifier(table.name)))


def _verify(src: sqlite3.Connection, pg: psycopg.Connection, copied: list[tuple[str, int]], digests: dict[str, str]) -> None:
    """Count again on both sides, inside both transactions, and compare the ledgers."""
    for name, streamed in copied:
        expected = src.execute(f"SELECT COUNT(*) FROM {_quote(name)}").fetchone()[0]
        got = pg.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(name))).fetchone()[0]
        if not expected == streamed == got:
            raise CopyError(f"table {name} has {got} rows in PostgreSQL but {expected} in SQLite; "
                            f"the copy was rolled back, nothing is left in the target")
    for name, digest in digests.items():
        if _ledger_checksum(pg, name) != digest:
            raise CopyError(f"the ledger {name} differs in PostgreSQL from SQLite's (ids, kinds or times); "
                            f"the copy was rolled back, nothing is left in the target")


def _ledger_checksum(pg: psycopg.Connection, name: str) -> str:
    owner = _LEDGERS[name]
    query = sql.SQL(
        "SELECT md5(COALESCE(string_agg(id::text || ':' || {owner}::text || ':' || kind || ':' || at || E'\\n', ''"
        " ORDER BY id), '')) FROM {table}").format(owner=sql.Identifier(owner), table=sql.Identifier(name))
    return pg.execute(query).fetchone()[0]
