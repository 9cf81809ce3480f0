"""The PostgreSQL migrations (storage/migrations/postgresql/) build the same schema as the
SQLite ones: the same tables, columns in the same order, keys, foreign keys, defaults and
index names; the ledgers refuse changes with the same message; ``ORDER BY rowid`` and text
comparisons order rows the same way; and the one data migration (0002) turns old tickets into
the same deadlines.

The SQLite side is built by the real runner (``storage.db.open_database``). The PostgreSQL side
needs the server ``HEATBOT_TEST_PG`` names (``make test`` starts one; tests/pg.py): each test gets
a database of its own there, dropped afterwards, and is skipped without a server (only the
checks of the files themselves run then). Each PostgreSQL file is applied in one transaction, as
the runner applies it, so a statement that cannot run in one (CREATE INDEX CONCURRENTLY, VACUUM)
fails here.
"""
from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import storage
from storage.db import available_migrations, open_database
from tests.pg import database_url, drop_database

PG_DIR = Path(storage.__file__).resolve().parent / "migrations" / "postgresql"

# The column PostgreSQL's twins add so ``ORDER BY rowid`` works (SQLite has it implicitly).
ROWID = "rowid"
ROWID_TABLES = {"centres", "communities", "staff", "outage_communities"}
LEDGERS = ("ticket_events", "outage_events")
# Tables whose INTEGER PRIMARY KEY the code always supplies (a Telegram user or chat id, or
# another table's id): a plain BIGINT key. Every other one is assigned by the database.
SUPPLIED_KEYS = {"users", "staff", "drafts", "outage_messages", "outage_wizards", "desk_wizards",
                 "register_wizards", "followups", "chat_moves", "sender_lease"}
SQLITE_TO_PG_TYPES = {"INTEGER": {"bigint", "integer"}, "TEXT": {"text"}, "REAL": {"double precision"},
                      "BLOB": {"bytea"}}
# pg_constraint.confdeltype -> SQLite's foreign_key_list on_delete.
PG_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str           # SQLite's declared type; PostgreSQL's data_type
    required: bool      # NOT NULL, or part of the primary key (SQLite lets a TEXT key be NULL, never meant)
    default: str | None


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: frozenset[tuple[tuple[str, ...], str, tuple[str, ...], str]]   # (columns, table, columns, on delete)
    uniques: frozenset[tuple[str, ...]]


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    indexes: dict[str, Index]


# --- SQLite -------------------------------------------------------------------------------

def sqlite_schema(path: Path) -> Schema:
    with closing(sqlite3.connect(path)) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        tables: dict[str, Table] = {}
        indexes: dict[str, Index] = {}
        for name in names:
            info = conn.execute(f"PRAGMA table_info({name})").fetchall()     # cid, name, type, notnull, dflt, pk
            columns = tuple(Column(r[1], r[2].upper(), bool(r[3]) or r[5] > 0, r[4]) for r in info)
            primary_key = tuple(r[1] for r in sorted((r for r in info if r[5] > 0), key=lambda r: r[5]))
            fks: dict[int, list] = {}
            for r in conn.execute(f"PRAGMA foreign_key_list({name})"):   # id, seq, table, from, to, on_update, on_delete
                fks.setdefault(r[0], []).append(r)
            foreign_keys = frozenset(
                (tuple(r[3] for r in rows), rows[0][2], tuple(r[4] for r in rows), rows[0][6])
                for rows in (sorted(v, key=lambda r: r[1]) for v in fks.values()))
            uniques = set()
            for _, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})"):
                cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({index})"))
                if origin == "u":
                    uniques.add(cols)
                elif origin == "c":
                    indexes[index] = Index(name, cols, bool(unique), bool(partial))
            tables[name] = Table(columns, primary_key, foreign_keys, frozenset(uniques))
    return Schema(tables, indexes)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Path:
    """A fresh SQLite file migrated by the real runner."""
    path = tmp_path / "heatbot.db"
    db = await open_database(path)
    await db.close()
    return path


