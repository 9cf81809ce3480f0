"""`heatbot report --format html` embeds the real charts: on-time % per centre, received and late
by day, satisfaction, drawn from the report's own figures (Chinese labels, the bundled font)."""
from __future__ import annotations

import base64
import re
import struct
import warnings
from pathlib import Path

from bot import charts
from bot.cli import main


def test_the_html_report_of_a_seeded_month_carries_three_charts(database: Path | str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HEATBOT_TZ", "Asia/Shanghai")
    db, page = database, tmp_path / "report.html"
    assert main(["seed", "--db", str(db), "--tickets", "300", "--days", "31", "--seed", "3", "--start", "2026-01-01"]) == 0
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        assert main(["report", "--db", str(db), "--from", "2026-01-01", "--to", "2026-01-31", "--format", "html",
                     "--lang", "zh", "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert [alt for _, alt in images] == ["各服务中心按时率", "每日受理与超时", "回访满意率"]
    for data, _ in images:
        png = base64.b64decode(data)
        assert struct.unpack(">II", png[16:24]) == (charts.WIDTH_PX, charts.HEIGHT_PX)
