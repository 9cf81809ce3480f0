"""PostgreSQL through psycopg 3, behind the same small surface the storage modules use on
aiosqlite: ``execute`` (awaited, or as ``async with … as cur``), ``execute_fetchall``,
``executemany``, and cursors with ``fetchone``, ``fetchall`` and ``rowcount``. Storage code
therefore runs unchanged on either backend; only :mod:`storage.dialect` knows the difference.

Parameters are bound client-side (psycopg's ``AsyncClientCursor``): a value becomes a literal
and PostgreSQL types it from its context, as SQLite would, so ``? IS NULL OR centre_id = ?``
and a text time compared with a text column need no casts. psycopg quotes every value; nothing
is pasted into SQL by hand.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import IntDumper, NumericLoader

from storage.dialect import POSTGRESQL, to_pyformat

__all__ = ["PgConnection", "PgCursor", "Row", "connect", "describe_url"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10        # seconds: an unreachable host fails start-up with one line, not a hang


class Row:
    """One result row, read by position or by column name, as ``sqlite3.Row`` is."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | slice | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row{self._values!r}"


class _FlagDumper(IntDumper):
    """Python's True/False as 1/0: heatbot's flags are INTEGER columns, as in SQLite, and
    PostgreSQL will not put a boolean into one."""

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumberLoader(NumericLoader):
    """NUMERIC (what SUM over BIGINT and AVG give) as int or float, as SQLite returns them,
    rather than Decimal, which the rest of the code never expects."""

    def load(self, data) -> int | float:
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


def _row_factory(cursor: psycopg.AsyncCursor) -> Any:
    names = [c.name for c in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}
    return lambda values: Row(values, index)


class PgCursor:
    """The rows of one statement, already fetched (every caller reads them all at once)."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    @property
    def lastrowid(self) -> int:
        raise TypeError("PostgreSQL has no lastrowid: write INSERT … RETURNING id")

    async def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Row]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> PgCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


class _Statement:
    """``conn.execute(...)``: awaited it gives the cursor; ``async with`` gives it too."""

    def __init__(self, conn: PgConnection, sql: str, params: Any) -> None:
        self._run = conn._run(sql, params)

    def __await__(self):
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc: object) -> None:
        pass


class PgConnection:
    backend = POSTGRESQL

    def __init__(self, conn: psycopg.AsyncConnection, url: str) -> None:
        self._conn = conn
        self._url = url

    @property
    def raw(self) -> psycopg.AsyncConnection:
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Any = ()) -> _Statement:
        return _Statement(self, sql, params)

    async def execute_fetchall(self, sql: str, params: Any = ()) -> list[Row]:
        cur = await self._run(sql, params)
        return await cur.fetchall()

    async def executemany(self, sql: str, seq: Iterable[Any]) -> None:
        await self._reconnect_if_lost()
        async with self._conn.cursor() as cur:
            await cur.executemany(to_pyformat(sql), list(seq))

    async def executescript(self, sql: str) -> None:
        """Several statements with no parameters, as written (a migration)."""
        await self._reconnect_if_lost()
        async with self._conn.cursor() as cur:
            await cur.execute(sql.encode())       # bytes: psycopg leaves % and ? alone

    async def _reconnect_if_lost(self) -> None:
        """A server restarted or a connection cut by the network: connect again before the next
        statement. The statement that met the loss failed with an OperationalError, which
        callers treat as "try again" (storage.dialect.is_transient); a transaction it was part
        of was never committed, so nothing half-done is left behind."""
        if self._conn.closed or self._conn.broken:
            log.warning("the connection to PostgreSQL was lost; connecting again")
            self._conn = await _open(self._url)

    async def _run(self, sql: str, params: Any) -> PgCursor:
        await self._reconnect_if_lost()
        async with self._conn.cursor() as cur:
            await cur.execute(to_pyformat(sql), _params(params))
            rows = await cur.fetchall() if cur.description is not None else []
            return PgCursor(rows, cur.rowcount)

    async def close(self) -> None:
        await self._conn.close()


def _params(params: Any) -> Any:
    # Never None: psycopg leaves a statement without parameters as written, and would send the
    # doubled % of a literal (to_pyformat) to the server as it stands.
    if isinstance(params, dict):
        return params
    return tuple(params) if params is not None else ()


def describe_url(url: str, *, strict: bool = False) -> str:
    """``url`` without its password, for messages and logs (``strict``: ValueError if psycopg
    cannot read it; its message is not passed on, as it may quote the password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        if strict:
            raise ValueError("not a PostgreSQL URL") from None
        return "postgresql://…"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}{port}/{info.get('dbname', '')}"


async def connect(url: str) -> PgConnection:
    return PgConnection(await _open(url), url)


async def _open(url: str) -> psycopg.AsyncConnection:
    conn = await psycopg.AsyncConnection.connect(
        url, autocommit=True, cursor_factory=psycopg.AsyncClientCursor, row_factory=_row_factory,
        connect_timeout=CONNECT_TIMEOUT, application_name="heatbot",
        # The figures' one-off queries (/stats, the scheduled reports) spent more time compiling
        # with JIT than running; heatbot's statements are short or run once.
        options="-c jit=off",
    )
    conn.adapters.register_dumper(bool, _FlagDumper)
    conn.adapters.register_loader("numeric", _NumberLoader)
    return conn