# --- PostgreSQL ---------------------------------------------------------------------------

def pg_schema(conn) -> Schema:
    tables: dict[str, Table] = {}
    names = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
    for name in names:
        columns = tuple(
            Column(r[0], r[1], r[2] == "NO", _pg_default(r[3]))
            for r in conn.execute(
                "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position", (name,)))
        constraints = conn.execute(
            "SELECT c.contype, "
            "       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
            "             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), "
            "       f.relname, "
            "       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
            "             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i), "
            "       c.confdeltype "
            "FROM pg_constraint c LEFT JOIN pg_class f ON f.oid = c.confrelid "
            "WHERE c.conrelid = %s::regclass", (f"public.{name}",)).fetchall()
        primary_key = next((tuple(r[1]) for r in constraints if r[0] == "p"), ())
        foreign_keys = frozenset((tuple(r[1]), r[2], tuple(r[3]), PG_ON_DELETE[r[4]]) for r in constraints if r[0] == "f")
        uniques = frozenset(tuple(r[1]) for r in constraints if r[0] == "u")
        tables[name] = Table(columns, primary_key, foreign_keys, uniques)
    indexes = {
        r[0]: Index(r[1], tuple(r[2]), r[3], r[4])
        for r in conn.execute(
            "SELECT i.relname, t.relname, "
            "       ARRAY(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, o) "
            "             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), "
            "       x.indisunique, x.indpred IS NOT NULL "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace s ON s.oid = t.relnamespace "
            "WHERE s.nspname = 'public' "
            # indexes of their own, not the ones behind a PRIMARY KEY or UNIQUE constraint
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u'))")
    }
    return Schema(tables, indexes)


def _pg_default(value: str | None) -> str | None:
    """'resident'::text -> 'resident', as SQLite reports the default."""
    return None if value is None else re.sub(r"::[a-z ]+$", "", value)


def pg_files() -> list[tuple[int, str, str]]:
    return available_migrations(PG_DIR)


def apply(conn, files: list[tuple[int, str, str]]) -> None:
    """Each file in one transaction, as the runner applies it."""
    for _, name, sql in files:
        try:
            with conn.transaction():
                conn.execute(sql)
        except psycopg.Error as e:
            pytest.fail(f"{name} does not apply to PostgreSQL: {e}")


@contextmanager
def new_database(server_url: str, options: str) -> Iterator:
    """A connection to a new database created with ``options``, dropped afterwards."""
    name = f"heatbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} {options}")
    try:
        with psycopg.connect(database_url(server_url, name), autocommit=True) as conn:
            yield conn
    finally:
        drop_database(server_url, name)


