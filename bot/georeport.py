"""The desk's side of the Open311 GeoReport v2 API: list the services, file a request, say
where requests stand (Art. 4, 5, 10 (1)).

A platform (the city's 12345, the company's call centre) files through :func:`bot.filing.
file_ticket`, the same road as a resident or a dispatcher, so the ticket is routed, carded and
timed exactly alike; its key names the channel and so the source (a 12345 work order is major,
Art. 13). A channel sees the tickets it filed and no others: residents' matters are not public.
bot/web/open311.py turns these answers into HTTP.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot import views
from bot.filing import Filing, file_ticket
from bot.services import Services
from rules.desk import RateLimiter, match_community
from rules.open311 import ApiRefusal, OpenRequest
from rules.org import ApiChannel, hash_key
from rules.policy import Source
from rules.tickets import Status
from storage import org, tickets
from storage.tickets import Ticket

__all__ = ["api_lang", "authenticate", "throttle", "list_services", "file_request", "find_requests", "get_request",
           "LIST_WINDOW", "LIST_MAX"]

log = logging.getLogger(__name__)

# The standard's default for a list without ids: the last 90 days, at most 1000 requests.
LIST_WINDOW = timedelta(days=90)
LIST_MAX = 1000


def api_lang(svc: Services, locale: str | None) -> str:
    """``locale`` as the standard passes it (``en``, ``en_US``, ``zh-CN``); the company's
    language when absent or unknown."""
    code = (locale or "").strip().lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh"
    return svc.default_lang


async def authenticate(svc: Services, api_key: str | None) -> ApiChannel:
    """The channel behind ``api_key``; a missing, unknown or revoked key is a 403."""
    if not api_key:
        raise ApiRefusal(403, "no_key")
    async with svc.db.transaction() as conn:
        channel = await org.channel_by_key_hash(conn, hash_key(api_key))
    if channel is None:
        raise ApiRefusal(403, "bad_key")
    if channel.revoked:
        raise ApiRefusal(403, "revoked_key")
    return channel


def throttle(svc: Services, limiter: RateLimiter, channel: ApiChannel) -> None:
    """A flood from one key is refused (429) before it touches the desk."""
    wait = limiter.take(channel.id, svc.clock.now().timestamp())
    if wait > 0:
        raise ApiRefusal(429, "rate_limited", seconds=max(1, round(wait + 0.5)))


def list_services(svc: Services, lang: str) -> list[dict[str, Any]]:
    """``services.json``: one service per ticket category (service_code = the category code)."""
    return [{
        "service_code": c.code, "service_name": c.label(lang), "description": c.label(lang), "metadata": False,
        "type": "realtime", "keywords": "", "group": str(c.centre_kind),
    } for c in svc.policy.categories.values()]


async def file_request(svc: Services, channel: ApiChannel, req: OpenRequest, lang: str) -> list[dict[str, Any]]:
    """``POST requests.json``: file the ticket, or, for an ``external_id`` this channel has
    filed before, answer with that ticket (a platform that retries must not make two)."""
    t = svc.texts
    async with svc.db.transaction() as conn:
        if req.external_id is not None:
            earlier = await tickets.by_channel_ref(conn, channel.id, req.external_id)
            if earlier is not None:
                log.info("API channel %s sent external_id of ticket %s again", channel.id, earlier.id)
                return [{"service_request_id": earlier.number, "service_notice": t.label(lang, "api_notice_again", number=earlier.number),
                         "account_id": None}]
        community_id = match_community(req.address, await org.community_names(conn))
        filed = await file_ticket(conn, svc, Filing(
            category=req.service_code, source=Source(channel.source), lang=lang, name=req.name, phone=req.phone,
            community_id=community_id, address=req.address, description=req.description,
            external_ref=req.external_id, channel=channel.id,
        ))
    svc.wake_sender()
    if filed.centre is not None:
        notice = t.label(lang, "api_notice_routed", number=filed.number, centre=filed.centre.name(lang),
                         onsite_by=f"{filed.assessment.deadlines.onsite_by.astimezone(svc.tz):%Y-%m-%d %H:%M}")
    else:
        notice = t.label(lang, "api_notice_dispatch", number=filed.number)
    return [{"service_request_id": filed.number, "service_notice": notice, "account_id": None}]


async def get_request(svc: Services, channel: ApiChannel, ticket_id: int, lang: str, typed: str) -> list[dict[str, Any]]:
    """``GET requests/{id}.json``: 404 for a ticket that is not this channel's (or none)."""
    found = await find_requests(svc, channel, lang, ids=[ticket_id])
    if not found:
        raise ApiRefusal(404, "not_found", id=typed[:40])
    return found


async def find_requests(svc: Services, channel: ApiChannel, lang: str, *, ids: list[int] | None = None,
                        start: datetime | None = None, end: datetime | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """``GET requests.json``: the channel's tickets by id, or received between ``start`` and
    ``end`` (the last 90 days by default), optionally only ``open`` or ``closed`` ones."""
    if ids is None and start is None and end is None:
        start = svc.clock.now() - LIST_WINDOW
    async with svc.db.transaction() as conn:
        found = await tickets.tickets_of_channel(conn, channel.id, channel.source, ids=ids, start=start, end=end, status=status, limit=LIST_MAX)
        return [await _describe(conn, svc, lang, tk) for tk in found]


def _iso(svc: Services, when: datetime | None) -> str | None:
    return when.astimezone(svc.tz).isoformat(timespec="seconds") if when is not None else None


async def _name(conn, user_id: int | None) -> str:
    staff = await org.get_staff(conn, user_id) if user_id is not None else None
    return staff.name if staff else ""


async def _describe(conn, svc: Services, lang: str, tk: Ticket) -> dict[str, Any]:
    t = svc.texts
    centre = await org.get_centre(conn, tk.centre_id)
    agency = centre.name(lang) if centre else t.label(lang, "api_dispatch")
    if tk.status == Status.CLOSED and tk.outcome == "out_of_scope":
        notes = t.label(lang, "api_status_out_of_scope", note=tk.close_note or "")
    elif tk.status == Status.CLOSED:
        who = await _name(conn, tk.closed_by)
        notes = (t.label(lang, "api_status_closed_note", who=who, note=tk.close_note) if tk.close_note
                 else t.label(lang, "api_status_closed", who=who))
    elif tk.status == Status.ON_SITE:
        notes = t.label(lang, "api_status_on_site", who=await _name(conn, tk.arrived_by))
    elif tk.status == Status.ACCEPTED:
        notes = t.label(lang, "api_status_accepted", centre=agency, who=await _name(conn, tk.accepted_by))
    else:
        notes = t.label(lang, "api_status_new", centre=agency)
    events = await tickets.list_events(conn, tk.id)
    clock = await views.clock_view(conn, svc, lang, tk.id)
    return {
        "service_request_id": tk.number,
        "status": "closed" if tk.status == Status.CLOSED else "open",
        "status_notes": notes,
        "service_name": svc.policy.category(tk.category).label(lang),
        "service_code": tk.category,
        "description": tk.description or "",
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": _iso(svc, tk.received_at),
        "updated_datetime": _iso(svc, events[-1].at if events else tk.received_at),
        "expected_datetime": _iso(svc, clock.next[1]) if clock.next and tk.status != Status.CLOSED else None,
        "address": tk.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": "",
        "external_id": tk.external_ref,
    }
