"""Shift handover (交接班) and the on-duty crew (Art. 11, 12).

At each shift change the sweeper posts to the centre's group what the incoming shift takes
over: open tickets with their next limit, those due within the shift, delays and returns
waiting for dispatch, shutdown notices still to post. The incoming crew presses "已接班"; a
handover nobody acknowledged after the policy's minutes is told to the centre's lead, once.

Exactly once per shift change, across restarts: each shift instance has a row (unique per
centre and shift), written in the same transaction as the message. The first shift the bot
sees for a centre was already running when the roster was loaded: it is recorded, not posted.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot import views
from bot.callbacks.roster import HandoverAck
from bot.payload import message
from bot.services import Services, Who
from rules.roles import Role
from rules.roster import ShiftInstance, current_shift, format_clock
from rules.text import MAX_TEXT, telegram_length
from storage import org, roster
from storage.outbox import Priority, enqueue_message

__all__ = ["sweep", "acknowledge", "instant", "note_running_shifts"]

log = logging.getLogger(__name__)


def instant(svc: Services, wall: datetime) -> datetime:
    """A wall-clock time of the company's zone as an instant (fold 0 in the repeated hour)."""
    return wall.replace(tzinfo=svc.tz).astimezone(UTC)


async def note_running_shifts(svc: Services) -> None:
    """At start-up, before the first sweep: a rostered centre never seen before has its running
    shift recorded, not posted (it began before the bot knew the roster). A centre seen before
    is left to the sweep, so a shift change missed while the bot was down is still posted."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        r = await roster.load_roster(conn)
        for centre_id in sorted(r.centres):
            if await roster.last_handover(conn, centre_id) is not None:
                continue
            inst = current_shift(r, centre_id, now, svc.tz)
            # A centre with no shift running now is marked seen, so its next shift is posted.
            key, starts, ends = (inst.key, instant(svc, inst.starts), instant(svc, inst.ends)) if inst else (f"{centre_id}@seen", now, now)
            await roster.record_handover(conn, centre_id, key, starts, ends, now, posted=False, chat_id=None, lead_due_at=None)


async def sweep(svc: Services) -> int:
    """Post the handovers of shift changes that have come; tell leads of unacknowledged ones.
    Returns how many messages were written."""
    now = svc.clock.now()
    written = 0
    async with svc.db.transaction() as conn:
        r = await roster.load_roster(conn)
        for centre_id in sorted(r.centres):
            inst = current_shift(r, centre_id, now, svc.tz)
            if inst is None:
                continue
            last = await roster.last_handover(conn, centre_id)
            if last is not None and last.shift_key == inst.key:
                continue
            centre = await org.get_centre(conn, centre_id)
            if centre is None:
                continue
            # Nothing to hand over to a shift with nobody on it (a closed holiday), nor on the
            # first look at a roster, when the shift was already running.
            post = last is not None and bool(inst.shift.staff)
            hid = await roster.record_handover(conn, centre_id, inst.key, instant(svc, inst.starts), instant(svc, inst.ends), now,
                                               posted=post, chat_id=centre.chat_id if post else None,
                                               lead_due_at=now + svc.policy.handover_ack if post else None)
            if hid is None or not post:
                continue
            text = _fitted(svc, await _summary(conn, svc, centre, inst, now))
            ack = [[(svc.texts.label(svc.default_lang, "btn_handover_ack"), HandoverAck(hid).pack())]]
            await enqueue_message(conn, centre.chat_id, message(text, buttons=ack), priority=Priority.URGENT,
                                  purpose="handover", now=now)
            log.info("handover %s posted for centre %s (%s)", hid, centre_id, inst.key)
            written += 1
        for h in await roster.handovers_for_lead(conn, now):
            if not await roster.mark_lead_told(conn, h.id, now):
                continue
            centre = await org.get_centre(conn, h.centre_id)
            lang = svc.default_lang
            text = svc.texts.render(lang, "roster.handover_unacknowledged", centre=centre.name(lang) if centre else h.centre_id,
                                    starts=h.starts_at, minutes=int(svc.policy.handover_ack.total_seconds() // 60))
            for lead in await org.staff_ids_with_role(conn, Role.CENTRE_LEAD, h.centre_id):
                await enqueue_message(conn, lead, message(text), priority=Priority.URGENT, purpose="escalation", now=now)
                written += 1
    if written:
        svc.wake_sender()
    return written


def _fitted(svc: Services, ctx: dict[str, Any]) -> str:
    """The handover as one message: a centre with very many open tickets gets the soonest due
    listed and a count of the rest, within Telegram's 4,096 characters."""
    shown = ctx["tickets"]
    while True:
        text = svc.texts.render(svc.default_lang, "roster.handover", **{**ctx, "tickets": shown, "more": len(ctx["tickets"]) - len(shown)})
        if telegram_length(text) <= MAX_TEXT or not shown:
            return text
        shown = shown[: len(shown) * 9 // 10]


async def _summary(conn: aiosqlite.Connection, svc: Services, centre, inst: ShiftInstance, now: datetime) -> dict[str, Any]:
    lang = svc.default_lang
    ends = instant(svc, inst.ends)
    items = []
    for t in await roster.open_tickets_of(conn, centre.id):
        items.append({
            "number": f"{t.id:04d}", "category": svc.policy.category(t.category).label(lang),
            "status": views.status_label(svc, lang, t.status),
            "place": await views.place_name(conn, lang, t.community_id, t.community_text), "address": t.address or "",
            "limit": svc.texts.label(lang, f"limit_{t.next_kind}") if t.next_kind else None, "due": t.next_due,
            "overdue": t.next_due is not None and t.next_due <= now,
            "in_shift": t.next_due is not None and t.next_due < ends,
        })
    requests = [{"number": f"{ticket_id:04d}", "kind": svc.texts.label(lang, f"request_{kind}")}
                for ticket_id, kind in await roster.pending_requests_of(conn, centre.id)]
    notices = [{"number": f"T{outage_id:03d}", "due": due} for outage_id, due in await roster.unposted_notices_of(conn, centre.id)]
    return {
        "centre": centre.name(lang), "name": inst.shift.name,
        "starts": format_clock(inst.shift.start), "ends": format_clock(inst.shift.end),
        "crew": await views.mentions(conn, inst.shift.staff), "tickets": items, "total": len(items),
        "requests": requests, "notices": notices,
    }


async def acknowledge(svc: Services, who: Who, data: HandoverAck | None, chat_id: int, message_id: int) -> str:
    """"已接班": the first of the centre's own staff to press it takes the shift over. Anyone
    else (another centre's crew, a resident who joined the group) is refused."""
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        h = await roster.get_handover(conn, data.handover_id) if data is not None else None
        if h is None or not await views.message_carries(conn, chat_id, message_id, data.pack()):
            return t.label(lang, "handover_unknown")
        staff = await org.get_staff(conn, who.user_id)
        if staff is None or staff.centre_id != h.centre_id:
            return t.label(lang, "handover_not_yours")
        if not await roster.acknowledge_handover(conn, h.id, who.user_id, staff.name, now):
            h = await roster.get_handover(conn, h.id)
            return t.label(lang, "handover_acked_already", name=h.ack_name or "")
        await enqueue_message(conn, chat_id, message(t.render(lang, "roster.handover_acknowledged", name=staff.name, at=now)),
                              priority=Priority.URGENT, purpose="reply", now=now)
    svc.wake_sender()
    return t.label(lang, "handover_acked")