@pytest.fixture
def pg_empty(pg_url: str) -> Iterator:
    """A connection to a new, empty database (tests/pg.py: on the server HEATBOT_TEST_PG names,
    dropped after the test; the test is skipped without one)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def pg(pg_empty):
    """A new database with every PostgreSQL migration applied."""
    apply(pg_empty, pg_files())
    return pg_empty


# --- The files ----------------------------------------------------------------------------

def test_every_sqlite_migration_has_a_postgresql_twin_of_the_same_name_and_no_other():
    sqlite_names = [name for _, name, _ in available_migrations()]
    postgresql_names = [name for _, name, _ in pg_files()]
    assert sqlite_names, "no SQLite migrations found"
    assert postgresql_names == sqlite_names


def test_the_postgresql_migrations_leave_the_schema_version_to_the_runner():
    for _, name, sql in pg_files():
        code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).lower()
        assert not re.search(r"user_version|schema_version|heatbot_schema", code), name
        assert not re.search(r"\b(begin|commit|rollback)\s*;", re.sub(r"\$\$.*?\$\$", "", code, flags=re.S)), \
            f"{name} manages its own transaction; the runner gives each file one"


async def test_the_runner_brings_a_new_postgresql_database_to_the_newest_version_with_these_files_once(sqlite_db, pg_url,
                                                                                                       pg_empty):
    url = pg_url
    for _ in range(2):      # the second start finds nothing to do
        db = await open_database(url)
        try:
            assert await db.user_version() == len(pg_files())
        finally:
            await db.close()
    assert set(pg_schema(pg_empty).tables) - {"heatbot_schema"} == set(sqlite_schema(sqlite_db).tables)


# --- The schema -----------------------------------------------------------------------------

def test_postgresql_has_the_same_tables_as_sqlite(sqlite_db, pg):
    assert set(pg_schema(pg).tables) == set(sqlite_schema(sqlite_db).tables)


def test_every_table_has_the_same_columns_in_the_same_order_with_the_same_nullness_and_defaults(sqlite_db, pg):
    lite, post = sqlite_schema(sqlite_db), pg_schema(pg)
    for name, table in lite.tables.items():
        pg_columns = [c for c in post.tables[name].columns if not (name in ROWID_TABLES and c.name == ROWID)]
        assert [c.name for c in pg_columns] == [c.name for c in table.columns], name
        for mine, theirs in zip(table.columns, pg_columns):
            assert theirs.required == mine.required, f"{name}.{mine.name}: NOT NULL differs"
            assert theirs.default == mine.default, f"{name}.{mine.name}: default differs"
            assert theirs.type in SQLITE_TO_PG_TYPES[mine.type], f"{name}.{mine.name}: {mine.type} became {theirs.type}"


def test_every_table_has_the_same_primary_key_foreign_keys_and_unique_constraints(sqlite_db, pg):
    lite, post = sqlite_schema(sqlite_db), pg_schema(pg)
    for name, table in lite.tables.items():
        theirs = post.tables[name]
        assert theirs.primary_key == table.primary_key, name
        assert theirs.foreign_keys == table.foreign_keys, name
        assert theirs.uniques == table.uniques, name


def test_every_index_has_the_same_name_table_columns_uniqueness_and_partialness(sqlite_db, pg):
    assert pg_schema(pg).indexes == sqlite_schema(sqlite_db).indexes


def test_telegram_ids_and_row_ids_are_64_bit_and_the_database_assigns_the_ids_the_code_leaves_out(sqlite_db, pg):
    lite, post = sqlite_schema(sqlite_db), pg_schema(pg)
    identity = {(r[0], r[1]): r[2] for r in pg.execute(
        "SELECT table_name, column_name, identity_generation FROM information_schema.columns "
        "WHERE table_schema = 'public' AND is_identity = 'YES'")}
    for name, table in lite.tables.items():
        pg_types = {c.name: c.type for c in post.tables[name].columns}
        keyed = {c for fk in table.foreign_keys for c in fk[0]} | set(table.primary_key)
        for column in table.columns:
            holds_an_id = column.name.endswith(("id", "_by")) or column.name in keyed
            if column.type == "INTEGER" and holds_an_id:
                assert pg_types[column.name] == "bigint", f"{name}.{column.name} holds an id: BIGINT"
    integer_keys = {name for name, table in lite.tables.items() if len(table.primary_key) == 1
                    and next(c for c in table.columns if c.name == table.primary_key[0]).type == "INTEGER"}
    assert SUPPLIED_KEYS <= integer_keys
    for name in integer_keys:
        key = lite.tables[name].primary_key[0]
        if name in SUPPLIED_KEYS:
            assert (name, key) not in identity, f"{name}: the code supplies its key"
        else:
            # BY DEFAULT, not ALWAYS: the seed, the benches and a copy from SQLite insert ids.
            assert identity.get((name, key)) == "BY DEFAULT", f"{name}: the database assigns its id"


def test_every_text_column_compares_by_bytes_as_sqlite_does(pg):
    loose = pg.execute(
        "SELECT table_name || '.' || column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'").fetchall()
    assert loose == []


# --- Meaning ---------------------------------------------------------------------------------

def _ticket_sql() -> str:
    return ("INSERT INTO tickets(id, category, level, status, resident_lang, received_at, accept_by, onsite_by, close_by) "
            "VALUES (1, 'not_warm', 'major', 'new', 'zh', '2026-01-15T01:00:00+00:00', '2026-01-15T01:30:00+00:00', "
            "'2026-01-15T05:00:00+00:00', '2026-01-16T01:00:00+00:00')")


LEDGER_ROWS = {
    "ticket_events": [_ticket_sql(),
                      "INSERT INTO ticket_events(ticket_id, at, kind) VALUES (1, '2026-01-15T01:00:00+00:00', 'filed')"],
    "outage_events": ["INSERT INTO outages(id, kind, status, reason, starts_at, ends_at, original_ends_at, chat_id, created_by, "
                      "created_at) VALUES (1, 'planned', 'pending', 'pipe', '2026-01-16', '2026-01-17', '2026-01-17', "
                      "-1001234567890, 42, '2026-01-15T01:00:00+00:00')",
                      "INSERT INTO outage_events(outage_id, at, kind) VALUES (1, '2026-01-15T01:00:00+00:00', 'created')"],
}


@pytest.mark.parametrize("ledger", LEDGERS)
@pytest.mark.parametrize("change", ["UPDATE {t} SET kind = 'forged'", "DELETE FROM {t}"])
def test_a_ledger_refuses_to_be_changed_on_both_backends_with_the_same_message(sqlite_db, pg, ledger, change):
    sql = change.format(t=ledger)
    message = f"{ledger} is append-only"
    with closing(sqlite3.connect(sqlite_db, isolation_level=None)) as lite:
        for insert in LEDGER_ROWS[ledger]:
            lite.execute(insert)
        with pytest.raises(sqlite3.IntegrityError, match=message):
            lite.execute(sql)
        left = lite.execute(f"SELECT kind FROM {ledger}").fetchall()
    for insert in LEDGER_ROWS[ledger]:
        pg.execute(insert)
    with pytest.raises(psycopg.errors.IntegrityError, match=message):
        pg.execute(sql)
    assert pg.execute(f"SELECT kind FROM {ledger}").fetchall() == left == [("filed" if ledger == "ticket_events" else "created",)]


@pytest.mark.parametrize("ledger", LEDGERS)
def test_a_ledger_cannot_be_emptied_by_truncate_either(pg, ledger):
    for insert in LEDGER_ROWS[ledger]:
        pg.execute(insert)
    with pytest.raises(psycopg.errors.IntegrityError, match=f"{ledger} is append-only"):
        pg.execute(f"TRUNCATE {ledger} CASCADE")
    assert pg.execute(f"SELECT count(*) FROM {ledger}").fetchone()[0] == 1


# The same statements on both backends: rows inserted out of key order, some replaced the way
# storage.org.replace_org replaces them; then the order ORDER BY rowid gives.
ROWID_SCRIPTS = {
    "centres": ("id", [
        "INSERT INTO centres(id, name_zh, name_en, kind, chat_id) VALUES ('c', '丙', 'C', 'repair', -1003)",
        "INSERT INTO centres(id, name_zh, name_en, kind, chat_id) VALUES ('a', '甲', 'A', 'repair', -1001)",
        "INSERT INTO centres(id, name_zh, name_en, kind, chat_id) VALUES ('b', '乙', 'B', 'repair', -1002)",
        "INSERT INTO centres(id, name_zh, name_en, kind, chat_id) VALUES ('a', '甲', 'A2', 'repair', -1001) "
        "ON CONFLICT(id) DO UPDATE SET name_en = excluded.name_en",
        "DELETE FROM centres WHERE id = 'c'",
        "INSERT INTO centres(id, name_zh, name_en, kind, chat_id) VALUES ('0', '零', 'Zero', 'repair', -1000)",
    ]),
    "communities": ("id", [
        "INSERT INTO communities(id, name_zh, name_en, search) VALUES ('z', '紫', 'Z', 'z')",
        "INSERT INTO communities(id, name_zh, name_en, search) VALUES ('m', '明', 'M', 'm')",
        "DELETE FROM communities",
        "INSERT INTO communities(id, name_zh, name_en, search) VALUES ('q', '青', 'Q', 'q')",
        "INSERT INTO communities(id, name_zh, name_en, search) VALUES ('b', '北', 'B', 'b')",
        "INSERT INTO communities(id, name_zh, name_en, search) VALUES ('x', '新', 'X', 'x')",
    ]),
    "staff": ("user_id", [
        "INSERT INTO staff(user_id, name, phone, role) VALUES (3000000001, '王', '1', 'crew')",
        "INSERT INTO staff(user_id, name, phone, role) VALUES (17, '李', '2', 'crew')",
        "INSERT INTO staff(user_id, name, phone, role) VALUES (500, '张', '3', 'dispatcher')",
    ]),
    "outage_communities": ("community_id", [
        LEDGER_ROWS["outage_events"][0],
        "INSERT INTO outage_communities(outage_id, community_id) VALUES (1, 'west')",
        "INSERT INTO outage_communities(outage_id, community_id) VALUES (1, 'east')",
        "INSERT INTO outage_communities(outage_id, community_id) VALUES (1, 'north')",
    ]),
}


@pytest.mark.parametrize("table", sorted(ROWID_TABLES))
def test_order_by_rowid_gives_the_same_order_on_both_backends(sqlite_db, pg, table):
    key, script = ROWID_SCRIPTS[table]
    with closing(sqlite3.connect(sqlite_db, isolation_level=None)) as lite:
        for sql in script:
            lite.execute(sql)
        expected = [r[0] for r in lite.execute(f"SELECT {key} FROM {table} ORDER BY rowid")]
    for sql in script:
        pg.execute(sql)
    assert [r[0] for r in pg.execute(f"SELECT {key} FROM {table} ORDER BY rowid")] == expected
    assert len(expected) == 3


async def test_tickets_filed_before_the_deadline_clock_get_the_same_deadlines_on_both_backends(tmp_path: Path, pg_empty):
    statuses = ["new", "accepted", "arrived", "closed"]
    tickets = [
        "INSERT INTO tickets(id, category, level, status, resident_lang, received_at, accept_by, onsite_by, close_by) "
        f"VALUES ({n}, 'not_warm', 'major', '{status}', 'zh', '2026-01-15T0{n}:00:00+00:00', 'A{n}', 'O{n}', 'C{n}')"
        for n, status in enumerate(statuses, start=1)
    ]
    query = ("SELECT ticket_id, kind, due_at, original_due_at, state, stage, next_at, met_at, late, delayed "
             "FROM deadlines ORDER BY ticket_id, kind")
    first, rest = available_migrations()[:1], available_migrations()[1:]
    db = await open_database(tmp_path / "old.db", migrate=False)
    try:
        await db.migrate(first)
        for sql in tickets:
            await db.conn.execute(sql)
        await db.migrate(first + rest)
        expected = [tuple(r) for r in await db.conn.execute_fetchall(query)]
    finally:
        await db.close()
    apply(pg_empty, pg_files()[:1])
    for sql in tickets:
        pg_empty.execute(sql)
    apply(pg_empty, pg_files()[1:])
    assert len(expected) == 3 * len(statuses)
    assert [tuple(r) for r in pg_empty.execute(query)] == expected


NAMES = ["北区维修服务中心", "南区维修服务中心", "管网管理站", "和平苑", "丽景湾", "repair-north", "Repair_south",
         "network station", "1-10-101", "1-2-301", "2026-01-15T01:00:00.000000Z", "2026-01-15"]


def test_text_compares_and_sorts_as_in_sqlite_in_a_database_created_with_a_chinese_locale(sqlite_db, pg_server):
    """A company's IT creates the database with its own locale; zh sorts Chinese by pinyin and
    ignores case and punctuation. The columns' own collation keeps SQLite's byte order."""
    rows = [(f"c{n}", name, "x", "x") for n, name in enumerate(NAMES)]
    query = "SELECT name_zh FROM communities WHERE name_zh < 'a' OR name_zh > 'z' ORDER BY name_zh"
    with closing(sqlite3.connect(sqlite_db, isolation_level=None)) as lite:
        lite.executemany("INSERT INTO communities(id, name_zh, name_en, search) VALUES (?, ?, ?, ?)", rows)
        expected = [r[0] for r in lite.execute(query)]
    with ExitStack() as stack:
        try:
            conn = stack.enter_context(new_database(pg_server, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'zh'"))
        except psycopg.errors.FeatureNotSupported as e:      # a server built without ICU
            pytest.skip(f"this PostgreSQL server has no ICU: {e}")
        apply(conn, pg_files())
        conn.cursor().executemany("INSERT INTO communities(id, name_zh, name_en, search) VALUES (%s, %s, %s, %s)", rows)
        assert [r[0] for r in conn.execute(query)] == expected
        # The database's own order differs, so it is the columns' collation that keeps SQLite's.
        assert [r[0] for r in conn.execute(query.replace("name_zh", 'name_zh COLLATE "default"'))] != expected
    assert "Repair_south" in expected and "北区维修服务中心" in expected and "repair-north" not in expected


# SQLite's functions the shared SQL uses, defined in PostgreSQL's 0001 (storage/dialect.py): the
# values the code reads from the ledger's details, stored times, and local-day shifts. Objects and
# arrays are not compared: jsonb spaces them differently, and no query extracts one.
JSON_CASES = [(doc, path) for doc in ('{"limit": "accept", "late": true, "n": 5, "r": 4.5}',
                                      '{"late": false, "to": "repair-north", "x": null}', '{"centre": "中心"}', "{}")
              for path in ("$.limit", "$.late", "$.n", "$.r", "$.to", "$.x", "$.centre", "$.missing")]
TIMES = ["2026-01-15T01:00:00.000000Z", "2026-01-15T16:30:00.123456Z", "2025-12-31T23:59:59.999999Z"]


def test_sqlites_functions_give_sqlites_answers_on_postgresql(pg):
    lite = sqlite3.connect(":memory:")
    try:
        for doc, path in JSON_CASES:
            expected = lite.execute("SELECT json_extract(?, ?)", (doc, path)).fetchone()[0]
            got = pg.execute("SELECT json_extract(%s, %s)", (doc, path)).fetchone()[0]
            assert got == (None if expected is None else str(expected)), (doc, path)
        for t in TIMES:
            days, *local = lite.execute("SELECT julianday(?), date(?, '+480 minutes'), date(?, '-300 minutes')",
                                        (t, t, t)).fetchone()
            got_days, *got_local = pg.execute("SELECT julianday(%s), date(%s, '+480 minutes'), date(%s, '-300 minutes')",
                                              (t, t, t)).fetchone()
            assert got_days == pytest.approx(days, abs=1e-7)      # SQLite keeps milliseconds
            assert got_local == local, t
        values = "SELECT '1' AS v UNION ALL SELECT NULL UNION ALL SELECT 'a\"b' UNION ALL SELECT '中'"
        for query in (f"SELECT json_group_array(v) FROM ({values}) AS s", "SELECT json_group_array(v) FROM (SELECT 'x' AS v WHERE 1 = 0) AS s"):
            assert pg.execute(query).fetchone()[0] == lite.execute(query).fetchone()[0]
    finally:
        lite.close()
