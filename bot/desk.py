"""The service desk: tickets from creation to closing, and what each step tells whom.

Each public coroutine is one user action: it reads and writes the database in one
transaction and puts the messages the action causes into the outbox in that same
transaction (nothing is lost, nothing half-done). Decisions come from ``rules/``.
"""
from __future__ import annotations

import logging
from typing import Any

from bot import clockwork, followup, registry, repeats, views
from bot.callbacks import CardPress, CardVerb, LanguageChoice
from bot.config import LANGUAGES
from bot.outages.residents import on_ticket_created
from bot.payload import message
from bot.services import Services, Who
from bot.filing import Filing, file_ticket
from rules.policy import Source
from rules.roles import may_add_note, may_press, may_see_contact
from rules.tickets import Action, Status, TransitionRefused, next_status
from storage import drafts, org, tickets, users
from storage.drafts import Draft
from storage.outbox import Priority, enqueue_card, enqueue_message
from rules.org import Staff
from storage.tickets import Ticket

__all__ = [
    "greet", "help_text", "unknown_command", "ask_language", "set_language", "draft_summary", "create_ticket_from_draft",
    "authorise_card_press", "press", "add_note", "my_tickets", "ticket_history", "resident_unreachable",
    "group_unreachable", "private_only",
]

log = logging.getLogger(__name__)

async def _reply(conn, svc: Services, chat_id: int, payload: dict[str, Any]) -> None:
    await enqueue_message(conn, chat_id, payload, priority=Priority.STATUS, purpose="reply", now=svc.clock.now())


async def _simple(svc: Services, who: Who, template: str, menu: bool = True, **ctx: Any) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        buttons = views.main_menu(svc, lang) if menu else None
        await _reply(conn, svc, who.chat_id, message(svc.texts.render(lang, template, **ctx), buttons=buttons))
    svc.wake_sender()


async def greet(svc: Services, who: Who) -> None:
    if await registry.greet_staff(svc, who):      # staff get their role and commands
        return
    await _simple(svc, who, "resident.greeting", name=who.name)


async def help_text(svc: Services, who: Who) -> None:
    await _simple(svc, who, "resident.help")


async def unknown_command(svc: Services, who: Who, in_group: bool) -> None:
    if in_group:
        async with svc.db.transaction() as conn:
            await _reply(conn, svc, who.chat_id, message(svc.texts.render(svc.default_lang, "staff.unknown_command")))
        svc.wake_sender()
    else:
        await _simple(svc, who, "resident.unknown_command")


async def ask_language(svc: Services, who: Who) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        names = {"zh": "中文", "en": "English"}
        buttons = [[(names[code], LanguageChoice(code).pack())] for code in LANGUAGES]
        await _reply(conn, svc, who.chat_id, message(svc.texts.render(lang, "resident.language_ask"), buttons=buttons))
    svc.wake_sender()


async def set_language(svc: Services, who: Who, choice: LanguageChoice | None) -> str:
    lang = choice.lang if choice is not None else svc.default_lang
    async with svc.db.transaction() as conn:
        await users.set_language(conn, who.user_id, lang, svc.clock.now())
        await _reply(conn, svc, who.chat_id, message(svc.texts.render(lang, "resident.language_set"), buttons=views.main_menu(svc, lang)))
    svc.wake_sender()
    return svc.texts.label(lang, "alert_language_set")


async def draft_summary(conn, svc: Services, lang: str, draft: Draft) -> dict[str, Any]:
    data = draft.data
    category = svc.policy.category(data["category"])
    return {
        "category": category.label(lang),
        "place": await views.place_name(conn, lang, data.get("community_id"), data.get("community_text")),
        "address": data.get("address") or "",
        "phone": data.get("phone") or "",
        "temperature": data.get("temperature"),
        "has_photo": bool(data.get("photo")),
        "has_voice": bool(data.get("voice")),
        "description": data.get("description") or "",
    }


