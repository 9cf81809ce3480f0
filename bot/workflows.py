"""Crew requests that need a reply or dispatch's decision: delay, return (退单), coordination
report.

* **Report delay** (Art. 13 preamble, other rules (2)): a centre that will miss a limit says why
  *before* it runs out. The crew replies to a prompt with a reason and a new time; dispatch
  approves (the deadline moves, the ticket is not late for it) or rejects (the clock is kept).
* **Return** (退单, Art. 5–6, Art. 13 other rules (3)): only with dispatch's permission, and
  with a reason. Dispatch hands the ticket to another centre (fresh accept clock, Art. 12, and a
  transfer record in the ledger, Art. 5), closes it as out of scope with an explanation to the
  resident (Art. 6), or refuses (the ticket stays, its clock running). The ticket always has
  exactly one owner.
* **Needs coordination** (Art. 13 limits (4)): a written report within 8 hours, submitted as a
  reply; the sweeper reminds and escalates the ``report`` clock like any other.

Asking for text in a group: the bot posts a question tagged with its request (bot/prompts.py);
bot/replies.py hands a reply to it to :func:`answer_prompt`. Every press
and reply is authorised against the database, never the callback data; every change and the
messages it causes are committed in one transaction.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot import clockwork, desk, views
from bot.callbacks import CardRequest, Choice, Decision, RequestVerb
from bot.payload import Buttons, message
from bot.prompts import ask
from bot.services import Services, Who
from rules.deadlines import DelayRefused, Stage, check_delay, next_check, parse_new_time
from rules.policy import DeadlineKind
from rules.roles import may_answer_for, may_assign, may_decide_request
from rules.tickets import Status
from storage import deadlines, org, outbox, requests, tickets
from rules.org import Staff
from storage.outbox import Priority, enqueue_card, enqueue_message
from storage.requests import Request
from storage.tickets import Ticket

__all__ = ["on_button", "on_decision", "answer_prompt", "MAX_CLOSE_EXTENSION"]

log = logging.getLogger(__name__)

# How far past the close limit a delay of the close (or report) limit may go. Beyond a day the
# matter is no longer a delay but one for dispatch to re-plan (Art. 13, other rules (1)).
MAX_CLOSE_EXTENSION = timedelta(hours=24)
_CLOCKS = ("accept", "onsite", "close", "report")
_MAX_TEXT = 1000            # a reason, an explanation: plenty, and the message stays under Telegram's limit
_MAX_REPORT = 3000


# ------------------------------------------------------------------------------ helpers


def _when(svc: Services, lang: str, value: datetime) -> str:
    return svc.texts.render(lang, "workflow.when", value=value)


def _typed_time(svc: Services, when: datetime, now: datetime) -> tuple[str, str]:
    """How a crew would type ``when`` so that rules.deadlines.parse_new_time reads it back:
    ("", "18:30") today, ("tomorrow", "09:00"), else ("2026-01-17", "09:00")."""
    local, today = when.astimezone(svc.tz), now.astimezone(svc.tz).date()
    if local.date() == today:
        day = ""
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = local.date().isoformat()
    return day, local.strftime("%H:%M")


def _limit(svc: Services, lang: str, kind: str) -> str:
    return svc.texts.label(lang, f"limit_{kind}")


async def _group(conn, svc: Services, chat_id: int, text: str, now: datetime, ticket_id: int | None,
                 buttons: Buttons | None = None, purpose: str = "workflow") -> int:
    return await enqueue_message(conn, chat_id, message(text, buttons=buttons), priority=Priority.URGENT,
                                 purpose=purpose, now=now, ticket_id=ticket_id)


async def _prompt(conn, svc: Services, chat_id: int, text: str, request_id: int, step: str, now: datetime,
                  ticket_id: int) -> None:
    await ask(conn, chat_id, text, {"kind": "request", "request": request_id, "step": step}, now=now, ticket_id=ticket_id)


async def _tell_resident(conn, svc: Services, ticket: Ticket, template: str, now: datetime, **ctx: Any) -> None:
    if ticket.resident_chat_id is None:
        return
    text = svc.texts.render(ticket.resident_lang, template, number=ticket.number, **ctx)
    await enqueue_message(conn, ticket.resident_chat_id, message(text), priority=Priority.STATUS,
                          purpose="resident_status", now=now, ticket_id=ticket.id)


def _clip(text: str, limit: int = _MAX_TEXT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _open_clocks(conn, ticket_id: int) -> list[deadlines.Deadline]:
    return sorted((d for d in await deadlines.for_ticket(conn, ticket_id) if d.state == "open" and d.kind in _CLOCKS),
                  key=lambda d: d.due_at)


async def _close_due(conn, ticket: Ticket) -> datetime:
    d = await deadlines.get(conn, ticket.id, "close")
    return d.due_at if d is not None and d.state == "open" else ticket.close_by


async def _centre_name(conn, svc: Services, lang: str, centre_id: str | None) -> str:
    centre = await org.get_centre(conn, centre_id)
    return centre.name(lang) if centre else svc.texts.label(lang, "dispatch")


async def _supersede_open(conn, ticket_id: int, kind: str, outcome: str) -> None:
    for r in await requests.open_of(conn, ticket_id, kind):
        if r.status == "awaiting_reply":
            await requests.cancel(conn, r.id, outcome)


# ------------------------------------------------------------------------------ crew presses


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
    clocks = await _open_clocks(conn, ticket.id)
    if not clocks:
        return t.label(lang, "wf_nothing_due")
    target = clocks[0]
    if target.due_at <= now:
        # Art. 13: say why *before* the limit runs out; after it the overrun counts late.
        return t.label(lang, "wf_delay_passed", limit=_limit(svc, lang, target.kind), due=_when(svc, lang, target.due_at))
    if any(r.status == "pending" for r in await requests.open_of(conn, ticket.id, "delay")):
        return t.label(lang, "wf_delay_pending")
    await _supersede_open(conn, ticket.id, "delay", "superseded")
    request_id = await requests.create(conn, ticket.id, "delay", staff.user_id, now, deadline_kind=target.kind)
    glang = svc.default_lang
    example = target.due_at + timedelta(hours=1)
    if target.kind not in ("close", "report"):
        example = min(example, await _close_due(conn, ticket))
    day, clock_time = _typed_time(svc, example, now)
    text = t.render(glang, "workflow.delay_prompt", uid=staff.user_id, name=staff.name, number=ticket.number,
                    limit=_limit(svc, glang, target.kind), due=target.due_at, example_day=day, example_time=clock_time)
    await _prompt(conn, svc, chat_id, text, request_id, "delay", now, ticket.id)
    return t.label(lang, "wf_prompt_sent")


async def _ask_return(conn, svc: Services, lang: str, staff: Staff, ticket: Ticket, chat_id: int, now: datetime) -> str:
    t = svc.texts
    if any(r.status == "pending" for r in await requests.open_of(conn, ticket.id, "return")):
        return t.label(lang, "wf_return_pending")
    await _supersede_open(conn, ticket.id, "return", "superseded")
    request_id = await requests.create(conn, ticket.id, "return", staff.user_id, now)
    text = t.render(svc.default_lang, "workflow.return_prompt", uid=staff.user_id, name=staff.name, number=ticket.number)
    await _prompt(conn, svc, chat_id, text, request_id, "return", now, ticket.id)
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
        return t.label(lang, "wf_report_running", due=_when(svc, lang, running.due_at))
    due = now + svc.policy.report_limit            # Art. 13 limits (4): a written report within 8 hours
    await clockwork.restart_clock(conn, svc, ticket.id, "report", due)
    await _supersede_open(conn, ticket.id, "report", "superseded")
    request_id = await requests.create(conn, ticket.id, "report", staff.user_id, now, deadline_kind="report")
    await tickets.add_event(conn, ticket.id, now, "coordination", staff.user_id, staff.name,
                            {"report_due": due, "request": request_id})
    await enqueue_card(conn, chat_id, ticket.id, now=now)
    await _prompt(conn, svc, chat_id, t.render(glang, "workflow.report_prompt", uid=staff.user_id, name=staff.name,
                                               number=ticket.number, due=due), request_id, "report", now, ticket.id)
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        await _group(conn, svc, dispatch, t.render(glang, "workflow.report_started", number=ticket.number, name=staff.name,
                     centre=await _centre_name(conn, svc, glang, ticket.centre_id), due=due), now, ticket.id)
    return t.label(lang, "wf_report_started", due=_when(svc, lang, due))


# ------------------------------------------------------------------------------ replies


async def answer_prompt(conn, svc: Services, who: Who, chat_id: int, prompt: dict[str, Any], text: str) -> None:
    """A reply to one of this module's questions (routed by bot/replies.py)."""
    t = svc.texts
    lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    now = svc.clock.now()
    req = await requests.get(conn, prompt["request"])
    ticket = await tickets.get_ticket(conn, req.ticket_id) if req else None
    staff = await org.get_staff(conn, who.user_id)

    async def say(key: str, **ctx: Any) -> None:
        await _group(conn, svc, chat_id, t.render(lang, f"workflow.{key}", number=ticket.number if ticket else "", **ctx),
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
        return await _close_out_of_scope(conn, svc, staff, req, ticket, chat_id, _clip(body), now)
    if req.kind == "report":
        return await _submit_report(conn, svc, staff, req, ticket, chat_id, _clip(body, _MAX_REPORT), now)
    if ticket.status == Status.CLOSED:
        await requests.cancel(conn, req.id, "ticket_closed")
        return await say("ticket_closed")
    if req.kind == "delay":
        return await _delay_reply(conn, svc, lang, staff, req, ticket, chat_id, body, now, say)
    return await _return_reply(conn, svc, staff, req, ticket, chat_id, _clip(body), now)


async def _delay_reply(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                       body: str, now: datetime, say) -> None:
    t, glang = svc.texts, svc.default_lang
    d = await deadlines.get(conn, ticket.id, req.deadline_kind or "")
    if d is None or d.state != "open":
        await requests.cancel(conn, req.id, "limit_gone")
        return await say("delay_limit_gone", limit=_limit(svc, lang, req.deadline_kind or "close"))
    close_by = await _close_due(conn, ticket)
    ceiling = close_by + MAX_CLOSE_EXTENSION if d.kind in ("close", "report") else close_by
    try:
        reason, new_local = parse_new_time(body, now.astimezone(svc.tz))
        new_due = new_local.astimezone(now.tzinfo)
        check_delay(d.kind, d.due_at, new_due, now, close_by, max_close_extension=MAX_CLOSE_EXTENSION)
    except DelayRefused as refused:
        if refused.code == "passed":
            await requests.cancel(conn, req.id, "passed")
        # Any other refusal leaves the prompt open: the crew replies to it again.
        return await say("delay_refused", code=refused.code, limit=_limit(svc, lang, d.kind), due=d.due_at, ceiling=ceiling)
    reason = _clip(reason)
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
    await _group(conn, svc, dispatch, t.render(
        glang, "workflow.delay_ask", number=ticket.number, centre=await _centre_name(conn, svc, glang, ticket.centre_id),
        name=name, limit=_limit(svc, glang, d.kind), due=d.due_at, new_due=new_due, reason=reason,
        category=svc.policy.category(ticket.category).label(glang), place=ticket.address or "",
    ), now, ticket.id, buttons=buttons)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.delay_sent", number=ticket.number, limit=_limit(svc, glang, d.kind),
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
        await _group(conn, svc, chat_id, t.render(glang, "workflow.no_dispatch", number=ticket.number), now, ticket.id)
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
    await _group(conn, svc, dispatch, t.render(
        glang, "workflow.return_ask", number=ticket.number, centre=await _centre_name(conn, svc, glang, ticket.centre_id),
        name=name, reason=reason, category=svc.policy.category(ticket.category).label(glang),
        status=t.label(glang, f"status_{ticket.status}"), place=ticket.address or "",
    ), now, ticket.id, buttons=buttons)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.return_sent", number=ticket.number), now, ticket.id, purpose="reply")


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
        await _group(conn, svc, dispatch, t.render(
            glang, "workflow.report_received", number=ticket.number, name=name, report=report, late=late,
            centre=await _centre_name(conn, svc, glang, ticket.centre_id)), now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.report_saved", number=ticket.number, late=late), now, ticket.id,
                 purpose="reply")
    if ticket.card_chat_id is not None:
        await enqueue_card(conn, ticket.card_chat_id, ticket.id, now=now)


# ------------------------------------------------------------------------------ dispatch decisions


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
    close_by = await _close_due(conn, ticket)
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
        await _group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_approved", number=ticket.number,
                     by=staff.name, limit=_limit(svc, glang, d.kind), new_due=new_due), now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_delay_ok", limit=_limit(svc, glang, d.kind), due=_when(svc, glang, new_due))),
                 now, ticket.id, purpose="reply")
    if d.kind == "onsite":
        await _tell_resident(conn, svc, ticket, "workflow.resident_new_onsite", now, new_due=new_due)
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
        await _group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_void", number=ticket.number, code=code,
                     limit=_limit(svc, glang, kind), new_due=req.new_due_at, ceiling=ceiling), now, ticket.id)
    if code == "beyond_close":
        return t.label(lang, "wf_delay_no_longer_fits", new_due=_when(svc, lang, req.new_due_at), ceiling=_when(svc, lang, ceiling))
    return t.label(lang, "wf_delay_time_gone", new_due=_when(svc, lang, req.new_due_at))


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
        await _group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.delay_rejected", number=ticket.number,
                     by=staff.name, limit=_limit(svc, glang, req.deadline_kind or "close"), due=due), now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_delay_no")), now, ticket.id, purpose="reply")
    return t.label(lang, "wf_rejected")


