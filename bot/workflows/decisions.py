"""Dispatch's decisions on crew requests: approve or reject a delay; transfer, close as out of
scope, or refuse a return."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import clockwork, views
from bot.callbacks import Choice, Decision
from bot.payload import message
from bot.services import Services, Who
from bot.workflows.common import (
    MAX_CLOSE_EXTENSION, ask_in_group, centre_name, close_due, limit_name, say_in_group, tell_resident,
    when_text,
)
from rules.deadlines import DelayRefused, Stage, check_delay, next_check
from rules.org import Staff
from rules.policy import DeadlineKind
from rules.roles import may_decide_request
from rules.tickets import Status
from storage import deadlines, org, outbox, requests, tickets
from storage.outbox import Priority, enqueue_card, enqueue_message
from storage.requests import Request
from storage.tickets import Ticket

__all__ = ["on_decision", "close_out_of_scope"]

log = logging.getLogger(__name__)


async def on_decision(svc: Services, who: Who, data: Decision | None, chat_id: int, message_id: int) -> str:
    """A ``d:<request>:<choice>`` press on a dispatch decision message (``data`` is None when it
    did not parse). Only dispatch decides (Art. 10 (1), Art. 13 other rules (3)), in its own
    group, and only from the message that asked about that request."""
    t = svc.texts
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        req = await requests.get(conn, data.request_id) if data is not None else None
        if req is None or req.kind not in ("delay", "return"):
            return t.label(lang, "alert_unknown_button")
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if not may_decide_request(staff) or chat_id != dispatch:
            return t.label(lang, "wf_dispatch_only")
        if not await views.message_carries(conn, chat_id, message_id, data.pack()):
            return t.label(lang, "alert_stale")
        if req.status != "pending":
            return await _decided_already(conn, svc, lang, req)
        ticket = await tickets.get_ticket(conn, req.ticket_id)
        now = svc.clock.now()
        if ticket.status == Status.CLOSED:
            await requests.cancel(conn, req.id, "ticket_closed")
            return t.label(lang, "wf_closed")
        choice = data.choice
        if req.kind == "delay" and choice in (Choice.OK, Choice.NO):
            answer = await (_approve_delay if choice == Choice.OK else _reject_delay)(conn, svc, lang, staff, req, ticket, chat_id, now)
        elif req.kind == "return" and choice == Choice.NO:
            answer = await _reject_return(conn, svc, lang, staff, req, ticket, chat_id, now)
        elif req.kind == "return" and choice == Choice.SCOPE:
            answer = await _out_of_scope(conn, svc, lang, staff, req, ticket, chat_id, now)
        elif req.kind == "return" and choice == Choice.TRANSFER:
            answer = await _transfer(conn, svc, lang, staff, req, ticket, chat_id, now, data.centre_id)
        else:
            return t.label(lang, "alert_unknown_button")
        decided = await requests.get(conn, req.id)
        if decided.status != "pending" and decided.decided_by == staff.user_id:
            await _close_decision_message(conn, svc, staff, decided, chat_id, message_id, now)
        elif decided.status == "cancelled":
            await _close_decision_message(conn, svc, staff, decided, chat_id, message_id, now,
                                          outcome=t.label(svc.default_lang, "wf_outcome_void"))
    svc.wake_sender()
    return answer


async def _close_decision_message(conn, svc: Services, staff: Staff, req: Request, chat_id: int, message_id: int,
                                  now: datetime, outcome: str | None = None) -> None:
    """The decision message loses its buttons and says who decided what, so nobody presses a
    settled question (presses on it are refused anyway)."""
    row = await outbox.sent_row(conn, chat_id, message_id)
    if row is None:
        return
    t, glang = svc.texts, svc.default_lang
    outcome = outcome or t.label(glang, "wf_outcome_rejected" if req.status == "rejected" else "wf_outcome_approved")
    original = row[1].get("text", "")
    text = original + "\n\n" + t.label(glang, "wf_decided_line", name=staff.name, outcome=outcome)
    payload = message(text)
    payload["edit_of"] = row[0]
    await enqueue_message(conn, chat_id, payload, priority=Priority.URGENT, purpose="decision", now=now, ticket_id=req.ticket_id)


async def _decided_already(conn, svc: Services, lang: str, req: Request) -> str:
    t = svc.texts
    if req.status in ("cancelled", "awaiting_reply"):
        return t.label(lang, "wf_request_gone")
    decider = await org.get_staff(conn, req.decided_by) if req.decided_by is not None else None
    outcome = t.label(lang, "wf_outcome_rejected" if req.status == "rejected" else "wf_outcome_approved")
    return t.label(lang, "wf_decided_already", name=decider.name if decider else "", outcome=outcome)


async def _already(conn, svc: Services, lang: str, req: Request) -> str:
    """The compare-and-set lost: someone decided in between."""
    return await _decided_already(conn, svc, lang, await requests.get(conn, req.id))


async def _approve_delay(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                         now: datetime) -> str:
    t, glang = svc.texts, svc.default_lang
    d = await deadlines.get(conn, ticket.id, req.deadline_kind or "")
    if d is None or d.state != "open":
        await requests.cancel(conn, req.id, "limit_gone")
        return t.label(lang, "wf_limit_gone")
    new_due = req.new_due_at
    close_by = await close_due(conn, ticket)
    ceiling = close_by + MAX_CLOSE_EXTENSION if d.kind in ("close", "report") else close_by
    try:
        # Checked again against the limits as they stand now: a /level or /category since the
        # crew asked may have brought the close limit forward (Art. 13 limits (3)).
        check_delay(d.kind, d.due_at, new_due, now, close_by, MAX_CLOSE_EXTENSION, deciding=True)
    except DelayRefused as refused:
        return await _void_delay(conn, svc, lang, req, ticket, d.kind, refused.code, ceiling, now)
    if not await requests.decide(conn, req.id, to_status="approved", by=staff.user_id, now=now):
        return await _already(conn, svc, lang, req)
    lead = svc.policy.reminder_lead[DeadlineKind(d.kind)]
    # A fresh limit: its reminder, escalation and head stages are all still to come.
    await deadlines.move(conn, d.id, due_at=new_due, stage=int(Stage.NONE),
                         next_at=next_check(new_due, Stage.NONE, lead, svc.policy.escalation_interval), delayed=True)
    await tickets.set_ticket_limit(conn, ticket.id, d.kind, new_due)
    await tickets.add_event(conn, ticket.id, now, "delay_approved", staff.user_id, staff.name,
                            {"limit": d.kind, "from": d.due_at, "to": new_due, "request": req.id,
                             "reason": req.reason})
    if ticket.card_chat_id is not None:
        await enqueue_card(conn, ticket.card_chat_id, ticket.id, now=now)
        await say_in_group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_approved", number=ticket.number,
                     by=staff.name, limit=limit_name(svc, glang, d.kind), new_due=new_due), now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_delay_ok", limit=limit_name(svc, glang, d.kind), due=when_text(svc, glang, new_due))),
                 now, ticket.id, purpose="reply")
    if d.kind == "onsite":
        await tell_resident(conn, svc, ticket, "workflow.resident_new_onsite", now, new_due=new_due)
    return t.label(lang, "wf_approved")


async def _void_delay(conn, svc: Services, lang: str, req: Request, ticket: Ticket, kind: str, code: str, ceiling: datetime,
                      now: datetime) -> str:
    """A delay that no longer fits cannot be approved: the request is void, the crew is told why
    and may ask again (only one delay request may wait at a time)."""
    t, glang = svc.texts, svc.default_lang
    if not await requests.cancel(conn, req.id, f"void:{code}"):
        return await _already(conn, svc, lang, req)
    await tickets.add_event(conn, ticket.id, now, "delay_void", detail={"limit": kind, "request": req.id, "reason": code})
    if ticket.card_chat_id is not None:
        await say_in_group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_void", number=ticket.number, code=code,
                     limit=limit_name(svc, glang, kind), new_due=req.new_due_at, ceiling=ceiling), now, ticket.id)
    if code == "beyond_close":
        return t.label(lang, "wf_delay_no_longer_fits", new_due=when_text(svc, lang, req.new_due_at), ceiling=when_text(svc, lang, ceiling))
    return t.label(lang, "wf_delay_time_gone", new_due=when_text(svc, lang, req.new_due_at))


async def _reject_delay(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                        now: datetime) -> str:
    t, glang = svc.texts, svc.default_lang
    if not await requests.decide(conn, req.id, to_status="rejected", by=staff.user_id, now=now):
        return await _already(conn, svc, lang, req)
    d = await deadlines.get(conn, ticket.id, req.deadline_kind or "")
    due = d.due_at if d else ticket.close_by
    await tickets.add_event(conn, ticket.id, now, "delay_rejected", staff.user_id, staff.name,
                            {"limit": req.deadline_kind, "request": req.id})
    if ticket.card_chat_id is not None:
        await say_in_group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_rejected", number=ticket.number,
                     by=staff.name, limit=limit_name(svc, glang, req.deadline_kind or "close"), due=due), now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_delay_no")), now, ticket.id, purpose="reply")
    return t.label(lang, "wf_rejected")


async def _reject_return(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                         now: datetime) -> str:
    t, glang = svc.texts, svc.default_lang
    if not await requests.decide(conn, req.id, to_status="rejected", by=staff.user_id, now=now):
        return await _already(conn, svc, lang, req)
    await tickets.add_event(conn, ticket.id, now, "return_rejected", staff.user_id, staff.name, {"request": req.id})
    if ticket.card_chat_id is not None:
        await say_in_group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.return_rejected", number=ticket.number,
                     by=staff.name), now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_return_no")), now, ticket.id, purpose="reply")
    return t.label(lang, "wf_rejected")


async def _transfer(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                    now: datetime, centre_id: str) -> str:
    """Art. 5: the task goes to the right centre, with a transfer record; Art. 12: that centre
    accepts it within the accept limit, counted afresh."""
    t, glang = svc.texts, svc.default_lang
    target = await org.get_centre(conn, centre_id)
    if target is None or target.id == ticket.centre_id:
        return t.label(lang, "wf_bad_centre")
    if not await requests.decide(conn, req.id, to_status="approved", by=staff.user_id, now=now, outcome=f"transfer:{target.id}"):
        return await _already(conn, svc, lang, req)
    old_chat = ticket.card_chat_id
    if old_chat is None:
        old_centre = await org.get_centre(conn, ticket.centre_id)
        old_chat = old_centre.chat_id if old_centre else await org.get_setting(conn, "dispatch_chat_id")
    if not await tickets.transfer_ticket(conn, ticket.id, from_status=ticket.status, centre_id=target.id):
        raise RuntimeError(f"ticket {ticket.id} changed inside the transaction")   # cannot happen: we hold the lock
    # Refreshes still queued for the old group would post the card there again; the old card is
    # retired (the group is told below), so they are satisfied as they stand.
    if old_chat is not None:
        last = await outbox.last_pending_card_id(conn, ticket.id, old_chat)
        if last is not None:
            await outbox.supersede_cards(conn, ticket.id, old_chat, last, now)
    category = svc.policy.category(ticket.category)
    accept_by = now + timedelta(minutes=category.accept_minutes)
    await clockwork.restart_clock(conn, svc, ticket.id, "accept", accept_by)
    await tickets.set_ticket_limit(conn, ticket.id, "accept", accept_by)
    onsite = await deadlines.get(conn, ticket.id, "onsite")
    if onsite is not None and onsite.state != "open":
        # The old crew had arrived; the new centre must arrive too. An open on-site limit keeps
        # running from the time the report was received (Art. 13).
        onsite_by = now + timedelta(minutes=category.onsite_minutes)
        await clockwork.restart_clock(conn, svc, ticket.id, "onsite", onsite_by)
        await tickets.set_ticket_limit(conn, ticket.id, "onsite", onsite_by)
    await deadlines.cancel_open(conn, ticket.id, ("report",))
    for kind in ("delay", "report"):
        for r in await requests.open_of(conn, ticket.id, kind):
            await requests.cancel(conn, r.id, "transferred")
    old_name = await centre_name(conn, svc, glang, ticket.centre_id)
    await tickets.add_event(conn, ticket.id, now, "transferred", staff.user_id, staff.name,
                            {"from": ticket.centre_id, "to": target.id, "reason": req.reason, "request": req.id})
    await enqueue_card(conn, target.chat_id, ticket.id, now=now)
    await enqueue_message(conn, target.chat_id, message(t.render(
        glang, "workflow.transferred_in", number=ticket.number, from_centre=old_name, by=staff.name, reason=req.reason or "",
        accept_by=accept_by), reply_to_card=ticket.id), priority=Priority.URGENT, purpose="workflow", now=now, ticket_id=ticket.id)
    if old_chat is not None and old_chat != target.chat_id:
        notice = t.render(glang, "workflow.transferred_out", number=ticket.number, to_centre=target.name(glang), by=staff.name)
        if not await _retire_card(conn, svc, ticket, notice, now):
            await say_in_group(conn, svc, old_chat, notice, now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_transfer", centre=target.name(glang))), now, ticket.id, purpose="reply")
    await tell_resident(conn, svc, ticket, "workflow.resident_transferred", now, centre=target.name(ticket.resident_lang))
    return t.label(lang, "wf_transferred", centre=target.name(lang))


async def _retire_card(conn, svc: Services, ticket: Ticket, notice: str, now: datetime) -> bool:
    """The old centre's card becomes the transfer notice: its buttons go, and so does the
    resident's contact, which only the holding centre and dispatch may see."""
    if ticket.card_chat_id is None or ticket.card_message_id is None:
        return False
    row = await outbox.sent_row(conn, ticket.card_chat_id, ticket.card_message_id)
    if row is None:
        return False
    payload = message(notice)
    payload["edit_of"] = row[0]
    await enqueue_message(conn, ticket.card_chat_id, payload, priority=Priority.URGENT, purpose="workflow", now=now, ticket_id=ticket.id)
    return True


