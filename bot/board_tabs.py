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

__all__ = ["PERIODS", "CHART_LIFE", "Figures", "outages_view"]

log = logging.getLogger(__name__)

PERIODS = ("today", "week")
# Figures are slow to count, charts slow to draw, and both move slowly: shown at most this old.
CHART_LIFE = timedelta(minutes=1)


def _mine(viewer: Viewer, centre_id: str | None) -> bool:
    return viewer.scope.all_centres or centre_id == viewer.scope.centre_id


@dataclass(frozen=True)
class _Counted:
    at: datetime
    snap: stats.Snapshot
    points: dict[str, int]


class Figures:
    """The figures tab's numbers and charts, shared by every viewer and kept for
    :data:`CHART_LIFE`. Counting a busy week reads the whole ledger on the bot's one database
    connection (1.6 s for a week of 100,000 tickets, bench/board.py), so a board open on ten
    screens counts each period once a minute, not once per page; a chart, drawn in a thread as
    /stats draws it, likewise once a minute per period, centre and language. One counting or
    drawing at a time per key."""

    def __init__(self) -> None:
        self._counted: dict[str, _Counted] = {}
        self._drawn: dict[tuple[str, str | None, str], tuple[datetime, bytes]] = {}
        self._locks: dict[object, asyncio.Lock] = {}

    @staticmethod
    def _fresh(at: datetime, now: datetime) -> bool:
        return timedelta(0) <= now - at < CHART_LIFE

    async def _count(self, svc: Services, kind: str) -> _Counted:
        """/stats's figures of one period for every centre, and the report's points."""
        async with self._locks.setdefault(kind, asyncio.Lock()):
            now = svc.clock.now()
            counted = self._counted.get(kind)
            if counted is not None and self._fresh(counted.at, now):
                return counted
            first, last = stats_period(kind, now, svc.tz)
            period = period_between(first, last, svc.tz)
            async with svc.db.transaction() as conn:
                snap = await stats.snapshot(conn, svc, first, last, now)
                events = await figures.counted_events(conn, period.start, period.end, as_of=min(now, period.end))
            # Ch. 4-5: the points are the assessment report's, from the same counted events.
            points = {s.centre_id: s.points for s in score(snap.centres, events, svc.policy.assessment)}
            counted = self._counted[kind] = _Counted(now, snap, points)
            return counted

    async def _mine(self, svc: Services, viewer: Viewer, kind: str) -> tuple[_Counted, stats.Snapshot]:
        counted = await self._count(svc, kind)
        return counted, replace(counted.snap, centres=[c for c in counted.snap.centres if _mine(viewer, c.centre_id)])

    async def view(self, svc: Services, viewer: Viewer) -> dict[str, Any]:
        """Today's and this week's table rows, per centre the viewer may see."""
        periods = []
        for kind in PERIODS:
            counted, snap = await self._mine(svc, viewer, kind)
            rows = [{
                "name": c.name(viewer.lang), "received": c.received,
                "accept": c.limits["accept"].on_time_pct, "onsite": c.limits["onsite"].on_time_pct,
                "close": c.limits["close"].on_time_pct, "late": sum(c.limits[k].late for k in LIMITS),
                "satisfied": c.satisfied_pct, "points": counted.points.get(c.centre_id, 0),
            } for c in snap.centres]
            periods.append({"kind": kind, "first": snap.first, "last": snap.last, "rows": rows, "as_of": counted.at,
                            "received": sum(r["received"] for r in rows), "late": sum(r["late"] for r in rows)})
        return {"periods": periods}

    async def png(self, svc: Services, viewer: Viewer, kind: str) -> bytes:
        """The on-time chart of ``kind`` for the viewer's centres; KeyError for another period."""
        if kind not in PERIODS:
            raise KeyError(kind)
        key = (kind, viewer.scope.centre_id, viewer.lang)
        async with self._locks.setdefault(key, asyncio.Lock()):
            drawn = self._drawn.get(key)
            if drawn is not None and self._fresh(drawn[0], svc.clock.now()):
                return drawn[1]
            counted, snap = await self._mine(svc, viewer, kind)
            chart = await asyncio.to_thread(stats.draw_on_time_chart, svc.texts, viewer.lang, snap)
            self._drawn[key] = (counted.at, chart.png)
            return chart.png


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
