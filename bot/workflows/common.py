"""What crew requests and dispatch decisions share: limits, wording, messages to a group."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.payload import Buttons, message
from bot.prompts import ask
from bot.services import Services
from storage import deadlines, org, requests
from storage.outbox import Priority, enqueue_message
from storage.tickets import Ticket

__all__ = ["MAX_CLOSE_EXTENSION", "CLOCKS", "MAX_TEXT", "MAX_REPORT", "when_text", "typed_time", "limit_name", "say_in_group", "ask_in_group", "tell_resident", "clip", "open_clocks", "close_due", "centre_name", "supersede_open"]

# How far past the close limit a delay of the close (or report) limit may go. Beyond a day the
# matter is no longer a delay but one for dispatch to re-plan (Art. 13, other rules (1)).
MAX_CLOSE_EXTENSION = timedelta(hours=24)


CLOCKS = ("accept", "onsite", "close", "report")


MAX_TEXT = 1000            # a reason, an explanation: plenty, and the message stays under Telegram's limit


MAX_REPORT = 3000


def when_text(svc: Services, lang: str, value: datetime) -> str:
    return svc.texts.render(lang, "workflow.when", value=value)


def typed_time(svc: Services, when: datetime, now: datetime) -> tuple[str, str]:
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


def limit_name(svc: Services, lang: str, kind: str) -> str:
    return svc.texts.label(lang, f"limit_{kind}")


async def say_in_group(conn, svc: Services, chat_id: int, text: str, now: datetime, ticket_id: int | None,
                 buttons: Buttons | None = None, purpose: str = "workflow") -> int:
    return await enqueue_message(conn, chat_id, message(text, buttons=buttons), priority=Priority.URGENT,
                                 purpose=purpose, now=now, ticket_id=ticket_id)


async def ask_in_group(conn, svc: Services, chat_id: int, text: str, request_id: int, step: str, now: datetime,
                  ticket_id: int) -> None:
    await ask(conn, chat_id, text, {"kind": "request", "request": request_id, "step": step}, now=now, ticket_id=ticket_id)


async def tell_resident(conn, svc: Services, ticket: Ticket, template: str, now: datetime, **ctx: Any) -> None:
    text = svc.texts.render(ticket.resident_lang, template, number=ticket.number, **ctx)
    if ticket.resident_chat_id is None:
        # Entered for a caller without Telegram (/new): whoever entered it passes it on (Art. 5).
        if ticket.filer_chat_id is not None:
            passed_on = svc.texts.render(ticket.resident_lang, "desk.pass_on", number=ticket.number, text=text)
            await enqueue_message(conn, ticket.filer_chat_id, message(passed_on), priority=Priority.STATUS,
                                  purpose="filer_status", now=now, ticket_id=ticket.id)
        return
    await enqueue_message(conn, ticket.resident_chat_id, message(text), priority=Priority.STATUS,
                          purpose="resident_status", now=now, ticket_id=ticket.id)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def open_clocks(conn, ticket_id: int) -> list[deadlines.Deadline]:
    return sorted((d for d in await deadlines.for_ticket(conn, ticket_id) if d.state == "open" and d.kind in CLOCKS),
                  key=lambda d: d.due_at)


async def close_due(conn, ticket: Ticket) -> datetime:
    d = await deadlines.get(conn, ticket.id, "close")
    return d.due_at if d is not None and d.state == "open" else ticket.close_by


async def centre_name(conn, svc: Services, lang: str, centre_id: str | None) -> str:
    centre = await org.get_centre(conn, centre_id)
    return centre.name(lang) if centre else svc.texts.label(lang, "dispatch")


async def supersede_open(conn, ticket_id: int, kind: str, outcome: str) -> None:
    for r in await requests.open_of(conn, ticket_id, kind):
        if r.status == "awaiting_reply":
            await requests.cancel(conn, r.id, outcome)