async def _reject_return(conn, svc: Services, lang: str, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                         now: datetime) -> str:
    t, glang = svc.texts, svc.default_lang
    if not await requests.decide(conn, req.id, to_status="rejected", by=staff.user_id, now=now):
        return await _already(conn, svc, lang, req)
    await tickets.add_event(conn, ticket.id, now, "return_rejected", staff.user_id, staff.name, {"request": req.id})
    if ticket.card_chat_id is not None:
        await _group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.return_rejected", number=ticket.number,
                     by=staff.name), now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
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
    old_name = await _centre_name(conn, svc, glang, ticket.centre_id)
    await tickets.add_event(conn, ticket.id, now, "transferred", staff.user_id, staff.name,
                            {"from": ticket.centre_id, "to": target.id, "reason": req.reason, "request": req.id})
    await enqueue_card(conn, target.chat_id, ticket.id, now=now)
    await enqueue_message(conn, target.chat_id, message(t.render(
        glang, "workflow.transferred_in", number=ticket.number, from_centre=old_name, by=staff.name, reason=req.reason or "",
        accept_by=accept_by), reply_to_card=ticket.id), priority=Priority.URGENT, purpose="workflow", now=now, ticket_id=ticket.id)
    if old_chat is not None and old_chat != target.chat_id:
        notice = t.render(glang, "workflow.transferred_out", number=ticket.number, to_centre=target.name(glang), by=staff.name)
        if not await _retire_card(conn, svc, ticket, notice, now):
            await _group(conn, svc, old_chat, notice, now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_transfer", centre=target.name(glang))), now, ticket.id, purpose="reply")
    await _tell_resident(conn, svc, ticket, "workflow.resident_transferred", now, centre=target.name(ticket.resident_lang))
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
    await _prompt(conn, svc, chat_id, t.render(glang, "workflow.explain_prompt", uid=staff.user_id, name=staff.name,
                                               number=ticket.number, reason=req.reason or ""), req.id, "explain", now, ticket.id)
    return t.label(lang, "wf_explain_asked")


async def _close_out_of_scope(conn, svc: Services, staff: Staff, req: Request, ticket: Ticket, chat_id: int,
                              explanation: str, now: datetime) -> None:
    t, glang = svc.texts, svc.default_lang
    if ticket.status == Status.CLOSED:
        await requests.finish(conn, req.id, from_status="approved")
        await _group(conn, svc, chat_id, t.render(glang, "workflow.ticket_closed", number=ticket.number), now, ticket.id,
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
            await _group(conn, svc, ticket.card_chat_id, t.render(glang, "workflow.closed_out_of_scope", number=ticket.number,
                         by=staff.name, explanation=explanation), now, ticket.id)
    await _group(conn, svc, chat_id, t.render(glang, "workflow.decided", number=ticket.number, by=staff.name,
                 what=t.label(glang, "wf_what_out_of_scope")), now, ticket.id, purpose="reply")
    await _tell_resident(conn, svc, ticket, "workflow.resident_out_of_scope", now, explanation=explanation)
