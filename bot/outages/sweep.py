"""The outages' share of the sweeper: posting deadlines (reminded and escalated like any
deadline, Art. 23 (3)(4)), the residents' reminder before a planned start, progress messages."""
from __future__ import annotations

from datetime import datetime

from bot import escalation
from bot.outages.common import send
from bot.outages.panel import PANEL_KEEP, refresh_panel
from bot.outages.publishing import broadcast
from bot.services import Services
from rules.deadlines import Stage, plan
from storage import org
from storage import outages as store
from storage.outages import Posting
from storage.outbox import Priority

__all__ = ["sweep"]


SWEEP_BATCH = 200


async def sweep(svc: Services, limit: int = SWEEP_BATCH) -> int:
    """Posting deadlines (reminded and escalated like any deadline, Art. 23 (3)(4)), the
    residents' reminder before a planned start, and dispatch's progress messages. Returns how
    many reminders and escalations fired."""
    fired = 0
    now = svc.clock.now()
    interval = svc.policy.escalation_interval
    async with svc.db.transaction() as conn:
        for p in await store.due_postings(conn, now, limit):
            step = plan(p.due_at, p.stage, now, svc.policy.outages.posting_reminder_lead, interval)
            if not await store.advance_posting(conn, p.id, from_stage=p.stage, to_stage=step.stage, next_at=step.next_at):
                continue
            for fire in step.fires:
                await _fire(conn, svc, p, fire.stage, now, max(0, int(fire.late_by.total_seconds() // 60)))
                fired += 1
        for o in await store.due_reminders(conn, now):
            if await store.clear_reminder(conn, o.id) and o.status == "published" and o.restored_at is None:
                await broadcast(conn, svc, o, "reminder")
                await store.add_event(conn, o.id, now, "subscribers_reminded")
                fired += 1
        for outage_id in await store.panels_to_refresh(conn, now - PANEL_KEEP):
            await refresh_panel(conn, svc, outage_id, now)
    svc.wake_sender()
    return fired


async def _fire(conn, svc: Services, p: Posting, stage: Stage, now: datetime, late_by: int) -> None:
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, p.outage_id)
    centre = await org.get_centre(conn, p.centre_id)
    ctx = dict(number=o.number, due=p.due_at, centre=centre.name(lang) if centre else p.centre_id, late_by=late_by,
               overdue=max(0, int((now - p.due_at).total_seconds() // 60)))
    kind = {Stage.REMINDED: "posting_reminder", Stage.ESCALATED: "posting_overdue", Stage.HEAD: "posting_head"}[stage]
    await store.add_event(conn, o.id, now, kind, detail={"centre": p.centre_id, "late_by_minutes": late_by})
    text = t.render(lang, f"outage.{kind}", **ctx)
    for r in await escalation.fan_out(conn, stage, group_chat=p.chat_id, centre_id=p.centre_id):
        await send(conn, svc, r.chat_id, [text], outage_id=o.id, audience="staff", priority=Priority.URGENT, purpose="escalation")
