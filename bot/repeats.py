"""Repeat faults (Art. 23), repeated complaints (Art. 24) and a building's reports at once.

Called from ticket creation: :func:`open_ticket_for` before a ticket is made (a flat whose
ticket of that category is still open gets no second crew card: the report is recorded on the
open ticket as a complaint) and :func:`on_created` after it (the ticket is marked as a repeat
of a recently closed one, and several "not warm" reports from one building raise one alert).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot import views
from bot.payload import message
from bot.services import Services, Who
from rules.followup import building_key, cluster_due, flat_key, is_repeat
from storage import followups, org, tickets
from storage.outbox import Priority, enqueue_card, enqueue_message

__all__ = ["open_ticket_for", "on_created"]

log = logging.getLogger(__name__)


def _key(svc: Services, category: str, address: str | None) -> tuple[str | None, bool]:
    """The place repeats are matched on: the building for network and facility categories, else the flat."""
    by_building = category in svc.policy.followup.building_categories
    return (building_key(address) if by_building else flat_key(address)), by_building


async def open_ticket_for(conn, svc: Services, who: Who, lang: str, data: dict[str, Any]) -> str | None:
    """If the flat (or building) already has an open ticket of this category, the report is a
    further complaint on it (Art. 24): recorded, its card redrawn, the resident told its status,
    and dispatch told from the policy's number of complaints. Returns that ticket's number, or
    None when a new ticket is to be made."""
    community, category = data.get("community_id"), data["category"]
    key, by_building = _key(svc, category, data.get("address"))
    if community is None or key is None:
        return None
    open_id = await followups.open_for_flat(conn, community, key, category, by_building)
    if open_id is None:
        return None
    now = svc.clock.now()
    ticket = await tickets.get_ticket(conn, open_id)
    complaints = await followups.add_complaint(conn, open_id)
    await tickets.add_event(conn, open_id, now, "complaint", who.user_id, who.name, {
        "centre": ticket.centre_id, "count": complaints, "description": data.get("description") or "",
    })
    if ticket.card_chat_id is not None:
        await enqueue_card(conn, ticket.card_chat_id, open_id, now=now)
    t = svc.texts
    flag = complaints >= svc.policy.followup.complaints_to_dispatch
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if flag and dispatch is not None:
        place = await views.place_name(conn, svc.default_lang, ticket.community_id, ticket.community_text)
        await enqueue_message(conn, dispatch, message(t.render(svc.default_lang, "followup.complaint_dispatch", number=ticket.number,
                                                               complaints=complaints, place=place, address=ticket.address or "")),
                              priority=Priority.URGENT, purpose="alert", now=now, ticket_id=open_id)
    await enqueue_message(conn, who.chat_id, message(t.render(lang, "followup.repeat_open", number=ticket.number,
                                                              status=views.status_label(svc, lang, ticket.status),
                                                              complaints=complaints if flag else 0),
                                                     buttons=views.main_menu(svc, lang)),
                          priority=Priority.STATUS, purpose="resident_status", now=now, ticket_id=open_id)
    log.info("report for open ticket %s recorded as complaint %s", open_id, complaints)
    return ticket.number


async def on_created(conn, svc: Services, ticket_id: int, data: dict[str, Any], now: datetime) -> None:
    """A new ticket: where it is, whether it repeats a closed one (Art. 23), and whether its
    building has had enough reports to be a possible building-wide fault."""
    rules = svc.policy.followup
    address, community, category = data.get("address"), data.get("community_id"), data["category"]
    building = building_key(address)
    await followups.set_place_keys(conn, ticket_id, flat_key(address), building)
    key, by_building = _key(svc, category, address)
    if community is None or key is None:
        return
    earlier = await followups.last_closed_for_flat(conn, community, key, category, by_building)
    if earlier is not None and earlier[0] != ticket_id and is_repeat(earlier[1], now, rules):
        before = await tickets.get_ticket(conn, earlier[0])
        await followups.mark_repeat(conn, ticket_id, earlier[0])
        await tickets.add_event(conn, ticket_id, now, "repeat_fault", detail={"of": earlier[0], "centre": before.centre_id})
    if category in rules.cluster_categories and building is not None:
        await _cluster(conn, svc, community, building, category, now)


async def _cluster(conn, svc: Services, community: str, building: str, category: str, now: datetime) -> None:
    rules = svc.policy.followup
    since = now - rules.cluster_window
    recent = await followups.recent_in_building(conn, community, building, category, since)
    if not cluster_due([at for _, at in recent], now, await followups.cluster_alerted_since(conn, community, building, category, since), rules):
        return
    ids = [i for i, _ in recent]
    await followups.add_cluster_alert(conn, community, building, category, now, ids)
    for i in ids:
        await tickets.add_event(conn, i, now, "building_alert", detail={"tickets": ids})
    lang = svc.default_lang
    place = await views.place_name(conn, lang, community, None)
    text = svc.texts.render(lang, "followup.cluster", place=place, building=building, numbers=[f"{i:04d}" for i in ids],
                            minutes=int(rules.cluster_window.total_seconds() // 60))
    station = await org.centre_for(conn, community, "network")
    targets = [await org.get_setting(conn, "dispatch_chat_id"), station.chat_id if station else None]
    for chat in dict.fromkeys(c for c in targets if c is not None):
        await enqueue_message(conn, chat, message(text), priority=Priority.URGENT, purpose="alert", now=now)
    log.info("possible building-wide fault: community %s building %s, tickets %s", community, building, ids)
