"""Chart images for /stats and the weekly and monthly reports: PNG bytes from plain data.

Every function takes labels and values (already counted, already translated: the words come
from templates/, the numbers from the figures) and returns a PNG. Nothing here reads the
database or knows a ticket.

Chinese labels need a font with Chinese glyphs, and a fresh server has none: matplotlib's
own DejaVu Sans draws each hanzi as an empty box. The charts therefore always use Noto Sans
SC (SIL Open Font License 1.1), installed with the bot as the ``pylopdf-fonts-zh-cn`` package,
so the picture is the same on every machine whatever fonts the system has. Its Latin letters
and digits serve the English charts too.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure
state), so charts may be drawn from any thread.
"""
from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pylopdf_fonts_zh_cn
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "FONT_FAMILY", "font_path", "on_time_chart", "daily_chart", "satisfaction_chart",
    "WIDTH_PX", "HEIGHT_PX",
]

log = logging.getLogger(__name__)

FONT_FAMILY = "Noto Sans SC"
# 1280 × 720: sharp on a phone, far inside Telegram's photo limits (10 MB, width + height
# at most 10,000), and 16:9 fits a chat bubble and an A4 page alike.
_DPI = 160
_SIZE_IN = (8.0, 4.5)
WIDTH_PX, HEIGHT_PX = int(_SIZE_IN[0] * _DPI), int(_SIZE_IN[1] * _DPI)

# Colour-blind-safe (Okabe-Ito), one colour per series, the same series the same colour in
# every chart.
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
_LATE = "#D55E00"

_registered = threading.Lock()
_font_ready = False
# rc_context sets matplotlib's global settings and restores them on leaving: two charts drawn at
# once in two threads (a /stats and the Monday report) could restore the defaults under each
# other and draw in DejaVu Sans, with empty boxes. One chart at a time.
_drawing = threading.Lock()


def font_path() -> Path:
    """The CJK font file every chart is drawn with."""
    return Path(pylopdf_fonts_zh_cn.sans_path())


def _ensure_font() -> None:
    """Register the bundled font with matplotlib once per process (its font list is global)."""
    global _font_ready
    if _font_ready:
        return
    with _registered:
        if not _font_ready:
            path = font_path()
            font_manager.fontManager.addfont(str(path))
            _font_ready = True
            log.debug("chart font registered: %s", path)


def _style() -> dict[str, object]:
    return {
        "font.family": [FONT_FAMILY],
        "font.size": 11,
        "axes.titlesize": 14,
        "axes.spines.top": False,
        "axes.spines.right": False,
        # The minus sign: Noto Sans SC has U+2212, but matplotlib's default mathtext minus would
        # be looked up in the mathtext font; a plain hyphen-minus keeps every glyph in one font.
        "axes.unicode_minus": False,
    }


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=_SIZE_IN, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    # No "Software" text naming matplotlib's version: the same data makes the same bytes.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _no_data(ax, text: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=14, color="#666666")


def on_time_chart(title: str, centres: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
                  axis_label: str, no_data: str) -> bytes:
    """Grouped bars: for each centre, one bar per limit (accepted, on site, closed on time),
    in per cent. A centre with nothing to count for a limit has no bar there (``None``), and
    ``no_data`` is written on the chart when no centre has any."""
    _ensure_font()
    with _drawing, rc_context(_style()):
        fig, ax = _figure()
        ax.set_title(title)
        values = [v for _, vs in series for v in vs if v is not None]
        if not centres or not values:
            _no_data(ax, no_data)
            return _png(fig)
        n = max(1, len(series))
        width = 0.8 / n
        positions = range(len(centres))
        for i, (name, vs) in enumerate(series):
            xs = [p - 0.4 + width * (i + 0.5) for p in positions]
            heights = [v if v is not None else 0.0 for v in vs]
            bars = ax.bar(xs, heights, width=width * 0.92, label=name, color=_COLOURS[i % len(_COLOURS)])
            for bar, v in zip(bars, vs):
                if v is None:
                    bar.set_visible(False)
                    continue
                ax.annotate(f"{v:.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(positions), list(centres))
        ax.set_ylim(0, 110)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_ylabel(axis_label)
        ax.axhline(100, color="#BBBBBB", linewidth=0.8, zorder=0)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=n, frameon=False)
        return _png(fig)


def daily_chart(title: str, days: Sequence[str], received: Sequence[int], late: Sequence[int], *,
                received_label: str, late_label: str, axis_label: str) -> bytes:
    """Tickets received per day (bars) and, of them, how many missed a limit (a line)."""
    _ensure_font()
    with _drawing, rc_context(_style()):
        fig, ax = _figure()
        ax.set_title(title)
        xs = list(range(len(days)))
        bars = ax.bar(xs, list(received), color=_COLOURS[0], label=received_label)
        [line] = ax.plot(xs, list(late), color=_LATE, marker="o", linewidth=2, label=late_label)
        # At most 8 date labels, so a month of Chinese dates stays readable.
        step = max(1, -(-len(days) // 8))
        ax.set_xticks(xs[::step], list(days)[::step])
        top = max([*received, *late, 1])
        ax.set_ylim(0, top * 1.15 + 1)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(axis_label)
        ax.legend(handles=[bars, line], loc="upper left", frameon=False)
        return _png(fig)


def satisfaction_chart(title: str, centres: Sequence[str], satisfied: Sequence[float | None], *,
                       axis_label: str, no_data: str) -> bytes:
    """Per centre, the share of residents who answered the follow-up satisfied (Art. 8), in
    per cent; a centre nobody answered for has no bar."""
    _ensure_font()
    with _drawing, rc_context(_style()):
        fig, ax = _figure()
        ax.set_title(title)
        if not centres or all(v is None for v in satisfied):
            _no_data(ax, no_data)
            return _png(fig)
        ys = list(range(len(centres)))
        widths = [v if v is not None else 0.0 for v in satisfied]
        bars = ax.barh(ys, widths, color=_COLOURS[2])
        for bar, v in zip(bars, satisfied):
            if v is None:
                bar.set_visible(False)
                ax.text(1, bar.get_y() + bar.get_height() / 2, "—", va="center", fontsize=9)
            else:
                ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{v:.0f}", va="center", fontsize=9)
        ax.set_yticks(ys, list(centres))
        ax.invert_yaxis()
        ax.set_xlim(0, 110)
        ax.set_xlabel(axis_label)
        return _png(fig)
