"""PostgreSQL for the tests: the server scripts/test started, and a fresh database per test.

``scripts/test`` (``make test``, CI) starts a throwaway server with ``scripts/postgres`` and
exports its admin URL as ``HEATBOT_TEST_PG``. Here:

- ``pg_server`` (session): that URL. Without it (pytest run directly) the test is skipped,
  saying how to get a server; a URL given but not answering fails instead of skipping, since
  someone meant the tests to run.
- ``pg_url`` (function): the URL of a new, empty database of its own, dropped after the test
  (``WITH (FORCE)``, so a connection the test left open does not keep it alive).
- ``create_database(server_url, template=None)``: a new database, optionally a copy of
  ``template``. Creating one takes ~22 ms and copying a 30-table template ~38 ms (measured with
  the server's default strategy, WAL_LOG, which beat FILE_COPY by ~10% both ways), so one
  migrated template per session copied per test costs far less than migrating per test.
  PostgreSQL copies a template only while nobody is connected to it: close the connection that
  migrated it first.

Enabled from tests/conftest.py (``pytest_plugins``). Tests run in one process (no xdist), so
names only need to be unique on the server, which a random suffix makes them.
"""
from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from storage.db import open_database

__all__ = [
    "SERVER_ENV", "create_database", "database_exists", "database_name", "database_url",
    "drop_database", "role_with_password", "temporary_database",
]

log = logging.getLogger(__name__)

SERVER_ENV = "HEATBOT_TEST_PG"
_PREFIX = "heatbot_test_"


def database_url(server_url: str, name: str) -> str:
    """The server URL pointing at database ``name`` instead (host, port, user kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    return conninfo_to_dict(url)["dbname"]


def _where(url: str) -> str:
    """Host and port only, for messages: a URL may carry a password."""
    info = conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"


def create_database(server_url: str, template: str | None = None) -> str:
    """A new database with a unique name (a copy of ``template`` if given); returns its URL."""
    name = f"{_PREFIX}{uuid.uuid4().hex[:12]}"
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    # CREATE DATABASE cannot run inside a transaction.
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(query)
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


PASSWORD_CHECKED = "heatbot_password_checked"


@contextmanager
def role_with_password(server_url: str, password: str) -> Iterator[str]:
    """A login role whose password the server checks (scripts/postgres lets everyone else in
    without one): its name, for the ``with`` block; dropped afterwards."""
    name = f"heatbot_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_CHECKED} NOLOGIN; "
                      f"EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(name), sql.Literal(password), sql.Identifier(PASSWORD_CHECKED)))
    try:
        yield name
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@contextmanager
def temporary_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new database's URL for the ``with`` block; dropped afterwards however the block ends."""
    url = create_database(server_url, template)
    try:
        yield url
    finally:
        drop_database(server_url, database_name(url))


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = os.environ.get(SERVER_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL: {SERVER_ENV} is not set (`make test` sets it when it can start a "
                    f"throwaway server; or run `bash scripts/postgres start DIR` and export the URL it prints)")
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            version = conn.info.server_version
    except psycopg.Error as exc:
        pytest.fail(f"{SERVER_ENV} is set but PostgreSQL at {_where(url)} does not answer: "
                    f"{str(exc).strip().splitlines()[0]}", pytrace=False)
    # DROP DATABASE ... WITH (FORCE) came in PostgreSQL 13.
    if version < 130000:
        pytest.fail(f"PostgreSQL at {_where(url)} is version {version}; the tests need 13 or newer",
                    pytrace=False)
    log.debug("PostgreSQL %s at %s", version, _where(url))
    return url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    with temporary_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per run; each test's database is a copy of it
    (about 40 ms, where migrating each would take seconds)."""
    url = create_database(pg_server)

    async def migrate() -> None:
        db = await open_database(url)
        await db.close()        # PostgreSQL copies a template only while nobody is connected
    asyncio.run(migrate())
    yield database_name(url)
    drop_database(pg_server, database_name(url))


@pytest.fixture
def pg_database(pg_server: str, pg_template: str) -> Iterator[str]:
    """A fresh database with heatbot's schema: a copy of :func:`pg_template`."""
    with temporary_database(pg_server, pg_template) as url:
        yield url
