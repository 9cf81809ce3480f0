"""The demo's last story (Art. 8, Art. 10 (1)): dispatch asks for this week's figures and gets
one line per centre and the on-time chart. The chart is shown by its size, not its bytes."""
from __future__ import annotations

import struct

from .lines import Lines
from .narrator import Narrator
from .world import World

__all__ = ["stats_story"]

_TEXT = {
    "zh": {"title": "五 · 调度查看本周统计", "chart": "（图表：PNG {w}×{h}，中文标签）",
           "end": "/stats week → 各中心受理、按时率、满意率 → 按时率图表。每周一 08:00 上周的统计、图表和报告发到领导群。"},
    "en": {"title": "5 · Dispatch looks at this week's figures", "chart": "(chart: PNG {w}×{h})",
           "end": "/stats week → each centre's tickets, on-time and satisfaction rates → the on-time chart. Every Monday "
                  "08:00 last week's figures, chart and report go to the leadership group."},
}


async def stats_story(n: Narrator, world: World, L: Lines) -> None:
    text = _TEXT[L.lang]
    n.title(text["title"])
    dispatch = world.groups["dispatch"]
    dispatcher = await n.person(world.crew(6002).first_name, "🧑‍💼", user=world.crew(6002))
    await n.types(dispatcher, "/stats week", chat=dispatch)
    chart = await n.latest(dispatch, lambda m: m.kind == "photo")
    png = await n.tg.file_bytes(chart.file_id)
    w, h = struct.unpack(">II", png[16:24])
    n.say("   " + text["chart"].format(w=w, h=h))
    n.say(f"\n✔ {text['end']}")
