"""`heatbot seed` and `heatbot report` from the command line: a deterministic season, and the
report written from it in all three formats."""
from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from bot.report import CSV_HEADER
from bot.seed import _CATEGORY_WEIGHTS, _SOURCE_WEIGHTS
from storage.db import open_database
from tests.ledger import Ledger


def _seed(database: Path | str, seed: int = 3, tickets: int = 1500, days: int = 20) -> None:
    assert main(["seed", "--db", str(database), "--tickets", str(tickets), "--days", str(days), "--seed", str(seed),
                 "--start", "2025-12-20", "--tz", "Asia/Shanghai"]) == 0


def _rows(database: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of ``sql`` on either backend, as plain tuples."""
    async def read() -> list[tuple]:
        db = await open_database(database, migrate=False)
        try:
            async with db.conn.execute(sql, params) as cur:
                return [tuple(r) for r in await cur.fetchall()]
        finally:
            await db.close()
    return asyncio.run(read())


def _digest(database: Path | str) -> str:
    h = hashlib.sha256()
    for table, order in (("tickets", "id"), ("ticket_events", "id"), ("deadlines", "ticket_id, kind"), ("followups", "ticket_id"),
                         ("register_entries", "id"), ("outage_postings", "id")):
        for row in _rows(database, f"SELECT * FROM {table} ORDER BY {order}"):
            h.update(repr(row).encode())
    return h.hexdigest()


def test_the_same_seed_gives_the_same_season_and_another_seed_another(database: Path | str, tmp_path: Path):
    """On PostgreSQL the season is compared with the one the same seed writes into SQLite: the
    same rows, value for value."""
    _seed(database)
    _seed(tmp_path / "b.db")
    _seed(tmp_path / "c.db", seed=4)
    assert _digest(database) == _digest(tmp_path / "b.db")
    assert _digest(database) != _digest(tmp_path / "c.db")


def test_a_seeded_season_has_every_category_and_source_and_every_kind_of_trouble(database: Path | str):
    _seed(database, tickets=3000)

    def one(sql: str):
        return _rows(database, sql)[0][0]
    assert one("SELECT COUNT(*) FROM tickets") == 3000
    assert {r[0] for r in _rows(database, "SELECT DISTINCT category FROM tickets")} == set(_CATEGORY_WEIGHTS)
    assert {r[0] for r in _rows(database, "SELECT DISTINCT source FROM tickets")} == set(_SOURCE_WEIGHTS)
    kinds = dict(_rows(database, "SELECT kind, COUNT(*) FROM ticket_events GROUP BY kind"))
    for kind in ("late", "overdue", "delay_requested", "delay_approved", "delay_rejected", "return_requested", "transferred",
                 "reopened", "repeat_fault", "complaint", "followup_solved", "followup_rating", "followup_phoned",
                 "coordination", "report_submitted"):
        assert kinds.get(kind, 0) > 0, kind
    # Every ticket starts as the bot starts one: created, then routed (or sent to dispatch).
    assert kinds["created"] == 3000 == kinds.get("routed", 0) + kinds.get("routed_to_dispatch", 0)
    # Most limits are met on time; a share is late (not all, not none).
    late = one("SELECT AVG(CAST(late AS REAL)) FROM deadlines WHERE state = 'met'")
    assert 0.02 < late < 0.2
    # Night is quieter than the evening (local hours: UTC+8).
    # (the 8 as a parameter: storage/postgres.py sends a statement without parameters with its % doubled)
    by_hour = dict(_rows(database, "SELECT (CAST(substr(received_at, 12, 2) AS INTEGER) + ?) % 24, COUNT(*) FROM tickets GROUP BY 1",
                         (8,)))
    assert by_hour.get(3, 0) * 3 < by_hour[19]


def test_the_bot_s_next_ticket_after_a_seed_takes_a_new_id(database: Path | str):
    """PostgreSQL's identity columns do not see the ids the seed writes itself; the seed moves
    them on, as SQLite's rowid moves by itself."""
    _seed(database, tickets=50, days=2)

    async def next_ticket() -> tuple[int, int]:
        db = await open_database(database, migrate=False)
        try:
            async with db.transaction() as conn:
                new = await Ledger(conn).ticket(None, "not_warm", "heping", "2026-01-05 09:00")
                highest = (await (await conn.execute("SELECT MAX(id) FROM tickets WHERE id < ?", (new,))).fetchone())[0]
            return new, highest
        finally:
            await db.close()
    new, highest = asyncio.run(next_ticket())
    assert highest == 50 and new == 51


def test_heatbot_report_writes_all_three_formats_from_a_seeded_database(database: Path | str, tmp_path: Path, capsys):
    _seed(database)
    common = ["report", "--db", str(database), "--from", "2025-12-25", "--to", "2026-01-05", "--tz", "Asia/Shanghai"]
    assert main(common + ["--format", "csv", "--out", str(tmp_path / "r.csv")]) == 0
    assert main(common + ["--format", "xlsx", "--out", str(tmp_path / "r.xlsx")]) == 0
    assert main(common + ["--format", "html", "--out", str(tmp_path / "r.html"), "--lang", "en"]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert sum(int(r["received"]) for r in rows) > 500
    book = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert book.sheetnames == ["figures", "events", "tickets"]
    figures = list(book["figures"].iter_rows(values_only=True))
    # A spreadsheet keeps no empty cells at a row's end and no empty text: both are "no value".
    width = len(CSV_HEADER)
    sheet_rows = [tuple(r) + (None,) * (width - len(r)) for r in figures[1:]]
    assert sheet_rows == [tuple(_typed(r[k]) for k in CSV_HEADER) for r in rows]
    assert len(list(book["tickets"].iter_rows())) - 1 == sum(int(r["received"]) for r in rows)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Heating service assessment" in page
    assert "http://" not in page and "https://" not in page     # one self-contained file
    one = tmp_path / "one.csv"
    assert main(common + ["--format", "csv", "--out", str(one), "--centre", "repair-south"]) == 0
    assert [r["centre_id"] for r in csv.DictReader(io.StringIO(one.read_text(encoding="utf-8-sig")))] == ["repair-south"]


def _typed(text: str):
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def test_a_bad_report_request_ends_with_one_line(database: Path | str, tmp_path: Path, capsys):
    _seed(database, tickets=50, days=2)
    capsys.readouterr()
    base = ["report", "--db", str(database), "--format", "csv", "--out", str(tmp_path / "x.csv")]
    assert main(base + ["--from", "2026-01-31", "--to", "2026-01-01"]) == 2
    assert main(base + ["--from", "2026-01-01", "--to", "2026-01-31", "--centre", "nowhere"]) == 2
    assert main(["report", "--db", str(tmp_path / "missing.db"), "--format", "csv", "--out", "x", "--from", "2026-01-01",
                 "--to", "2026-01-02"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("heatbot: ") for line in err)
    assert "nowhere" in err[1] and "missing.db" in err[2]
