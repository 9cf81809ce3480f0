"""The dispatch board's second and third tabs: the assessment figures (today and this week,
per centre, with the on-time chart) and the outages in progress with their progress.

Nothing here counts anything: the figures are /stats's (``bot.stats.snapshot`` over
``storage.figures``), the points the assessment report's (``rules.assessment.score``), the
chart /stats's own drawing, and an outage's progress what dispatch's panel shows
(``bot.outages.panel.progress_of``). Who sees which centre is the list's rule
(``rules.board.scope_of``): dispatch and department heads every centre, a centre's lead and
crew their own (Art. 8, Art. 10 (1)).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot import stats
from bot.board import Viewer
from bot.outages.panel import PANEL_KEEP, progress_of
from bot.services import Services
from rules.assessment import LIMITS, period_between, score
from rules.reports import stats_period
from storage import figures
from storage import outages as store

__all__ = ["PERIODS", "CHART_LIFE", "figures_view", "outages_view", "ChartCache"]

log = logging.getLogger(__name__)

PERIODS = ("today", "week")
# Charts are slow to draw and figures move slowly: a chart is at most this old.
CHART_LIFE = timedelta(minutes=1)


def _mine(viewer: Viewer, centre_id: str | None) -> bool:
    return viewer.scope.all_centres or centre_id == viewer.scope.centre_id


async def _snapshot(svc: Services, viewer: Viewer, kind: str, now: datetime) -> tuple[stats.Snapshot, dict[str, int]]:
    """/stats's figures of one period, only the centres the viewer may see, and their points."""
    first, last = stats_period(kind, now, svc.tz)
    period = period_between(first, last, svc.tz)
    as_of = min(now, period.end)
    async with svc.db.transaction() as conn:
        snap = await stats.snapshot(conn, svc, first, last, now)
        events = await figures.counted_events(conn, period.start, period.end, as_of=as_of)
    # Ch. 4-5: the points are the assessment report's, from the same counted events.
    points = {s.centre_id: s.points for s in score(snap.centres, events, svc.policy.assessment)}
    shown = [c for c in snap.centres if _mine(viewer, c.centre_id)]
    return replace(snap, centres=shown), points


async def figures_view(svc: Services, viewer: Viewer) -> dict[str, Any]:
    """Today's and this week's table rows, per centre the viewer may see."""
    now = svc.clock.now()
    periods = []
    for kind in PERIODS:
        snap, points = await _snapshot(svc, viewer, kind, now)
        rows = [{
            "name": c.name(viewer.lang), "received": c.received,
            "accept": c.limits["accept"].on_time_pct, "onsite": c.limits["onsite"].on_time_pct,
            "close": c.limits["close"].on_time_pct, "late": sum(c.limits[k].late for k in LIMITS),
            "satisfied": c.satisfied_pct, "points": points.get(c.centre_id, 0),
        } for c in snap.centres]
        periods.append({"kind": kind, "first": snap.first, "last": snap.last, "rows": rows,
                        "received": sum(r["received"] for r in rows), "late": sum(r["late"] for r in rows)})
    return {"periods": periods}


@dataclass
class _Drawn:
    at: datetime
    png: bytes


class ChartCache:
    """The on-time chart per (period, centre scope, language), drawn off the event loop as
    /stats draws it and kept for :data:`CHART_LIFE`: a board left open by ten dispatchers
    draws it once a minute, not ten times. One drawing at a time per key."""

    def __init__(self) -> None:
        self._drawn: dict[tuple[str, str | None, str], _Drawn] = {}
        self._locks: dict[tuple[str, str | None, str], asyncio.Lock] = {}

    async def png(self, svc: Services, viewer: Viewer, kind: str) -> bytes:
        if kind not in PERIODS:
            raise KeyError(kind)
        key = (kind, viewer.scope.centre_id, viewer.lang)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = svc.clock.now()
            drawn = self._drawn.get(key)
            if drawn is not None and timedelta(0) <= now - drawn.at < CHART_LIFE:
                return drawn.png
            snap, _ = await _snapshot(svc, viewer, kind, now)
            charts = await asyncio.to_thread(stats.draw_charts, svc.texts, viewer.lang, snap)
            self._drawn[key] = _Drawn(now, charts[0].png)
            return charts[0].png


async def outages_view(svc: Services, viewer: Viewer) -> dict[str, Any]:
    """The published outages not yet restored (and those restored within the day dispatch's
    panel keeps following) that touch the viewer's centres, each with its progress as that
    panel shows it."""
    now = svc.clock.now()
    items = []
    async with svc.db.transaction() as conn:
        for o in await store.in_progress(conn, now - PANEL_KEEP, None if viewer.scope.all_centres else viewer.scope.centre_id):
            n, p, postings, linked = await progress_of(conn, o, viewer.lang)
            items.append({"n": n, "p": p, "postings": postings, "tickets": linked, "started": o.starts_at <= now, "restored": o.restored_at is not None,
                          "posted": sum(1 for s in postings if s["posted"]), "due": len(postings)})
    return {"outages": items, "now": now}