async def create_ticket_from_draft(conn, svc: Services, who: Who, lang: str, draft: Draft) -> str:
    """Confirm: the resident's ticket is filed (bot.filing: routing, ledger, clocks, card), then
    their contact is remembered, they are subscribed to their community's outage notices and
    they get the receipt, all in the same transaction."""
    data = draft.data
    already = await repeats.open_ticket_for(conn, svc, who, lang, data)      # Art. 24: not a second crew card
    if already is not None:
        await drafts.delete_draft(conn, who.user_id)
        return already
    filed = await file_ticket(conn, svc, Filing(
        category=data["category"], source=Source.RESIDENT, lang=lang, name=who.name, phone=data.get("phone"),
        community_id=data.get("community_id"), community_text=data.get("community_text"), address=data.get("address"),
        temperature=data.get("temperature"), photo=data.get("photo"), description=data.get("description"),
        resident_user_id=who.user_id, resident_chat_id=who.chat_id,
    ))
    now = svc.clock.now()
    await users.remember_contact(
        conn, who.user_id, name=who.name, phone=data.get("phone"), community_id=data.get("community_id"),
        community_text=data.get("community_text"), address=data.get("address"), now=now,
    )
    await on_ticket_created(conn, svc, who, lang, filed.ticket_id, data)  # subscribe; link to an outage
    await drafts.delete_draft(conn, who.user_id)
    if data.get("voice"):
        # A voice note instead of a typed description: played under the card by the crew.
        await tickets.set_voice(conn, filed.ticket_id, data["voice"])
        card_chat = filed.centre.chat_id if filed.centre else await org.get_setting(conn, "dispatch_chat_id")
        caption = svc.texts.render(svc.default_lang, "staff.card_voice", number=filed.number)
        await enqueue_message(conn, card_chat, message(caption, voice=data["voice"], reply_to_card=filed.ticket_id),
                              priority=Priority.URGENT, purpose="card_photo", now=now, ticket_id=filed.ticket_id)
    await enqueue_message(conn, who.chat_id, message(svc.texts.render(
        lang, "resident.submitted", number=filed.number, centre=filed.centre.name(lang) if filed.centre else None,
        onsite_by=filed.assessment.deadlines.onsite_by, hotline=filed.centre.hotline if filed.centre else None,
    ), buttons=views.main_menu(svc, lang)), priority=Priority.STATUS, purpose="resident_status", now=now, ticket_id=filed.ticket_id)
    return filed.number


async def authorise_card_press(conn, svc: Services, lang: str, who: Who, ticket_id: int | None, chat_id: int,
                               message_id: int) -> tuple[Ticket, Staff] | str:
    """Every button on a ticket's card is authorised here, against the database, never from
    the callback data: the ticket exists, the presser is staff of its centre (or dispatch), and
    the press came from the ticket's live card. Returns (ticket, staff) or the refusal to show.
    ``ticket_id`` is None when the button data did not parse: no such ticket either."""
    t = svc.texts
    ticket = await tickets.get_ticket(conn, ticket_id) if ticket_id is not None else None
    if ticket is None:
        return t.label(lang, "alert_no_such_ticket")
    staff = await org.get_staff(conn, who.user_id)
    if not may_press(staff, ticket.centre_id):
        return t.label(lang, "alert_not_yours")
    if (ticket.card_chat_id, ticket.card_message_id) != (chat_id, message_id):
        return t.label(lang, "alert_stale")
    return ticket, staff