async def _out_of_scope(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                        now: datetime) -> str:
    """Art. 6: an out-of-scope request is explained to the resident. The ticket closes when a
    dispatcher has written that explanation; until then it stays with its centre."""
    t, glang = svc.texts, svc.default_lang
    if not await requests.decide(conn, req.id, to_status="approved", by=staff.user_id, now=now, outcome="out_of_scope"):
        return await _already(conn, svc, lang, req)
    await tickets.add_event(conn, ticket.id, now, "return_out_of_scope", staff.user_id, staff.name, {"request": req.id})
    await ask_in_group(conn, svc, chat_id, t.render(glang, "workflow.explain_prompt", uid=staff.user_id, name=staff.name,
                                               number=ticket.number, reason=req.reason or ""), req.id, "explain", now, ticket.id)
    return t.label(lang, "wf_explain_asked")


async def close_out_of_scope(conn, svc: Services, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                              explanation: str, now: datetime) -> None:
    t, glang = svc.texts, svc.default_lang
    if ticket.status == Status.CLOSED:
        await requests.finish(conn, req.id, from_status="approved")
        await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.ticket_closed", number=ticket.number), now, ticket.id,
                     purpose="reply")
        return
    if not await requests.finish(conn, req.id, from_status="approved"):
        return
    await tickets.close_out_of_scope(conn, ticket.id, from_status=ticket.status, by=staff.user_id, now=now,
                                      explanation=explanation)
    await deadlines.cancel_open(conn, ticket.id)
    for kind in ("delay", "return", "report"):
        for r in await requests.open_of(conn, ticket.id, kind):
            await requests.cancel(conn, r.id, "ticket_closed")
    await tickets.add_event(conn, ticket.id, now, "closed_out_of_scope", staff.user_id, staff.name,
                            {"explanation": explanation, "request": req.id})
    if ticket.card_chat_id is not None:
        await enqueue_card(conn, ticket.card_chat_id, ticket.id, now=now)
        if ticket.card_chat_id != chat_id:
            await say_in_group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.closed_out_of_scope", number=ticket.number,
                         by=staff.name, explanation=explanation), now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_out_of_scope")), now, ticket.id, purpose="reply")
    await tell_resident(conn, svc, ticket, "workflow.resident_out_of_scope", now, explanation=explanation)
