"""Charts render their Chinese labels with the bundled CJK font, and never as empty boxes.

matplotlib warns "Glyph N (...) missing from font(s) ..." for every character the font it
draws with lacks; each test here turns that warning into a failure, and one shows that the
check can fail (DejaVu Sans, matplotlib's own font, has no Chinese).
"""
from __future__ import annotations

import hashlib
import struct
import warnings
from importlib import metadata
from pathlib import Path

import pytest
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot import charts

CENTRES = ["北区维修服务中心", "南区维修服务中心", "管网管理站"]
# Noto Sans SC as notofonts/noto-cjk publishes it (Sans/SubsetOTF/SC), the digest its
# package states: the font on disk is the licensed original, not a stand-in.
NOTO_SANS_SC_SHA256 = "faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9"


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def _all_charts() -> list[bytes]:
    return [
        charts.on_time_chart("各服务中心按时率（%）", CENTRES,
                             [("按时受理", [100.0, 92.5, None]), ("按时到场", [80.0, 70.0, 50.0]), ("按时销单", [90.0, None, 60.0])],
                             axis_label="按时率（%）", no_data="本期无工单"),
        charts.daily_chart("每日受理与超时", [f"1月{d}日" for d in range(1, 32)], [d % 7 + 3 for d in range(31)],
                           [d % 3 for d in range(31)], received_label="受理", late_label="超时", axis_label="工单数"),
        charts.satisfaction_chart("回访满意率（%）", CENTRES, [95.0, None, 80.0], axis_label="满意率（%）", no_data="本期无回访"),
        charts.on_time_chart("各服务中心按时率（%）", [], [], axis_label="按时率（%）", no_data="本期无工单"),
        charts.satisfaction_chart("回访满意率（%）", CENTRES, [None, None, None], axis_label="满意率（%）", no_data="本期无回访"),
    ]


def test_the_chart_font_is_the_bundled_noto_sans_sc_under_the_open_font_licence():
    path = charts.font_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == NOTO_SANS_SC_SHA256
    licence = metadata.distribution("pylopdf-fonts-zh-cn").read_text("licenses/LICENSE") or ""
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence


def test_every_chart_draws_its_chinese_labels_without_a_missing_glyph():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        pngs = _all_charts()
    for png in pngs:
        assert _png_size(png) == (charts.WIDTH_PX, charts.HEIGHT_PX)


def test_a_chart_label_resolves_to_the_cjk_font_file():
    # Draw the way the charts do and ask matplotlib which file the title's text comes from.
    charts.on_time_chart("按时率", ["北区"], [("按时受理", [100.0])], axis_label="%", no_data="无")
    with rc_context(charts._style()):
        fig = Figure()
        FigureCanvasAgg(fig)
        title = fig.add_subplot().set_title("各服务中心按时率")
        found = font_manager.findfont(title.get_fontproperties(), fallback_to_default=False)
    assert Path(found).resolve() == charts.font_path().resolve()


def test_the_missing_glyph_check_fails_for_a_font_without_chinese():
    # The control: without the bundled font, the same title is drawn with empty boxes and
    # matplotlib says so; the checks above would catch it.
    fig = Figure()
    FigureCanvasAgg(fig)
    with rc_context({"font.family": ["DejaVu Sans"]}):
        fig.add_subplot().set_title("各服务中心按时率")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.canvas.draw()


def test_the_same_data_draws_the_same_png():
    assert _all_charts() == _all_charts()


def test_a_chart_fits_telegrams_photo_limits():
    # sendPhoto: at most 10 MB, width + height at most 10,000, ratio at most 20.
    for png in _all_charts():
        w, h = _png_size(png)
        assert len(png) < 10 * 1024 * 1024 and w + h <= 10_000 and max(w, h) / min(w, h) <= 20
