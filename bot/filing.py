"""Filing a ticket: the one road every complaint takes into the desk, whoever brings it.

A resident's own report (bot/intake.py), a call entered by dispatch or a centre's hotline
staff (``/new``, bot/newticket.py) and a work order handed over by a platform (the Open311 API,
bot/web/open311.py) all become a ticket here, so each is assessed, routed, recorded and carded
the same way (Art. 4, 5, 10 (1), 13). What each caller then tells whom is its own business.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import clockwork, repeats
from bot.payload import message
from bot.services import Services
from rules.org import Centre
from rules.policy import Assessment, Source, assess
from rules.roster import duty_for
from storage import org, roster, tickets
from storage.outbox import Priority, enqueue_card, enqueue_message
from storage.tickets import NewTicket

__all__ = ["Filing", "Filed", "file_ticket"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filing:
    """One complaint as it reaches the desk."""
    category: str
    source: Source
    lang: str                                 # the language of whoever is told about it
    name: str | None = None                   # the caller, as they gave it
    phone: str | None = None
    community_id: str | None = None           # None: not in the organisation file (routed to dispatch)
    community_text: str | None = None
    address: str | None = None
    temperature: float | None = None
    photo: str | None = None
    description: str | None = None
    # A resident filing for themselves in Telegram: their user and chat.
    resident_user_id: int | None = None
    resident_chat_id: int | None = None
    # Filed on someone's behalf: the outside reference (a 12345 work-order number, an API
    # client's external_id), the API channel, and the staff member and the chat they used.
    external_ref: str | None = None
    channel: str | None = None
    entered_by: int | None = None
    entered_name: str | None = None
    filer_chat_id: int | None = None


@dataclass(frozen=True)
class Filed:
    ticket_id: int
    centre: Centre | None                     # None: held by dispatch (Art. 5)
    assessment: Assessment

    @property
    def number(self) -> str:
        return f"{self.ticket_id:04d}"


async def file_ticket(conn, svc: Services, filing: Filing) -> Filed:
    """The ticket, its ledger, its clocks and its card, in the caller's transaction.

    Level and limits come from the policy: a 12345, housing-bureau, press, online or
    company-leadership complaint is major whatever its category (Art. 13, urgent (1)), and a
    press or 12345 one goes to leadership at once (Art. 7). Routing (Art. 5): the category's
    centre kind plus the community picks the centre; a ticket that cannot be routed goes to the
    dispatch group with the reason, never dropped. The roster at the time received (Art. 11,
    12) then says who takes it: the centre itself while someone of its own is on duty, else the
    duty centre covering it (the card says so); with nobody on duty at all the card still goes
    to the centre's group and dispatch is told at once.
    """
    now = svc.clock.now()
    assessment = assess(svc.policy, filing.category, filing.source, now)
    kind = str(assessment.category.centre_kind)
    centre = None
    route_note: str | None = None
    if filing.community_id:
        centre = await org.centre_for(conn, filing.community_id, kind)
        if centre is None:
            route_note = "no_centre"
    else:
        route_note = "unknown_community"
    # The roster at the time received (Art. 13: limits run from then) picks who takes it.
    duty = duty_for(await roster.load_roster(conn), centre.id, now, svc.tz) if centre is not None else None
    if duty is not None and duty.covering_for is not None:
        covering = await org.get_centre(conn, duty.centre_id)
        if covering is not None:
            centre, route_note = covering, f"covering:{duty.covering_for}"
    ticket_id = await tickets.insert_ticket(conn, NewTicket(
        category=assessment.category.code, source=str(assessment.source), level=str(assessment.level),
        centre_id=centre.id if centre else None, route_note=route_note,
        resident_user_id=filing.resident_user_id, resident_chat_id=filing.resident_chat_id, resident_lang=filing.lang,
        resident_name=filing.name, phone=filing.phone, community_id=filing.community_id,
        community_text=filing.community_text, address=filing.address, temperature=filing.temperature,
        photo_file_id=filing.photo, description=filing.description, received_at=now,
        accept_by=assessment.deadlines.accept_by, onsite_by=assessment.deadlines.onsite_by, close_by=assessment.deadlines.close_by,
        external_ref=filing.external_ref, channel=filing.channel, entered_by=filing.entered_by,
        entered_name=filing.entered_name, filer_chat_id=filing.filer_chat_id,
    ))
    detail = {"source": str(assessment.source), "level": str(assessment.level), "reasons": list(assessment.reasons)}
    if filing.external_ref is not None:
        detail["reference"] = filing.external_ref
    if filing.channel is not None:
        detail["channel"] = filing.channel
    actor_id = filing.entered_by if filing.entered_by is not None else filing.resident_user_id
    actor = filing.entered_name if filing.entered_by is not None else filing.name
    await tickets.add_event(conn, ticket_id, now, "created", actor_id, actor, detail)
    # Art. 23 repeats of a closed ticket; a building's reports at once.
    await repeats.on_created(conn, svc, ticket_id, {"category": assessment.category.code, "address": filing.address,
                                                    "community_id": filing.community_id}, now)
    if centre is not None:
        routed = {"centre": centre.id}
        if duty is not None and duty.covering_for is not None:
            routed["covering_for"] = duty.covering_for
        await tickets.add_event(conn, ticket_id, now, "routed", detail=routed)
        card_chat = centre.chat_id
    else:
        await tickets.add_event(conn, ticket_id, now, "routed_to_dispatch", detail={"reason": route_note, "kind": kind})
        card_chat = await org.get_setting(conn, "dispatch_chat_id")
    await clockwork.start_clocks(conn, svc, ticket_id, {
        "accept": assessment.deadlines.accept_by, "onsite": assessment.deadlines.onsite_by, "close": assessment.deadlines.close_by,
    })
    if assessment.wide_impact:
        await clockwork.alert_wide_impact(conn, svc, ticket_id, list(assessment.reasons), now)
    await enqueue_card(conn, card_chat, ticket_id, now=now)
    if duty is not None and duty.unstaffed:
        await _nobody_on_duty(conn, svc, ticket_id, centre, now)
    if filing.photo:
        caption = svc.texts.render(svc.default_lang, "staff.card_photo", number=f"{ticket_id:04d}")
        await enqueue_message(conn, card_chat, message(caption, photo=filing.photo, reply_to_card=ticket_id),
                              priority=Priority.URGENT, purpose="card_photo", now=now, ticket_id=ticket_id)
    log.info("ticket %s created, source %s, category %s, centre %s", ticket_id, assessment.source, assessment.category.code,
             centre.id if centre else "dispatch")
    return Filed(ticket_id, centre, assessment)


async def _nobody_on_duty(conn, svc: Services, ticket_id: int, centre: Centre, now) -> None:
    """无人值班: the centre keeps a roster but nobody is on duty and nobody covers it. The card
    is in its group all the same; dispatch is told at once, so the 30 minutes to accept
    (Art. 12) are not spent waiting for someone who is not there."""
    await tickets.add_event(conn, ticket_id, now, "nobody_on_duty", detail={"centre": centre.id})
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None:
        return
    lang = svc.default_lang
    text = svc.texts.render(lang, "roster.nobody_on_duty", number=f"{ticket_id:04d}", centre=centre.name(lang), at=now)
    await enqueue_message(conn, dispatch, message(text), priority=Priority.URGENT, purpose="escalation", now=now,
                          ticket_id=ticket_id)
    log.warning("ticket %s: nobody on duty at centre %s", ticket_id, centre.id)
