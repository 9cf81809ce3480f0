"""`heatbot seed` and `heatbot report` from the command line: a deterministic season, and the
report written from it in all three formats."""
from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from bot.report import CSV_HEADER
from bot.seed import _CATEGORY_WEIGHTS, _SOURCE_WEIGHTS


def _seed(path: Path, seed: int = 3, tickets: int = 1500, days: int = 20) -> None:
    assert main(["seed", "--db", str(path), "--tickets", str(tickets), "--days", str(days), "--seed", str(seed),
                 "--start", "2025-12-20", "--tz", "Asia/Shanghai"]) == 0


def _digest(path: Path) -> str:
    with sqlite3.connect(path) as db:
        h = hashlib.sha256()
        for table, order in (("tickets", "id"), ("ticket_events", "id"), ("deadlines", "ticket_id, kind"), ("followups", "ticket_id"),
                             ("register_entries", "id"), ("outage_postings", "id")):
            for row in db.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                h.update(repr(row).encode())
        return h.hexdigest()


def test_the_same_seed_gives_the_same_season_and_another_seed_another(tmp_path: Path):
    _seed(tmp_path / "a.db")
    _seed(tmp_path / "b.db")
    _seed(tmp_path / "c.db", seed=4)
    assert _digest(tmp_path / "a.db") == _digest(tmp_path / "b.db")
    assert _digest(tmp_path / "a.db") != _digest(tmp_path / "c.db")


def test_a_seeded_season_has_every_category_and_source_and_every_kind_of_trouble(tmp_path: Path):
    path = tmp_path / "s.db"
    _seed(path, tickets=3000)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 3000
        assert {r[0] for r in db.execute("SELECT DISTINCT category FROM tickets")} == set(_CATEGORY_WEIGHTS)
        assert {r[0] for r in db.execute("SELECT DISTINCT source FROM tickets")} == set(_SOURCE_WEIGHTS)
        kinds = {r[0]: r[1] for r in db.execute("SELECT kind, COUNT(*) FROM ticket_events GROUP BY kind")}
        for kind in ("late", "overdue", "delay_requested", "delay_approved", "delay_rejected", "return_requested", "transferred",
                     "reopened", "repeat_fault", "complaint", "followup_solved", "followup_rating", "followup_phoned",
                     "coordination", "report_submitted"):
            assert kinds.get(kind, 0) > 0, kind
        # Every ticket starts as the bot starts one: created, then routed (or sent to dispatch).
        assert kinds["created"] == 3000 == kinds.get("routed", 0) + kinds.get("routed_to_dispatch", 0)
        # Most limits are met on time; a share is late (not all, not none).
        late = db.execute("SELECT AVG(late) FROM deadlines WHERE state = 'met'").fetchone()[0]
        assert 0.02 < late < 0.2
        # Night is quieter than the evening (local hours: UTC+8).
        by_hour = dict(db.execute("SELECT (CAST(substr(received_at, 12, 2) AS INTEGER) + 8) % 24, COUNT(*) FROM tickets GROUP BY 1"))
        assert by_hour.get(3, 0) * 3 < by_hour[19]


def test_heatbot_report_writes_all_three_formats_from_a_seeded_database(tmp_path: Path, capsys):
    path = tmp_path / "s.db"
    _seed(path)
    common = ["report", "--db", str(path), "--from", "2025-12-25", "--to", "2026-01-05", "--tz", "Asia/Shanghai"]
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


def test_a_bad_report_request_ends_with_one_line(tmp_path: Path, capsys):
    path = tmp_path / "s.db"
    _seed(path, tickets=50, days=2)
    capsys.readouterr()
    base = ["report", "--db", str(path), "--format", "csv", "--out", str(tmp_path / "x.csv")]
    assert main(base + ["--from", "2026-01-31", "--to", "2026-01-01"]) == 2
    assert main(base + ["--from", "2026-01-01", "--to", "2026-01-31", "--centre", "nowhere"]) == 2
    assert main(["report", "--db", str(tmp_path / "missing.db"), "--format", "csv", "--out", "x", "--from", "2026-01-01",
                 "--to", "2026-01-02"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("heatbot: ") for line in err)
    assert "nowhere" in err[1] and "missing.db" in err[2]
