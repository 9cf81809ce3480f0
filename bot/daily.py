"""The morning line in the dispatch group: yesterday's tickets counted by source and level, so
dispatch sees what came in from where (Art. 4, Art. 10 (1): dispatch supervises every channel).

Posted by the sweeper once a day in the hour from 08:00 (the company's time zone). A bot that
is down for that whole hour skips the day rather than post a stale count late in the day.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.payload import message
from bot.services import Services
from rules.policy import Level, Source
from storage import desk, org, tickets
from storage.outbox import Priority, enqueue_message

__all__ = ["POST_AT", "post_daily_count"]

log = logging.getLogger(__name__)

POST_AT = time(8, 0)
_WINDOW = timedelta(hours=1)


async def post_daily_count(svc: Services) -> bool:
    """Post yesterday's count if it is time and not yet done; True when posted."""
    now = svc.clock.now()
    local = now.astimezone(svc.tz)
    due = datetime.combine(local.date(), POST_AT, tzinfo=svc.tz)
    if not due <= local < due + _WINDOW:
        return False
    today = datetime.combine(local.date(), time(0), tzinfo=svc.tz)
    yesterday = datetime.combine(local.date() - timedelta(days=1), time(0), tzinfo=svc.tz)
    lang, t = svc.default_lang, svc.texts
    async with svc.db.transaction() as conn:
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if dispatch is None or not await desk.claim_daily(conn, yesterday.date().isoformat(), now):
            return False
        counts: dict[str, dict[str, int]] = {}
        for source, level, count in await tickets.count_by_source_level(conn, yesterday, today):
            counts.setdefault(source, {})[level] = count
        # In the policy's order of sources, so the line reads the same every day.
        rows = [{"source": t.label(lang, f"source_{s}"), "count": sum(counts[s].values()),
                 "major": counts[s].get(Level.MAJOR, 0), "general": counts[s].get(Level.GENERAL, 0)}
                for s in (str(x) for x in Source) if s in counts]
        text = t.render(lang, "desk.daily", day=f"{yesterday.month}月{yesterday.day}日" if lang == "zh" else yesterday.strftime("%d %b"),
                        rows=rows, total=sum(r["count"] for r in rows))
        await enqueue_message(conn, dispatch, message(text), priority=Priority.STATUS, purpose="daily_count", now=now)
    svc.wake_sender()
    log.info("posted the daily count for %s", yesterday.date())
    return True