async def press(svc: Services, who: Who, data: CardPress | None, chat_id: int, message_id: int) -> str:
    """A crew button: Accept, Arrived, Done, No note (``data`` is None when it did not parse)."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        t = svc.texts
        allowed = await authorise_card_press(conn, svc, lang, who, data.ticket_id if data else None, chat_id, message_id)
        if isinstance(allowed, str):
            return allowed
        ticket, staff = allowed
        ticket_id = ticket.id
        now = svc.clock.now()
        if data.verb == CardVerb.NONOTE:
            if ticket.status != Status.CLOSED or ticket.close_note is not None:
                return t.label(lang, "alert_done_already")
            await tickets.set_close_note(conn, ticket_id, "")
            await tickets.add_event(conn, ticket_id, now, "note_skipped", who.user_id, staff.name)
            await enqueue_card(conn, chat_id, ticket_id, now=now)
            svc.wake_sender()
            return t.label(lang, "alert_ok")
        act = Action(data.verb)
        try:
            target = next_status(ticket.status, act)
        except TransitionRefused as refused:
            return t.label(lang, f"alert_{refused.reason}")
        if not await tickets.transition(conn, ticket_id, from_status=ticket.status, to_status=target, at=now, by=who.user_id):
            return t.label(lang, "alert_done_already")
        await tickets.add_event(conn, ticket_id, now, str(act), who.user_id, staff.name)
        await clockwork.meet(conn, svc, ticket_id, str(act), now)
        if act == Action.CLOSE:
            await tickets.set_outcome(conn, ticket_id, "done")
        await enqueue_card(conn, chat_id, ticket_id, now=now)
        if act == Action.CLOSE:
            # Art. 8: the resident is asked at once; a caller without Telegram joins the phone list.
            await followup.ask(conn, svc, await tickets.get_ticket(conn, ticket_id), now)
        if ticket.resident_chat_id is not None:
            if act != Action.CLOSE:      # at Done, the follow-up question says it is done
                await _tell_resident(conn, svc, ticket, act, staff, now)
        elif ticket.filer_chat_id is not None:
            # Entered for a caller without Telegram (/new): whoever entered it passes it on (Art. 5).
            text = t.render(ticket.resident_lang, "desk.filer_status", act=str(act), number=ticket.number, who=staff.name)
            await enqueue_message(conn, ticket.filer_chat_id, message(text), priority=Priority.STATUS,
                                  purpose="filer_status", now=now, ticket_id=ticket_id)
    svc.wake_sender()
    return t.label(lang, f"alert_ok_{act}")


async def _tell_resident(conn, svc: Services, ticket: Ticket, act: Action, staff: Staff, now) -> None:
    """Accept and Arrived, as the resident hears them: who, the centre's hotline and (policy
    switch) the crew member's work phone; with 🥶 and "my reports" under the message."""
    template = {Action.ACCEPT: "resident.status_accepted", Action.ARRIVE: "resident.status_arrived"}[act]
    centre = await org.get_centre(conn, ticket.centre_id)
    text = svc.texts.render(ticket.resident_lang, template, number=ticket.number, who=staff.name, at=now, onsite_by=ticket.onsite_by,
                            hotline=centre.hotline if centre else None,
                            phone=staff.phone if svc.policy.followup.show_crew_phone else None)
    await enqueue_message(conn, ticket.resident_chat_id, message(text, buttons=views.status_buttons(svc, ticket.resident_lang)),
                          priority=Priority.STATUS, purpose="resident_status", now=now, ticket_id=ticket.id)


