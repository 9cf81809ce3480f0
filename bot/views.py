"""Read-only views of the database as people see them: the user's language, the resident's menu,
place names, a ticket's clock and its crew card, an outage notice's context.

The desk, the outages, the workflows and the outbox sender all read these; nothing here writes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.callbacks import CardPress, CardRequest, CardVerb, Menu, MenuItem, RequestVerb
from bot.payload import Buttons
from bot.services import Services
from bot.texts import pick_language
from rules.text import MAX_TEXT, telegram_length
from rules.tickets import Status, action_for
from rules.roster import on_duty
from storage import deadlines, org, outbox, roster, tickets, users
from storage.outages import Outage
from storage.tickets import Ticket

__all__ = [
    "main_menu", "status_buttons", "user_lang", "language_of", "place_name", "places", "join_names", "status_label", "ClockView", "clock_view",
    "card_context", "duty_context", "mentions", "render_card", "render_digest", "notice_context", "message_carries",
]


def main_menu(svc: Services, lang: str) -> Buttons:
    t = svc.texts
    # 🥶 first: "home not warm" is most of a heating season's reports, one tap saves the category.
    return [[(t.label(lang, label), Menu(item).pack())] for label, item in
            (("cold", MenuItem.COLD), ("report", MenuItem.REPORT), ("my", MenuItem.MY), ("outages_menu", MenuItem.OUTAGES),
             ("language", MenuItem.LANG))]


def status_buttons(svc: Services, lang: str) -> Buttons:
    """Under every status message a resident receives: report again at once, or see their reports."""
    t = svc.texts
    return [[(t.label(lang, "cold"), Menu(MenuItem.COLD).pack()), (t.label(lang, "my"), Menu(MenuItem.MY).pack())]]


async def user_lang(conn: aiosqlite.Connection, svc: Services, user_id: int, telegram_lang: str | None) -> str:
    row = await users.get_user(conn, user_id)
    return language_of(svc, row.lang if row and row.lang_chosen else None, telegram_lang)


def language_of(svc: Services, chosen: str | None, telegram_lang: str | None) -> str:
    """The language to answer in: the one the user chose, else their Telegram app's, else ours."""
    return pick_language(chosen, telegram_lang, svc.default_lang)


async def place_name(conn, lang: str, community_id: str | None, community_text: str | None) -> str:
    community = await org.get_community(conn, community_id)
    return community.name(lang) if community else (community_text or "")


async def places(conn: aiosqlite.Connection, lang: str, community_ids: list[str] | tuple[str, ...]) -> str:
    """Community names joined the way the language writes a list."""
    names = []
    for cid in community_ids:
        c = await org.get_community(conn, cid)
        names.append(c.name(lang) if c else cid)
    return join_names(lang, names)


def join_names(lang: str, names: list[str]) -> str:
    return (", " if lang == "en" else "、").join(names)


def status_label(svc: Services, lang: str, status: str) -> str:
    return svc.texts.label(lang, f"status_{status}")


@dataclass(frozen=True)
class ClockView:
    overdue: list[dict[str, Any]]                 # open limits already passed
    next: tuple[str, datetime] | None             # the next open limit
    late: dict[str, int]                          # limits met late: kind -> minutes over


