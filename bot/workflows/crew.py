"""A crew's requests on a card (delay, return, coordination) and its replies to the bot's questions."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot import clockwork, desk, views
from bot.callbacks import CardRequest, Choice, Decision, RequestVerb
from bot.payload import Buttons
from bot.services import Services, Who
from bot.workflows.common import (
    MAX_CLOSE_EXTENSION, MAX_REPORT, ask_in_group, centre_name, clip, close_due, limit_name, open_clocks,
    say_in_group, supersede_open, typed_time, when_text,
)
from bot.workflows.decisions import close_out_of_scope
from rules.deadlines import DelayRefused, check_delay, parse_new_time
from rules.org import Staff
from rules.roles import may_answer_for, may_assign, may_decide_request
from rules.tickets import Status
from storage import deadlines, org, requests, tickets
from storage.outbox import enqueue_card
from storage.requests import Request
from storage.tickets import Ticket

__all__ = ["on_button", "answer_prompt"]

log = logging.getLogger(__name__)


async def on_button(svc: Services, who: Who, data: CardRequest | None, chat_id: int, message_id: int) -> str:
    """A ``w:<ticket>:<delay|return|coord|assign>`` press on a crew card (``data`` is None when it
    did not parse); returns the callback answer."""
    t = svc.texts
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        allowed = await desk.authorise_card_press(conn, svc, lang, who, data.ticket_id if data else None, chat_id, message_id)
        if isinstance(allowed, str):
            return allowed
        ticket, staff = allowed
        if ticket.status == Status.CLOSED:
            return t.label(lang, "wf_closed")
        step = {RequestVerb.DELAY: _ask_delay, RequestVerb.RETURN: _ask_return, RequestVerb.COORD: _start_coordination,
                RequestVerb.ASSIGN: _ask_assign}[data.verb]
        answer = await step(conn, svc, lang, staff, ticket, chat_id, svc.clock.now())
    svc.wake_sender()
    return answer


async def _ask_delay(conn, svc: Services, lang: str, staff: Staff, ticket: Ticket, chat_id: int, now: datetime) -> str:
    t = svc.texts
    if ticket.status == Status.NEW:
        return t.label(lang, "wf_delay_accept_first")
    clocks = await open_clocks(conn, ticket.id)
    if not clocks:
        return t.label(lang, "wf_nothing_due")
    target = clocks[0]
    if target.due_at <= now:
        # Art. 13: say why *before* the limit runs out; after it the overrun counts late.
        return t.label(lang, "wf_delay_passed", limit=limit_name(svc, lang, target.kind), due=when_text(svc, lang, target.due_at))
    if any(r.status == "pending" for r in await requests.open_of(conn, ticket.id, "delay")):
        return t.label(lang, "wf_delay_pending")
    await supersede_open(conn, ticket.id, "delay", "superseded")
    request_id = await requests.create(conn, ticket.id, "delay", staff.user_id, now, deadline_kind=target.kind)
    glang = svc.default_lang
    example = target.due_at + timedelta(hours=1)
    if target.kind not in ("close", "report"):
        example = min(example, await close_due(conn, ticket))
    day, clock_time = typed_time(svc, example, now)
    text = t.render(glang, "workflow.delay_prompt", uid=staff.user_id, name=staff.name, number=ticket.number,
                    limit=limit_name(svc, glang, target.kind), due=target.due_at, example_day=day, example_time=clock_time)
    await ask_in_group(conn, svc, chat_id, text, request_id, "delay", now, ticket.id)
    return t.label(lang, "wf_prompt_sent")


async def _ask_return(conn, svc: Services, lang: str, staff: Staff, ticket: Ticket, chat_id: int, now: datetime) -> str:
    t = svc.texts
    if any(r.status == "pending" for r in await requests.open_of(conn, ticket.id, "return")):
        return t.label(lang, "wf_return_pending")
    await supersede_open(conn, ticket.id, "return", "superseded")
    request_id = await requests.create(conn, ticket.id, "return", staff.user_id, now)
    text = t.render(svc.default_lang, "workflow.return_prompt", uid=staff.user_id, name=staff.name, number=ticket.number)
    await ask_in_group(conn, svc, chat_id, text, request_id, "return", now, ticket.id)
    return t.label(lang, "wf_prompt_sent")


async def _ask_assign(conn, svc: Services, lang: str, staff: Staff, ticket: Ticket, chat_id: int, now: datetime) -> str:
    """A ticket dispatch holds because it could not be routed (Art. 5): dispatch picks the
    centre from the same decision message a return gets, with no reason to type."""
    t = svc.texts
    if not may_assign(staff, ticket.centre_id):
        return t.label(lang, "alert_not_yours")
    if any(r.status == "pending" for r in await requests.open_of(conn, ticket.id, "return")):
        return t.label(lang, "wf_return_pending")
    request_id = await requests.create(conn, ticket.id, "return", staff.user_id, now)
    req = await requests.get(conn, request_id)
    await _return_reply(conn, svc, staff, req, ticket, chat_id, t.label(svc.default_lang, "assign_reason"), now)
    return t.label(lang, "alert_ok")


async def _start_coordination(conn, svc: Services, lang: str, staff: Staff, ticket: Ticket, chat_id: int,
                              now: datetime) -> str:
    t, glang = svc.texts, svc.default_lang
    if ticket.status != Status.ON_SITE:
        return t.label(lang, "wf_coord_on_site_only")
    running = await deadlines.get(conn, ticket.id, "report")
    if running is not None and running.state == "open":
        return t.label(lang, "wf_report_running", due=when_text(svc, lang, running.due_at))
    due = now + svc.policy.report_limit            # Art. 13 limits (4): a written report within 8 hours
    await clockwork.restart_clock(conn, svc, ticket.id, "report", due)
    await supersede_open(conn, ticket.id, "report", "superseded")
    request_id = await requests.create(conn, ticket.id, "report", staff.user_id, now, deadline_kind="report")
    await tickets.add_event(conn, ticket.id, now, "coordination", staff.user_id, staff.name,
                            {"report_due": due, "request": request_id})
    await enqueue_card(conn, chat_id, ticket.id, now=now)
    await ask_in_group(conn, svc, chat_id, t.render(glang, "workflow.report_prompt", uid=staff.user_id, name=staff.name,
                                               number=ticket.number, due=due), request_id, "report", now, ticket.id)
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        await say_in_group(conn, svc, dispatch, t.render(glang, "workflow.report_started", number=ticket.number, name=staff.name,
                     centre=await centre_name(conn, svc, glang, ticket.centre_id), due=due), now, ticket.id)
    return t.label(lang, "wf_report_started", due=when_text(svc, lang, due))


async def answer_prompt(conn, svc: Services, who: Who, chat_id: int, prompt: dict[str, Any], text: str) -> None:
    """A reply to one of this module's questions (routed by bot/replies.py)."""
    t = svc.texts
    lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    now = svc.clock.now()
    req = await requests.get(conn, prompt["request"])
    ticket = await tickets.get_ticket(conn, req.ticket_id) if req else None
    staff = await org.get_staff(conn, who.user_id)

    async def say(key: str, **ctx: Any) -> None:
        await say_in_group(conn, svc, chat_id, t.render(lang, f"workflow.{key}", number=ticket.number if ticket else "", **ctx),
                     now, ticket.id if ticket else None, purpose="reply")

    if req is None or ticket is None:
        return await say("prompt_gone")
    # The explanation for the resident answers dispatch's own prompt, not the crew's reason prompt.
    explaining = (prompt.get("step") == "explain" and req.kind == "return" and req.status == "approved"
                  and req.outcome == "out_of_scope")
    if req.status != "awaiting_reply" and not explaining:
        return await say("prompt_gone")
    if explaining:
        if not may_decide_request(staff):
            return await say("reply_dispatch_only")
    elif not may_answer_for(staff, who.user_id, req.requested_by):
        requester = await org.get_staff(conn, req.requested_by)
        return await say("reply_not_yours", requester=requester.name if requester else "")
    body = text.strip()
    if not body:
        return await say("reply_empty")
    if explaining:
        return await close_out_of_scope(conn, svc, staff, req, ticket, chat_id, clip(body), now)
    if req.kind == "report":
        return await _submit_report(conn, svc, staff, req, ticket, chat_id, clip(body, MAX_REPORT), now)
    if ticket.status == Status.CLOSED:
        await requests.cancel(conn, req.id, "ticket_closed")
        return await say("ticket_closed")
    if req.kind == "delay":
        return await _delay_reply(conn, svc, lang, staff, req, ticket, chat_id, body, now, say)
    return await _return_reply(conn, svc, staff, req, ticket, chat_id, clip(body), now)


