"""What differs between the two backends, in one place.

heatbot's SQL is written once, in the part of SQL that SQLite and PostgreSQL share (``ON
CONFLICT``, ``RETURNING``, ``CASE``, ``COALESCE``, window functions, ISO time text that sorts as
time does). Three things still differ, and this module and the PostgreSQL schema hold them:

- **Parameters.** Statements are written with SQLite's ``?`` and ``:name`` placeholders;
  psycopg wants ``%s`` and ``%(name)s``. :func:`to_pyformat` rewrites them with sqlparse's
  lexer, so a ``?`` inside a string literal, a quoted name or a comment is left alone, and a
  literal ``%`` is doubled. Each statement is converted once and cached.
- **Functions SQLite has and PostgreSQL lacks** (``json_extract``, ``julianday``): the
  PostgreSQL schema defines them with SQLite's meaning (text in, text or number out), so a
  query does not need two spellings. Where a JSON value is compared with a number, the SQL
  casts it (``CAST(json_extract(…) AS INTEGER)``), which both read the same way.
- **Errors.** Callers catch :data:`DATABASE_ERRORS` rather than one driver's class, and ask
  :func:`is_transient` whether waiting could help.
"""
from __future__ import annotations

import functools
import sqlite3
from typing import Final

import psycopg
from sqlparse import tokens as T
from sqlparse.lexer import Lexer

__all__ = [
    "DATABASE_ERRORS", "OPERATIONAL_ERRORS", "POSTGRESQL", "SQLITE", "backend_of", "is_postgres_url", "is_transient", "to_pyformat",
]

SQLITE: Final = "sqlite"
POSTGRESQL: Final = "postgresql"

# Any error a database operation can raise, whichever backend is in use.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)

# The errors of a database that is unavailable (busy, full, unreachable) rather than of a bad
# statement, whichever backend.
OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.OperationalError)

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")

# SQLite's words for a database that is busy or full now and may not be in a moment.
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "database table is locked", "database or disk is full")


def is_postgres_url(value: str) -> bool:
    return value.startswith(_POSTGRES_SCHEMES)


def backend_of(conn: object) -> str:
    """Which backend a connection talks to (the PostgreSQL adapter says so itself)."""
    return getattr(conn, "backend", SQLITE)


def is_transient(error: BaseException) -> bool:
    """A database that is busy, full or briefly unreachable: trying again later may work.

    For PostgreSQL that is a lost connection or a serialisation conflict; a constraint or a
    syntax error is a bug, not bad luck, and retrying would only repeat it."""
    if isinstance(error, sqlite3.OperationalError):
        return any(s in str(error).lower() for s in _SQLITE_TRANSIENT)
    # psycopg's OperationalError covers a lost connection, a server shutting down, and the
    # serialisation and deadlock failures a transaction may simply be run again after.
    return isinstance(error, psycopg.OperationalError)


@functools.lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """``sql`` with SQLite's placeholders (``?``, ``:name``) as psycopg's (``%s``, ``%(name)s``).

    A statement uses one style or the other, as sqlite3 requires too."""
    out: list[str] = []
    for kind, value in Lexer.get_default_instance().get_tokens(sql):
        if kind in T.Name.Placeholder:
            if value == "?":
                out.append("%s")
            elif value.startswith(":"):
                out.append(f"%({value[1:]})s")
            else:           # %s, $1: not ours; refuse rather than guess
                raise ValueError(f"unsupported placeholder {value!r} in SQL")
        else:
            out.append(value.replace("%", "%%"))
    return "".join(out)