async def clock_view(conn, svc: Services, lang: str, ticket_id: int) -> ClockView:
    """The ticket's limits as the deadline table has them (approved delays included)."""
    now = svc.clock.now()
    clocks = await deadlines.for_ticket(conn, ticket_id)
    live = [d for d in clocks if d.state == "open"]
    overdue = [{"limit": svc.texts.label(lang, f"limit_{d.kind}"), "minutes": int((now - d.due_at).total_seconds() // 60)}
               for d in live if d.due_at <= now]
    upcoming = [d for d in live if d.due_at > now]
    late = {d.kind: int((d.met_at - d.due_at).total_seconds() // 60) for d in clocks if d.state == "met" and d.late}
    return ClockView(overdue, (upcoming[0].kind, upcoming[0].due_at) if upcoming else None, late)


async def card_context(conn, svc: Services, lang: str, ticket: Ticket, show_contact: bool) -> dict[str, Any]:
    centre = await org.get_centre(conn, ticket.centre_id)
    names = {}
    for uid in (ticket.accepted_by, ticket.arrived_by, ticket.closed_by):
        if uid is not None and uid not in names:
            s = await org.get_staff(conn, uid)
            names[uid] = s.name if s else str(uid)
    clock = await clock_view(conn, svc, lang, ticket.id)
    return {
        "t": ticket,
        "overdue": clock.overdue,
        "late": clock.late,
        "acked_by": await deadlines.last_acknowledger(conn, ticket.id),
        "category": svc.policy.category(ticket.category).label(lang),
        "level": svc.texts.label(lang, f"level_{ticket.level}"),
        "status": status_label(svc, lang, ticket.status),
        "place": await place_name(conn, lang, ticket.community_id, ticket.community_text),
        "centre": centre.name(lang) if centre else None,
        "show_contact": show_contact,
        "names": names,
        "next": clock.next,
        "source": svc.texts.label(lang, f"source_{ticket.source}"),
        "repeat": await _repeat_of(conn, ticket),
    }


async def mentions(conn: aiosqlite.Connection, user_ids: tuple[int, ...] | list[int]) -> list[dict[str, Any]]:
    """People to mention by user id (a text mention rings their phone even in a muted group);
    someone no longer in the staff registry is left out."""
    people = []
    for user_id in user_ids:
        s = await org.get_staff(conn, user_id)
        if s is not None:
            people.append({"id": s.user_id, "name": s.name})
    return people


async def duty_context(conn: aiosqlite.Connection, svc: Services, lang: str, ticket: Ticket) -> dict[str, Any] | None:
    """The card's duty lines (Art. 11, 12): the duty centre it covers for, and while the ticket
    is open, the holding centre's crew on duty now, mentioned so that their phones ring; or
    "nobody on duty" for a rostered centre with nobody on. None for a centre without a roster."""
    covering = None
    if ticket.route_note and ticket.route_note.startswith("covering:"):
        covered = await org.get_centre(conn, ticket.route_note.removeprefix("covering:"))
        covering = covered.name(lang) if covered else None
    crew: list[dict[str, Any]] = []
    rostered = False
    if ticket.status != Status.CLOSED and ticket.centre_id is not None:
        r = await roster.load_roster(conn)
        rostered = ticket.centre_id in r.centres
        if rostered:
            crew = await mentions(conn, on_duty(r, ticket.centre_id, svc.clock.now(), svc.tz))
    if not covering and not rostered:
        return None
    return {"crew": crew, "covering": covering, "unstaffed": rostered and not crew}


async def _repeat_of(conn, ticket: Ticket) -> dict[str, Any] | None:
    """The closed ticket this one repeats (Art. 23), for the card's "repeat fault" line."""
    if ticket.repeat_of is None:
        return None
    earlier = await tickets.get_ticket(conn, ticket.repeat_of)
    return {"number": earlier.number, "closed_at": earlier.closed_at} if earlier is not None and earlier.closed_at else None


async def render_card(conn, svc: Services, ticket_id: int) -> tuple[str, Buttons]:
    """The crew card as it should look now, in the company's language."""
    lang = svc.default_lang
    ticket = await tickets.get_ticket(conn, ticket_id)
    ctx = await card_context(conn, svc, lang, ticket, show_contact=True)
    text = svc.texts.render(lang, "staff.card", **ctx, duty=await duty_context(conn, svc, lang, ticket))
    act = action_for(ticket.status)
    buttons: Buttons = []
    label = svc.texts.label
    if act is not None:
        buttons.append([(label(lang, f"btn_{act}"), CardPress(ticket.id, CardVerb(act)).pack())])

        def request(key: str, verb: RequestVerb) -> tuple[str, str]:
            return label(lang, key), CardRequest(ticket.id, verb).pack()

        extra = [request("btn_delay", RequestVerb.DELAY)] if ticket.status != Status.NEW else []
        if ticket.status == Status.ON_SITE:
            extra.append(request("btn_coord", RequestVerb.COORD))
        if ticket.centre_id is None:          # held by dispatch: pick a centre, nothing to return
            extra.append(request("btn_assign", RequestVerb.ASSIGN))
        else:
            extra.append(request("btn_return", RequestVerb.RETURN))
        buttons.append(extra)
    elif ticket.close_note is None and ticket.outcome != "out_of_scope":
        buttons.append([(svc.texts.label(lang, "btn_nonote"), CardPress(ticket.id, CardVerb.NONOTE).pack())])
    return text, buttons


async def notice_context(conn, lang: str, o: Outage, **extra: Any) -> dict[str, Any]:
    """What every notice template gets as ``n``."""
    n = {
        "number": o.number, "kind": o.kind, "places": await places(conn, lang, o.communities), "buildings": o.buildings or "",
        "reason": o.reason, "starts": o.starts_at, "ends": o.ends_at, "previous_ends": o.original_ends_at,
        "pipe": o.pipe_diameter or "", "valves": o.valves or "", "area": o.area or "", "restored": o.restored_at is not None,
        "restored_at": o.restored_at, "restored_name": o.restored_name or "",
        "resident": False,      # True for residents: what is repaired in words, no notice code
    }
    n.update(extra)
    return n


async def message_carries(conn, chat_id: int, message_id: int, data: str) -> bool:
    """Whether the bot's message ``message_id`` in ``chat_id`` was sent with a button carrying
    ``data``. A press is acted on only from the message that carries it: the same data sent
    from another chat or message (a forged callback) is refused."""
    row = await outbox.sent_row(conn, chat_id, message_id)
    if row is None:
        return False
    return any(button.get("data") == data for line in row[1].get("buttons", []) for button in line)


async def render_digest(conn: aiosqlite.Connection, svc: Services, ticket_ids: list[int]) -> tuple[int, str, list[tuple[str, str]]]:
    """New tickets of one group as one message (the sender's digest): how many of them fit
    Telegram's size limit (the rest wait for the next digest), its text and its Accept buttons."""
    lang = svc.default_lang
    lines: list[dict[str, Any]] = []
    for ticket_id in ticket_ids:
        tk = await tickets.get_ticket(conn, ticket_id)
        lines.append({
            "id": tk.id, "number": tk.number, "major": tk.level == "major", "category": svc.policy.category(tk.category).label(lang),
            "place": await place_name(conn, lang, tk.community_id, tk.community_text), "address": tk.address or "",
            "temperature": tk.temperature, "accept_by": tk.accept_by,
        })
    while True:     # drop tickets from the end until it fits (at least two: else it is a card)
        text = svc.texts.render(lang, "delivery.digest", items=lines)
        if telegram_length(text) <= MAX_TEXT or len(lines) <= 2:
            break
        lines = lines[: max(2, len(lines) * 9 // 10)]
    label = svc.texts.label(lang, "btn_accept")
    return len(lines), text, [(f"{label} {line['number']}", CardPress(line["id"], CardVerb.ACCEPT).pack()) for line in lines]
