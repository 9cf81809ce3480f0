"""One SQL text for both backends: SQLite's placeholders become psycopg's, and nothing else in
the statement changes (a ? or : inside a string, a quoted name or a comment is text)."""
from __future__ import annotations

import pytest

from storage.db import open_database
from storage.dialect import to_pyformat


@pytest.mark.parametrize(
    ("sqlite", "psycopg"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("SELECT :start, :end_2", "SELECT %(start)s, %(end_2)s"),
        ("SELECT '?', 'a:b' WHERE x = ?", "SELECT '?', 'a:b' WHERE x = %s"),
        ("SELECT \"odd?name\" FROM t", "SELECT \"odd?name\" FROM t"),
        ("SELECT 1 -- why? no reason\nWHERE a = ?", "SELECT 1 -- why? no reason\nWHERE a = %s"),
        ("SELECT x FROM t WHERE e LIKE '%blocked%' AND a = ?", "SELECT x FROM t WHERE e LIKE '%%blocked%%' AND a = %s"),
        ("SELECT x::text FROM t", "SELECT x::text FROM t"),
        ("SELECT printf('%04d', id) FROM t", "SELECT printf('%%04d', id) FROM t"),
    ],
    ids=["qmarks", "named", "inside-strings", "quoted-name", "comment", "percent-in-like", "cast", "percent-format"],
)
def test_sqlite_placeholders_become_psycopgs_and_nothing_else_changes(sqlite: str, psycopg: str):
    assert to_pyformat(sqlite) == psycopg


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        ("SELECT '50%', '?'", (), ("50%", "?")),
        ("SELECT '50%' || ?, ?", ("x", 7), ("50%x", 7)),
        ("SELECT :a, :a || '%'", {"a": "b"}, ("b", "b%")),
        ("SELECT ? IS NULL, ?", (None, True), (1, 1)),
    ],
    ids=["literal-percent-no-params", "literal-percent-with-params", "named-repeated", "null-and-flag"],
)
async def test_the_same_statement_gives_the_same_row_on_both_backends(database, sql: str, params, expected: tuple):
    db = await open_database(database)
    try:
        [row] = await db.conn.execute_fetchall(sql, params)
        assert tuple(row) == expected
    finally:
        await db.close()
