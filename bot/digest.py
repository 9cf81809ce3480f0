"""Digests: new cards for a group over its budget, posted as one message (bot/sender.py).

**Digests.** When a group's queue is longer than its budget lets out now (its pending rows
exceed the free slots of its 20-a-minute window), new tickets waiting for their first card
there are posted together as one digest message: one line and one Accept button per ticket
(at most 100 buttons, 4096 characters). *The digest becomes each listed ticket's card* while
the ticket is new: the ticket's (card_chat_id, card_message_id) point at the digest, so
``desk.press`` authorises a press on the digest exactly as on a card. When the ticket changes
(Accept), its full card is posted as a new message and becomes its card; the digest's button
for it then answers "stale". Why not send every card later as well: a group's budget is the
bottleneck in a surge (1,000 cards at 20 a minute take 50 minutes, beyond the 30-minute
acceptance limit of Art. 13); a later card for every digested ticket would double the load
exactly when the budget cannot keep up, and push every ticket's own card past its acceptance
deadline. With the digest as card, every ticket is visible and can be accepted within a
minute or two, and the budget is spent on the tickets a crew actually takes.
A digest may reach the group ahead of unrelated messages queued before it there; everything
about one ticket keeps its order (a ticket's photo or edits never overtake its card).
"""
from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ParseMode

from bot import views
from bot.payload import message
from bot.services import Services
from bot.telegram_api import markup_for
from storage import outbox

__all__ = ["post_digest", "DIGEST_MAX_TICKETS"]

log = logging.getLogger(__name__)

DIGEST_MAX_TICKETS = 100        # Telegram allows at most 100 inline buttons per message
_BUTTONS_PER_ROW = 3


async def post_digest(bot: Bot, svc: Services, chat_id: int, ticket_id: int | None) -> tuple[int, list[outbox.FreshCard]] | None:
    """Post the group's new tickets (``ticket_id``'s among them) as one message: its id and the
    tickets it carries; None when fewer than two wait (the card is sent as usual)."""
    async with svc.db.transaction() as conn:
        fresh = await outbox.fresh_card_rows(conn, chat_id, DIGEST_MAX_TICKETS)
        if len(fresh) < 2 or ticket_id not in {f.ticket_id for f in fresh}:
            return None
        count, text, buttons = await views.render_digest(conn, svc, [f.ticket_id for f in fresh])
    fresh = fresh[:count]
    rows = [buttons[i:i + _BUTTONS_PER_ROW] for i in range(0, len(buttons), _BUTTONS_PER_ROW)]
    log.info("group %s is over budget: posting %d new tickets as one digest", chat_id, len(fresh))
    msg = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup_for(message("", buttons=rows)))
    return msg.message_id, fresh
