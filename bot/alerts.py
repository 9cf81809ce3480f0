"""The limits' alerts, gathered per chat (Art. 13; README, "A city's hour").

Each reminder and escalation the sweeper fires (bot/clockwork.py) is its own message when it
is the only one waiting for its chat, exactly as before. When an alert of the same purpose
still waits in that chat, unclaimed by the sender, the new one joins it: one message, one
paragraph and one numbered "Seen, I'm on it" button per ticket (at most 100 buttons and 4,096
characters; beyond that a new message starts). Every alert the regulation requires is still
delivered, inside a message, to everyone it was due to; only the count of messages falls.

Why: in a city's cold snap every ticket nobody accepts within 30 minutes raises a reminder in
its group, a private one to each crew member on duty, and an escalation to each lead and to
dispatch. One message per ticket and recipient was more than Telegram's 30 a second could
carry next to the residents' replies, and being urgent they went first: the replies starved.
Gathered, an idle chat still hears of each alert at once, and a busy one gets one message
for everything that piled up while it waited for its budget.

A joining alert never overtakes anything queued in that chat about its own ticket (its card
above all); it may overtake other tickets' messages queued after the one it joins.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from bot.callbacks import Acknowledge
from bot.payload import message
from bot.services import Services
from rules.text import MAX_TEXT, telegram_length
from storage import outbox
from storage.outbox import Priority

__all__ = ["enqueue_alert", "MAX_BUTTONS"]

MAX_BUTTONS = 100       # Telegram's limit of inline buttons on one message


async def enqueue_alert(conn: aiosqlite.Connection, svc: Services, chat_id: int, text: str, *, purpose: str,
                        ticket_id: int, number: str, now: datetime, alert_id: int | None = None,
                        reply_to_card: int | None = None) -> int:
    """Queue one alert for ``chat_id`` (an "acknowledge" button when ``alert_id`` is given),
    joining the alert of this ``purpose`` waiting there if there is one; returns its row id."""
    t, lang = svc.texts, svc.default_lang
    ack = Acknowledge(alert_id).pack() if alert_id is not None else None
    numbered: list[list[dict[str, str]]] = (
        [[{"text": t.label(lang, "btn_ack_numbered", number=number), "data": ack}]] if ack is not None else [])
    waiting = await outbox.waiting_to_join(conn, chat_id, purpose, ticket_id)
    if waiting is not None and waiting[1].get("gather"):
        row_id, earlier = waiting
        gathered = earlier["gather"]
        joined_text = f"{earlier['text']}\n\n{text}"
        buttons = gathered["buttons"] + numbered
        if telegram_length(joined_text) <= MAX_TEXT and len(buttons) <= MAX_BUTTONS:
            # Several tickets' buttons: each says its ticket's number. No reply to one card.
            payload: dict[str, Any] = message(joined_text)
            if buttons:
                payload["buttons"] = buttons
            payload["gather"] = {"buttons": buttons, "tickets": gathered["tickets"] + [ticket_id]}
            if await outbox.rewrite_waiting(conn, row_id, payload):
                return row_id
    payload = message(text, buttons=[[(t.label(lang, "btn_ack"), ack)]] if ack is not None else None,
                      reply_to_card=reply_to_card)
    payload["gather"] = {"buttons": numbered, "tickets": [ticket_id]}
    return await outbox.enqueue_message(conn, chat_id, payload, priority=Priority.URGENT, purpose=purpose,
                                        now=now, ticket_id=ticket_id)
