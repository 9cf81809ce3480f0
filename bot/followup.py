"""Closing the loop with the resident (Art. 8): "is it warm now?" at Done, a rating and a
comment, "not solved" reopening the ticket, and dispatch's phone follow-up list.

Each public coroutine is one action in one transaction, with the messages it causes put in
the outbox in that same transaction. Every press is authorised against the database: the
ticket's own resident (rules.roles.may_answer_followup), the message that carries the button,
and the follow-up round it was asked in.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot import clockwork, escalation, views
from bot.callbacks import FollowupAnswer, FollowupVerb, PhoneRecord
from bot.payload import Buttons, message
from bot.services import Services, Who
from rules.followup import PhoneResult, answer_refusal, check_comment, reopen_refusal
from rules.policy import Level, assess
from rules.roles import may_answer_followup, may_record_followup, may_see_followups
from storage import followups, org, tickets
from storage.outbox import Priority, enqueue_card, enqueue_message
from storage.tickets import Ticket

__all__ = ["ask", "answer", "take_text", "sweep", "phone_list", "record", "PHONE_LIST_MAX"]

log = logging.getLogger(__name__)

# One message: four buttons per ticket and Telegram's 100 buttons a message.
PHONE_LIST_MAX = 20


def _ask_buttons(svc: Services, lang: str, ticket_id: int, round_: int) -> Buttons:
    label = svc.texts.label
    return [[(label(lang, "btn_solved"), FollowupAnswer(ticket_id, round_, FollowupVerb.YES).pack()),
             (label(lang, "btn_not_solved"), FollowupAnswer(ticket_id, round_, FollowupVerb.NO).pack())]]


async def _to_resident(conn, svc: Services, ticket: Ticket, text: str, buttons: Buttons | None = None) -> None:
    if ticket.resident_chat_id is None:
        return
    await enqueue_message(conn, ticket.resident_chat_id, message(text, buttons=buttons), priority=Priority.STATUS,
                          purpose="resident_status", now=svc.clock.now(), ticket_id=ticket.id)


async def ask(conn, svc: Services, ticket: Ticket, now: datetime) -> None:
    """At Done: the resident is told and asked at once (Art. 8). A resident the bot cannot
    write to (a report taken by phone) goes straight onto dispatch's phone list."""
    rules = svc.policy.followup
    reachable = ticket.resident_chat_id is not None
    await followups.ask(conn, ticket.id, ticket.reopen_count, now, now + rules.answer_within if reachable else now)
    await tickets.add_event(conn, ticket.id, now, "followup_asked", detail={"round": ticket.reopen_count})
    if reachable:
        lang = ticket.resident_lang
        centre = await org.get_centre(conn, ticket.centre_id)
        text = svc.texts.render(lang, "followup.ask", number=ticket.number, at=now, category=ticket.category,
                                hotline=centre.hotline if centre else None)
        await _to_resident(conn, svc, ticket, text, _ask_buttons(svc, lang, ticket.id, ticket.reopen_count))