async def add_note(svc: Services, who: Who, chat_id: int, card_message_id: int, text: str) -> None:
    """A reply to a closed ticket's card is the crew's note of what was done."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        t = svc.texts
        ticket = await tickets.by_card(conn, chat_id, card_message_id)
        staff = await org.get_staff(conn, who.user_id)
        if ticket is None:
            key = "staff.reply_not_card"
        elif not may_add_note(staff, ticket.centre_id):
            key = "staff.note_not_yours"
        elif ticket.status != Status.CLOSED:
            key = "staff.note_not_closed"
        else:
            note = text.strip()[:500]
            await tickets.set_close_note(conn, ticket.id, note)
            await tickets.add_event(conn, ticket.id, svc.clock.now(), "note", who.user_id, staff.name, {"note": note})
            await enqueue_card(conn, chat_id, ticket.id, now=svc.clock.now())
            key = "staff.note_saved"
        await _reply(conn, svc, chat_id, message(t.render(lang, key, number=ticket.number if ticket else "")))
    svc.wake_sender()


async def my_tickets(svc: Services, who: Who) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        items = []
        for tk in await tickets.tickets_of_resident(conn, who.user_id):
            centre = await org.get_centre(conn, tk.centre_id)
            items.append({
                "number": tk.number, "category": svc.policy.category(tk.category).label(lang),
                "status": views.status_label(svc, lang, tk.status), "closed": tk.status == Status.CLOSED,
                "centre": centre.name(lang) if centre else None, "received": tk.received_at,
                "next": (await views.clock_view(conn, svc, lang, tk.id)).next,
            })
        await _reply(conn, svc, who.chat_id, message(svc.texts.render(lang, "resident.my_tickets", items=items), buttons=views.main_menu(svc, lang)))
    svc.wake_sender()


async def ticket_history(svc: Services, who: Who, chat_id: int, chat_is_private: bool, number: int | None, typed: str) -> None:
    """``/ticket N`` for staff. A resident's contact is shown only where the centre holding the
    ticket or dispatch will read it. ``number`` is None when ``typed`` is not a ticket number."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang) if chat_is_private else svc.default_lang
        t = svc.texts
        staff = await org.get_staff(conn, who.user_id)
        ticket = await tickets.get_ticket(conn, number) if number is not None else None
        if staff is None:
            text = t.render(lang, "staff.staff_only")
        elif ticket is None:
            text = t.render(lang, "staff.no_such_ticket", number=typed)
        else:
            centre = await org.get_centre(conn, ticket.centre_id)
            dispatch = await org.get_setting(conn, "dispatch_chat_id")
            if chat_is_private:
                show_contact = may_see_contact(staff, ticket.centre_id)
            else:
                show_contact = chat_id == dispatch or (centre is not None and chat_id == centre.chat_id)
            events = await tickets.list_events(conn, ticket.id)
            text = t.render(lang, "staff.history", **await views.card_context(conn, svc, lang, ticket, show_contact), events=events)
        await _reply(conn, svc, chat_id, message(text))
    svc.wake_sender()


async def resident_unreachable(conn, svc: Services, ticket_id: int, error: str) -> None:
    """Telegram refused a message to the resident for good: record it and ask dispatch to call."""
    now = svc.clock.now()
    already = await tickets.has_event(conn, ticket_id, "resident_unreachable")
    await tickets.add_event(conn, ticket_id, now, "delivery_failed", detail={"error": error})
    if already:
        return
    await tickets.add_event(conn, ticket_id, now, "resident_unreachable", detail={"error": error})
    ticket = await tickets.get_ticket(conn, ticket_id)
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None and ticket is not None:
        text = svc.texts.render(svc.default_lang, "staff.resident_unreachable", number=ticket.number, name=ticket.resident_name or "",
                                phone=ticket.phone or "", error=error)
        await enqueue_message(conn, dispatch, message(text), priority=Priority.URGENT, purpose="alert", now=now, ticket_id=ticket_id)


async def group_unreachable(conn, svc: Services, chat_id: int, ticket_id: int | None, error: str) -> None:
    """A centre group the bot cannot post to: dispatch must know (the sender asks once while it lasts)."""
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None or dispatch == chat_id:
        return
    lang = svc.default_lang
    centre = await org.centre_by_chat(conn, chat_id)
    number = f"{ticket_id:04d}" if ticket_id is not None else None
    text = svc.texts.render(lang, "delivery.group_unreachable", group=centre.name(lang) if centre else str(chat_id), number=number,
                            error=error)
    await enqueue_message(conn, dispatch, message(text), priority=Priority.URGENT, purpose="alert", now=svc.clock.now(),
                          ticket_id=ticket_id)


async def private_only(svc: Services, who: Who) -> str:
    """A resident's button pressed in a group: it acts on nothing there (a resident's menu or
    ticket list must not appear in a crew group); the presser is told, in their language."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    return svc.texts.label(lang, "alert_private_only")