async def _delay_reply(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                       body: str, now: datetime, say) -> None:
    t, glang = svc.texts, svc.default_lang
    d = await deadlines.get(conn, ticket.id, req.deadline_kind or "")
    if d is None or d.state != "open":
        await requests.cancel(conn, req.id, "limit_gone")
        return await say("delay_limit_gone", limit=limit_name(svc, lang, req.deadline_kind or "close"))
    close_by = await close_due(conn, ticket)
    ceiling = close_by + MAX_CLOSE_EXTENSION if d.kind in ("close", "report") else close_by
    try:
        reason, new_local = parse_new_time(body, now.astimezone(svc.tz))
        new_due = new_local.astimezone(now.tzinfo)
        check_delay(d.kind, d.due_at, new_due, now, close_by, max_close_extension=MAX_CLOSE_EXTENSION)
    except DelayRefused as refused:
        if refused.code == "passed":
            await requests.cancel(conn, req.id, "passed")
        # Any other refusal leaves the prompt open: the crew replies to it again.
        return await say("delay_refused", code=refused.code, limit=limit_name(svc, lang, d.kind), due=d.due_at, ceiling=ceiling)
    reason = clip(reason)
    if not await requests.set_reply(conn, req.id, reason=reason, new_due_at=new_due, deadline_kind=d.kind, to_status="pending"):
        return await say("prompt_gone")
    name = staff.name if staff else ""
    await tickets.add_event(conn, ticket.id, now, "delay_requested", staff.user_id if staff else None, name,
                            {"limit": d.kind, "reason": reason, "from": d.due_at, "to": new_due, "request": req.id})
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None:
        return await say("no_dispatch")
    buttons = [[(t.label(glang, "wf_btn_approve"), Decision(req.id, Choice.OK).pack()),
                (t.label(glang, "wf_btn_reject"), Decision(req.id, Choice.NO).pack())]]
    await say_in_group(conn, svc, dispatch, t.render(
        glang, "workflow.delay_ask", number=ticket.number, centre=await centre_name(conn, svc, glang, ticket.centre_id),
        name=name, limit=limit_name(svc, glang, d.kind), due=d.due_at, new_due=new_due, reason=reason,
        category=svc.policy.category(ticket.category).label(glang), place=ticket.address or "",
    ), now, ticket.id, buttons=buttons)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.delay_sent", number=ticket.number, limit=limit_name(svc, glang, d.kind),
                                              new_due=new_due), now, ticket.id, purpose="reply")


