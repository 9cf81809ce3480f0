"""The deadline clock at work: start and stop clocks, sweep, remind, escalate (Art. 7, 12–13).

The sweeper runs every few seconds from the job queue (and once at start-up, so a bot that
was down fires what it missed). Each stage of each deadline fires once: the deadline's stage
moves with a compare-and-set in the same transaction that writes the alert, the ledger event
and the messages.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiosqlite

from bot import alerts, escalation, views
from bot.callbacks import Acknowledge
from bot.payload import message
from bot.services import Services, Who
from rules.deadlines import Stage, next_check, plan
from rules.policy import DeadlineKind, Level, assess
from rules.roles import may_acknowledge, may_override, may_see_overdue
from rules.roster import on_duty
from storage import deadlines, org, outbox, roster, tickets
from storage.outbox import Priority, enqueue_card, enqueue_message
from storage.tickets import Ticket

__all__ = [
    "start_clocks", "meet", "sweep", "acknowledge", "overdue_report", "override", "alert_wide_impact",
    "restart_clock", "SWEEP_BATCH",
]

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
_KIND_FOR_ACTION = {"accept": "accept", "arrive": "onsite", "close": "close"}
_ESCALATION_TEMPLATES = {"centre_lead": "clock.overdue_lead", "dispatch": "clock.overdue_dispatch", "department_head": "clock.overdue_head"}


def _lead(svc: Services, kind: str) -> timedelta:
    return svc.policy.reminder_lead[DeadlineKind(kind)]


def _next(svc: Services, kind: str, due: datetime, stage: int = 0) -> datetime | None:
    return next_check(due, Stage(stage), _lead(svc, kind), svc.policy.escalation_interval)


async def start_clocks(conn: aiosqlite.Connection, svc: Services, ticket_id: int, dues: dict[str, datetime]) -> None:
    for kind, due in dues.items():
        await deadlines.create(conn, ticket_id, kind, due, _next(svc, kind, due))


async def restart_clock(conn: aiosqlite.Connection, svc: Services, ticket_id: int, kind: str, due: datetime) -> None:
    """A fresh clock (a transferred ticket's accept limit, a coordination report)."""
    await deadlines.create(conn, ticket_id, kind, due, _next(svc, kind, due))


async def meet(conn: aiosqlite.Connection, svc: Services, ticket_id: int, action: str, now: datetime) -> None:
    kind = _KIND_FOR_ACTION.get(action)
    if kind is None:
        return
    met = await deadlines.meet(conn, ticket_id, kind, now)
    if met is not None and now > met.due_at:
        await tickets.add_event(conn, ticket_id, now, "late", detail={"limit": kind, "minutes": _minutes(now - met.due_at)})
    if action == "close":
        await deadlines.cancel_open(conn, ticket_id)
    elif action == "arrive":
        await deadlines.meet(conn, ticket_id, "accept", now)


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


async def sweep(svc: Services, limit: int = SWEEP_BATCH) -> int:
    """One pass: fire every stage that has come. Returns how many stages fired."""
    fired = 0
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        for d in await deadlines.due(conn, now, limit):
            p = plan(d.due_at, d.stage, now, _lead(svc, d.kind), svc.policy.escalation_interval)
            if not await deadlines.advance(conn, d.id, from_stage=d.stage, to_stage=p.stage, next_at=p.next_at):
                continue
            ticket = await tickets.get_ticket(conn, d.ticket_id)
            for fire in p.fires:
                await _fire(conn, svc, ticket, d, fire.stage, now, _minutes(fire.late_by))
                fired += 1
    if fired:
        svc.wake_sender()
    return fired


async def _fire(conn, svc: Services, ticket: Ticket, d: deadlines.Deadline, stage: Stage, now: datetime, late_by: int) -> None:
    t, lang = svc.texts, svc.default_lang
    kind_name = t.label(lang, f"limit_{d.kind}")
    centre = await org.get_centre(conn, ticket.centre_id)
    centre_name = centre.name(lang) if centre else t.label(lang, "dispatch")
    ctx = dict(number=ticket.number, limit=kind_name, due=d.due_at, centre=centre_name, late_by=late_by,
               overdue=_minutes(now - d.due_at), place=ticket.address or "")
    alert_kind = {Stage.REMINDED: "reminder", Stage.ESCALATED: "overdue", Stage.HEAD: "head"}[stage]
    alert_id = await deadlines.add_alert(conn, ticket.id, d.id, alert_kind, now, late_by)
    await tickets.add_event(conn, ticket.id, now, alert_kind, detail={"limit": d.kind, "late_by_minutes": late_by, "alert": alert_id})
    card_chat = ticket.card_chat_id or (centre.chat_id if centre else await org.get_setting(conn, "dispatch_chat_id"))
    if stage == Stage.ESCALATED and not await _shown_in_digest(conn, ticket):
        await enqueue_card(conn, card_chat, ticket.id, now=now)     # the card turns visibly overdue
    crew = on_duty(await roster.load_roster(conn), ticket.centre_id, now, svc.tz) if ticket.centre_id is not None else ()
    for r in await escalation.fan_out(conn, stage, group_chat=card_chat, centre_id=ticket.centre_id, on_duty=crew):
        # Gathered per chat with the alerts still waiting there (bot/alerts.py): in a surge one
        # message per ticket and recipient would crowd out the residents' replies.
        if r.role == "group":
            await alerts.enqueue_alert(conn, svc, r.chat_id, t.render(lang, "clock.reminder", **ctx), purpose="reminder",
                                       ticket_id=ticket.id, number=ticket.number, now=now, reply_to_card=ticket.id)
        elif r.role == "crew":
            # Privately to whoever is on duty (Art. 11, 12): the group may be muted at night.
            text = t.render(lang, "roster.crew_reminder" if stage == Stage.REMINDED else "roster.crew_overdue", **ctx)
            await alerts.enqueue_alert(conn, svc, r.chat_id, text, purpose="reminder", ticket_id=ticket.id,
                                       number=ticket.number, now=now)
        else:
            # The lead (privately), dispatch and the head each get the "Seen, I'm on it" button;
            # the first of them to press it owns the alert (rules.roles.may_acknowledge).
            await alerts.enqueue_alert(conn, svc, r.chat_id, t.render(lang, _ESCALATION_TEMPLATES[r.role], **ctx),
                                       purpose="escalation", ticket_id=ticket.id, number=ticket.number, now=now,
                                       alert_id=alert_id)


async def _shown_in_digest(conn, ticket: Ticket) -> bool:
    """The ticket's card is still a digest (bot/digest.py): its group was over budget. At the
    limit it gets no card of its own there: the lead and dispatch are told (Art. 13) and the
    group was reminded before it; one card per overdue ticket would cost the group a message of
    its 20 a minute for each ticket exactly when the digests show it cannot carry that."""
    if ticket.card_message_id is None or ticket.card_chat_id is None:
        return False
    return await outbox.card_is_digest(conn, ticket.id, ticket.card_chat_id, ticket.card_message_id)


async def alert_wide_impact(conn, svc: Services, ticket_id: int, reasons: list[str], now: datetime) -> None:
    """Art. 7: events touching residents' vital interests with possible wide social impact go
    to leadership at once."""
    ticket = await tickets.get_ticket(conn, ticket_id)
    t, lang = svc.texts, svc.default_lang
    alert_id = await deadlines.add_alert(conn, ticket_id, None, "wide_impact", now)
    await tickets.add_event(conn, ticket_id, now, "wide_impact", detail={"alert": alert_id})
    text = t.render(lang, "clock.wide_impact", number=ticket.number, category=svc.policy.category(ticket.category).label(lang),
                    place=ticket.address or "", source=t.label(lang, f"source_{ticket.source}"))
    ack = [[(t.label(lang, "btn_ack"), Acknowledge(alert_id).pack())]]
    for target in await escalation.leadership(conn):
        await enqueue_message(conn, target, message(text, buttons=ack), priority=Priority.URGENT, purpose="escalation",
                              now=now, ticket_id=ticket_id)


async def acknowledge(svc: Services, who: Who, data: Acknowledge | None, chat_id: int, message_id: int) -> str:
    """"Seen, on it": records who took the alert, once; the first to press owns it. Only
    dispatch, leadership and the ticket's own centre lead may (rules.roles.may_acknowledge),
    and only from the message that carries the alert."""
    t, lang = svc.texts, svc.default_lang
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        alert = await deadlines.get_alert(conn, data.alert_id) if data is not None else None
        if alert is None:
            return t.label(lang, "alert_unknown_button")
        alert_id = alert.id
        ticket = await tickets.get_ticket(conn, alert.ticket_id)
        if not may_acknowledge(staff, ticket.centre_id):
            return t.label(lang, "alert_not_yours")
        if not await views.message_carries(conn, chat_id, message_id, data.pack()):
            return t.label(lang, "alert_stale")
        now = svc.clock.now()
        if not await deadlines.acknowledge(conn, alert_id, who.user_id, staff.name, now):
            return t.label(lang, "alert_acked_already", name=alert.ack_name or "")
        await tickets.add_event(conn, alert.ticket_id, now, "acknowledged", who.user_id, staff.name, {"alert": alert_id, "kind": alert.kind})
        await enqueue_message(conn, chat_id, message(t.render(lang, "clock.acknowledged", number=ticket.number, name=staff.name, at=now)),
                              priority=Priority.URGENT, purpose="reply", now=now, ticket_id=ticket.id)
        if ticket.card_chat_id is not None:
            await enqueue_card(conn, ticket.card_chat_id, ticket.id, now=now)
    svc.wake_sender()
    return t.label(lang, "alert_acked")


async def overdue_report(svc: Services, who: Who, chat_id: int, horizon: timedelta = timedelta(hours=1)) -> None:
    """``/overdue``: overdue and soon-due limits by centre, for dispatch."""
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if not may_see_overdue(staff) or chat_id not in (dispatch, who.user_id):
            text = t.render(lang, "clock.dispatch_only")
        else:
            groups: dict[str, list[dict]] = {}
            for d in await deadlines.open_before(conn, now + horizon):
                ticket = await tickets.get_ticket(conn, d.ticket_id)
                centre = await org.get_centre(conn, ticket.centre_id)
                name = centre.name(lang) if centre else t.label(lang, "dispatch")
                groups.setdefault(name, []).append({
                    "number": ticket.number, "limit": t.label(lang, f"limit_{d.kind}"), "due": d.due_at,
                    "overdue": d.due_at <= now, "minutes": _minutes(abs(now - d.due_at)),
                    "category": svc.policy.category(ticket.category).label(lang),
                    "source": t.label(lang, f"source_{ticket.source}"),     # where it came from (Art. 4)
                })
            text = t.render(lang, "clock.overdue_list", groups=groups, now=now)
        await enqueue_message(conn, chat_id, message(text), priority=Priority.URGENT, purpose="reply", now=now)
    svc.wake_sender()


async def override(svc: Services, who: Who, chat_id: int, number: int | None, typed: str, field: str, value: str) -> None:
    """Dispatch sets a ticket's level or category (Art. 13, other rules (1)); the limits are
    recomputed from the time the report was received (Art. 13). ``number`` is None when
    ``typed`` is not a ticket number."""
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        ticket = await tickets.get_ticket(conn, number) if number is not None else None
        key, ctx = None, {"number": typed, "value": value}
        if not may_override(staff) or chat_id != dispatch:
            key = "clock.dispatch_only"
        elif ticket is None:
            key = "clock.no_ticket"
        elif ticket.status == "closed":
            key = "clock.ticket_closed"
        elif field == "level" and value not in ("major", "general"):
            key = "clock.bad_level"
        elif field == "category" and value not in svc.policy.categories:
            key, ctx["codes"] = "clock.bad_category", ", ".join(svc.policy.categories)
        if key is not None:
            await enqueue_message(conn, chat_id, message(t.render(lang, key, **ctx)), priority=Priority.URGENT, purpose="reply", now=now)
        else:
            category = value if field == "category" else ticket.category
            level_override = Level(value) if field == "level" else (Level(ticket.level) if await tickets.has_event(conn, ticket.id, "set_level") else None)
            a = assess(svc.policy, category, ticket.source, ticket.received_at, level_override=level_override)
            await tickets.set_classification(conn, ticket.id, category, str(a.level))
            transferred = await tickets.has_event(conn, ticket.id, "transferred")
            new_dues = {"accept": a.deadlines.accept_by, "onsite": a.deadlines.onsite_by, "close": a.deadlines.close_by}
            for kind, due in new_dues.items():
                d = await deadlines.get(conn, ticket.id, kind)
                # Met limits stay as judged; an approved delay stands; a transferred ticket's
                # accept clock runs from the transfer (Art. 12), not from the report.
                if d is None or d.state != "open" or d.delayed or (kind == "accept" and transferred):
                    continue
                stage = Stage.NONE if due > d.due_at else d.stage
                await deadlines.move(conn, d.id, due_at=due, stage=stage, next_at=_next(svc, kind, due, stage), delayed=False)
                await tickets.set_ticket_limit(conn, ticket.id, kind, due)
            await tickets.add_event(conn, ticket.id, now, f"set_{field}", who.user_id, staff.name,
                                    {"from": getattr(ticket, field), "to": value})
            await enqueue_card(conn, ticket.card_chat_id or chat_id, ticket.id, now=now)
            await enqueue_message(conn, chat_id, message(t.render(lang, "clock.override_done", number=ticket.number,
                                  level=t.label(lang, f"level_{a.level}"), category=svc.policy.category(category).label(lang),
                                  close_by=a.deadlines.close_by)), priority=Priority.URGENT, purpose="reply", now=now)
    svc.wake_sender()