async def answer(svc: Services, who: Who, data: FollowupAnswer | None, chat_id: int, message_id: int) -> str:
    """A resident's press on a follow-up question; returns the alert to answer it with."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        t = svc.texts
        ticket = await tickets.get_ticket(conn, data.ticket_id) if data is not None else None
        if ticket is None:
            return t.label(lang, "alert_stale")
        if not may_answer_followup(who.user_id, ticket.resident_user_id):
            return t.label(lang, "alert_followup_not_yours")
        fu = await followups.get(conn, ticket.id)
        if fu is None or fu.round != data.round or not await views.message_carries(conn, chat_id, message_id, data.pack()):
            return t.label(lang, "alert_stale")
        now = svc.clock.now()
        verb = data.verb
        if verb in (FollowupVerb.YES, FollowupVerb.NO):
            if fu.state not in ("asked", "listed"):
                return t.label(lang, "alert_followup_answered")
            refusal = (reopen_refusal(ticket.status, ticket.outcome, ticket.closed_at, now, svc.policy.followup)
                       if verb == FollowupVerb.NO else answer_refusal(ticket.closed_at, now, svc.policy.followup))
            if refusal is not None:
                await _to_resident(conn, svc, ticket, t.render(lang, "followup.refused", reason=refusal, number=ticket.number,
                                                               days=svc.policy.followup.answer_until.days),
                                   views.main_menu(svc, lang))
                svc.wake_sender()
                return t.label(lang, f"alert_followup_{refusal}")
            if verb == FollowupVerb.NO:
                alert = await _reopen(conn, svc, who, lang, ticket, fu.state, now)
            else:
                await followups.set_state(conn, ticket.id, from_states=(fu.state,), to_state="rating")
                await followups.answer(conn, ticket.id, now, who.user_id, solved=True)
                await tickets.add_event(conn, ticket.id, now, "followup_solved", who.user_id, who.name, {"round": fu.round})
                stars = [(t.label(lang, f"btn_rate_{n}"), FollowupAnswer(ticket.id, fu.round, FollowupVerb.RATE, n).pack())
                         for n in (1, 2, 3, 4, 5)]
                await _to_resident(conn, svc, ticket, t.render(lang, "followup.ask_rating", number=ticket.number), [
                    stars, [(t.label(lang, "btn_no_rating"), FollowupAnswer(ticket.id, fu.round, FollowupVerb.NORATE).pack())]])
                alert = t.label(lang, "alert_followup_thanks")
        elif verb in (FollowupVerb.RATE, FollowupVerb.NORATE):
            if not await followups.set_state(conn, ticket.id, from_states=("rating",), to_state="comment"):
                return t.label(lang, "alert_followup_answered")
            await followups.answer(conn, ticket.id, now, who.user_id, rating=data.rating)
            await tickets.add_event(conn, ticket.id, now, "followup_rating", who.user_id, who.name, {"rating": data.rating})
            await _to_resident(conn, svc, ticket, t.render(lang, "followup.ask_comment", number=ticket.number, rating=data.rating), [
                [(t.label(lang, "btn_no_comment"), FollowupAnswer(ticket.id, fu.round, FollowupVerb.NOCOMMENT).pack())]])
            alert = t.label(lang, "alert_followup_thanks")
        elif verb == FollowupVerb.NOCOMMENT:
            if not await followups.set_state(conn, ticket.id, from_states=("comment",), to_state="done"):
                return t.label(lang, "alert_followup_answered")
            await _to_resident(conn, svc, ticket, t.render(lang, "followup.thanks", number=ticket.number), views.main_menu(svc, lang))
            alert = t.label(lang, "alert_followup_thanks")
        else:   # NOREASON: reopened, nothing to add
            if not await followups.set_state(conn, ticket.id, from_states=("reason",), to_state="reopened"):
                return t.label(lang, "alert_followup_answered")
            alert = t.label(lang, "alert_ok")
    svc.wake_sender()
    return alert


async def _reopen(conn, svc: Services, who: Who, lang: str, ticket: Ticket, state: str, now: datetime) -> str:
    """"Not solved": back to the same centre with a fresh on-site and close limit (Art. 13, from
    now: the resident's answer is a new report of the same fault), counted against the centre
    in the ledger (Art. 8), its leads told and, from the policy's number of reopens, dispatch."""
    t = svc.texts
    if not await tickets.reopen(conn, ticket.id):
        return t.label(lang, "alert_followup_answered")
    await followups.set_state(conn, ticket.id, from_states=(state,), to_state="reason")
    await followups.answer(conn, ticket.id, now, who.user_id, solved=False)
    reopened = await tickets.get_ticket(conn, ticket.id)
    a = assess(svc.policy, reopened.category, reopened.source, now, level_override=Level(reopened.level))
    for kind, due in (("onsite", a.deadlines.onsite_by), ("close", a.deadlines.close_by)):
        await clockwork.restart_clock(conn, svc, ticket.id, kind, due)
        await tickets.set_ticket_limit(conn, ticket.id, kind, due)
    await tickets.add_event(conn, ticket.id, now, "reopened", who.user_id, who.name,
                            {"centre": ticket.centre_id, "round": reopened.reopen_count})
    reopened = await tickets.get_ticket(conn, ticket.id)
    centre = await org.get_centre(conn, ticket.centre_id)
    card_chat = ticket.card_chat_id or (centre.chat_id if centre else await org.get_setting(conn, "dispatch_chat_id"))
    await enqueue_card(conn, card_chat, ticket.id, now=now)
    staff_lang = svc.default_lang
    to_dispatch = reopened.reopen_count >= svc.policy.followup.dispatch_after_reopens
    place = await views.place_name(conn, staff_lang, ticket.community_id, ticket.community_text)
    for r in await escalation.reopen_recipients(conn, ticket.centre_id, to_dispatch):
        text = t.render(staff_lang, "followup.reopened_staff", number=ticket.number, round=reopened.reopen_count, place=place,
                        address=ticket.address or "", centre=centre.name(staff_lang) if centre else None, role=r.role,
                        onsite_by=reopened.onsite_by)
        await enqueue_message(conn, r.chat_id, message(text), priority=Priority.URGENT, purpose="alert", now=now, ticket_id=ticket.id)
    await _to_resident(conn, svc, reopened, t.render(lang, "followup.reopened", number=ticket.number, round=reopened.reopen_count,
                                                     onsite_by=reopened.onsite_by),
                       [[(t.label(lang, "btn_no_reason"), FollowupAnswer(ticket.id, ticket.reopen_count, FollowupVerb.NOREASON).pack())]])
    log.info("ticket %s reopened by its resident (round %s)", ticket.id, reopened.reopen_count)
    return t.label(lang, "alert_followup_reopened")


async def take_text(conn, svc: Services, who: Who, lang: str, text: str | None) -> bool:
    """Words typed outside a report: the comment after a rating, or what is still wrong after
    a reopen. True if they were taken here (or refused with an answer); False if nothing waits."""
    waiting = await followups.waiting_for_text(conn, who.user_id, svc.clock.now() - svc.policy.followup.answer_within)
    if waiting is None:
        return False
    ticket_id, state = waiting
    ticket = await tickets.get_ticket(conn, ticket_id)
    t = svc.texts
    now = svc.clock.now()
    words, problem = check_comment(text)
    if problem is not None:
        await _to_resident(conn, svc, ticket, t.render(lang, "followup.comment_refused", problem=problem, limit=500))
        return True
    if state == "comment":
        await followups.answer(conn, ticket_id, now, who.user_id, comment=words)
        await followups.set_state(conn, ticket_id, from_states=("comment",), to_state="done")
        await tickets.add_event(conn, ticket_id, now, "followup_comment", who.user_id, who.name, {"comment": words})
        await _to_resident(conn, svc, ticket, t.render(lang, "followup.thanks", number=ticket.number), views.main_menu(svc, lang))
    else:
        await tickets.set_reopen_note(conn, ticket_id, words)
        await followups.set_state(conn, ticket_id, from_states=("reason",), to_state="reopened")
        await tickets.add_event(conn, ticket_id, now, "reopen_note", who.user_id, who.name, {"note": words})
        if ticket.card_chat_id is not None:
            await enqueue_card(conn, ticket.card_chat_id, ticket_id, now=now)
        await _to_resident(conn, svc, ticket, t.render(lang, "followup.reason_saved", number=ticket.number), views.main_menu(svc, lang))
    return True


async def sweep(svc: Services, limit: int = 200) -> int:
    """Unanswered follow-ups whose time has come join dispatch's phone list (Art. 8); dispatch
    is told once per sweep how many joined."""
    now = svc.clock.now()
    moved: list[str] = []
    async with svc.db.transaction() as conn:
        for ticket_id in await followups.due_unanswered(conn, now, limit):
            if await followups.set_state(conn, ticket_id, from_states=("asked",), to_state="listed"):
                await tickets.add_event(conn, ticket_id, now, "followup_listed")
                moved.append(f"{ticket_id:04d}")
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if moved and dispatch is not None:
            await enqueue_message(conn, dispatch, message(svc.texts.render(svc.default_lang, "followup.listed", numbers=moved)),
                                  priority=Priority.STATUS, purpose="alert", now=now)
    if moved:
        svc.wake_sender()
    return len(moved)


async def phone_list(svc: Services, who: Who, chat_id: int) -> None:
    """``/followups``: one line per ticket to phone, with the resident's phone and buttons for
    Art. 8's feedback card; and the centres' reopens, repeats and complaints of the last 30 days."""
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        buttons: Buttons = []
        if not may_see_followups(staff) or chat_id not in (dispatch, who.user_id):
            text = t.render(lang, "followup.dispatch_only")
        else:
            items: list[dict[str, Any]] = []
            for ticket_id in await followups.phone_list(conn, PHONE_LIST_MAX):
                tk = await tickets.get_ticket(conn, ticket_id)
                centre = await org.get_centre(conn, tk.centre_id)
                items.append({"number": tk.number, "name": tk.resident_name or "", "phone": tk.phone or "",
                              "category": svc.policy.category(tk.category).label(lang), "closed_at": tk.closed_at,
                              "centre": centre.name(lang) if centre else None})
                buttons.append([(t.label(lang, f"btn_phone_{r}", number=tk.number), PhoneRecord(tk.id, r).pack()) for r in PhoneResult])
            counts = []
            for centre_id, c in sorted((await followups.counts_by_centre(conn, now - timedelta(days=30))).items()):
                centre = await org.get_centre(conn, centre_id or None)
                counts.append({"centre": centre.name(lang) if centre else t.label(lang, "dispatch"), **c})
            text = t.render(lang, "followup.phone_list", items=items, counts=counts)
        await enqueue_message(conn, chat_id, message(text, buttons=buttons or None), priority=Priority.STATUS, purpose="reply", now=now)
    svc.wake_sender()


async def record(svc: Services, who: Who, data: PhoneRecord | None, chat_id: int, message_id: int) -> str:
    """Dispatch records a phone follow-up: who, when and what the resident said (Art. 8)."""
    t, lang = svc.texts, svc.default_lang
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        if not may_record_followup(staff):
            return t.label(lang, "alert_not_yours")
        ticket = await tickets.get_ticket(conn, data.ticket_id) if data is not None else None
        if ticket is None or not await views.message_carries(conn, chat_id, message_id, data.pack()):
            return t.label(lang, "alert_stale")
        now = svc.clock.now()
        if not await followups.record_phone(conn, ticket.id, str(data.result), now, who.user_id):
            return t.label(lang, "alert_followup_answered")
        await tickets.add_event(conn, ticket.id, now, "followup_phoned", who.user_id, staff.name, {"result": str(data.result)})
        await enqueue_message(conn, chat_id, message(t.render(lang, "followup.phone_recorded", number=ticket.number,
                                                             result=str(data.result), name=staff.name, at=now)),
                              priority=Priority.STATUS, purpose="reply", now=now, ticket_id=ticket.id)
    svc.wake_sender()
    return t.label(lang, "alert_ok")