async def _return_reply(conn, svc: Services, staff: Staff | None, req: Request, ticket: Ticket, chat_id: int, reason: str,
                        now: datetime) -> None:
    t, glang = svc.texts, svc.default_lang
    if not await requests.set_reply(conn, req.id, reason=reason, new_due_at=None, deadline_kind=None, to_status="pending"):
        return
    name = staff.name if staff else ""
    await tickets.add_event(conn, ticket.id, now, "return_requested", staff.user_id if staff else None, name,
                            {"reason": reason, "request": req.id, "centre": ticket.centre_id})
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None:
        await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.no_dispatch", number=ticket.number), now, ticket.id)
        return
    kind = str(svc.policy.category(ticket.category).centre_kind)
    others = [c for c in await org.list_centres(conn) if c.id != ticket.centre_id]
    # Centres of the kind the category needs first: the likely right owner (Art. 5, 9–10).
    others.sort(key=lambda c: (c.kind != kind, c.id))
    buttons: Buttons = []
    for c in others:
        try:
            data = Decision(req.id, Choice.TRANSFER, c.id).pack()
        except ValueError:      # over Telegram's 64 bytes; `heatbot org check` refuses such ids
            log.warning("centre id %r too long for a transfer button", c.id)
            continue
        buttons.append([(t.label(glang, "wf_btn_transfer", centre=c.name(glang)), data)])
    buttons.append([(t.label(glang, "wf_btn_out_of_scope"), Decision(req.id, Choice.SCOPE).pack())])
    buttons.append([(t.label(glang, "wf_btn_keep"), Decision(req.id, Choice.NO).pack())])
    await say_in_group(conn, svc, dispatch, t.render(
        glang, "workflow.return_ask", number=ticket.number, centre=await centre_name(conn, svc, glang, ticket.centre_id),
        name=name, reason=reason, category=svc.policy.category(ticket.category).label(glang),
        status=t.label(glang, f"status_{ticket.status}"), place=ticket.address or "",
    ), now, ticket.id, buttons=buttons)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.return_sent", number=ticket.number), now, ticket.id, purpose="reply")


async def _submit_report(conn, svc: Services, staff: Staff | None, req: Request, ticket: Ticket, chat_id: int,
                         report: str, now: datetime) -> None:
    """The written report (Art. 13 limits (4)): meets the report clock, goes to the ledger and
    to dispatch, the department concerned."""
    t, glang = svc.texts, svc.default_lang
    if not await requests.set_reply(conn, req.id, reason=report, new_due_at=None, deadline_kind=None, to_status="done"):
        return
    met = await deadlines.meet(conn, ticket.id, "report", now)
    late = met is not None and now > met.due_at
    name = staff.name if staff else ""
    if late:
        # Counted like any other late limit (Art. 13 other rules (2); per-centre figures, Art. 8).
        minutes = int((now - met.due_at).total_seconds() // 60)
        await tickets.add_event(conn, ticket.id, now, "late", detail={"limit": "report", "minutes": minutes})
    await tickets.add_event(conn, ticket.id, now, "report_submitted", staff.user_id if staff else None, name,
                            {"report": report, "request": req.id, "late": late})
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        await say_in_group(conn, svc, dispatch, t.render(
            glang, "workflow.report_received", number=ticket.number, name=name, report=report, late=late,
            centre=await centre_name(conn, svc, glang, ticket.centre_id)), now, ticket.id)
    await say_in_group(conn, svc, chat_id, t.render(glang, "workflow.report_saved", number=ticket.number, late=late), now, ticket.id,
                 purpose="reply")
    if ticket.card_chat_id is not None:
        await enqueue_card(conn, ticket.card_chat_id, ticket.id, now=now)
