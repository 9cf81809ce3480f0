"""The outbox sender: delivers what the desk committed, in order per chat.

Delivery is at-least-once by construction: a row is marked sent only after Telegram answered.
If the process dies between Telegram's answer and our commit, that one message is sent again
on restart (Telegram's sendMessage has no idempotency key, so this is the one duplicate its
semantics force on us). A card is rendered from the database when it is sent, so several
changes to a ticket coalesce into one edit, and "message is not modified" counts as success.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import desk
from bot.payload import message
from bot.services import Services
from storage import outbox, tickets
from storage.outbox import OutboxItem

__all__ = ["OutboxSender", "markup_for"]

log = logging.getLogger(__name__)

_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited")


def markup_for(payload: dict[str, Any]):
    if payload.get("buttons"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in payload["buttons"]])
    if payload.get("reply_keyboard"):
        rows = [[KeyboardButton(b["text"], request_contact=b.get("request_contact") or None, request_location=b.get("request_location") or None) for b in row]
                for row in payload["reply_keyboard"]]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if payload.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    if payload.get("force_reply"):
        return ForceReply(selective=True)
    return None


class _Permanent(Exception):
    pass


class OutboxSender:
    def __init__(self, bot: Bot, svc: Services, *, batch: int = 16, max_backoff: float = 60.0) -> None:
        self.bot = bot
        self.svc = svc
        self.batch = batch
        self.max_backoff = max_backoff
        self.max_bug_attempts = 5
        self._held: dict[int, float] = {}       # chat id -> monotonic time it may be sent to again
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                worked = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox sender pass failed; retrying")
                worked = False
            if not worked:
                self.svc.outbox_ready.clear()
                timeout = self._next_hold_delay()
                try:
                    await asyncio.wait_for(self.svc.outbox_ready.wait(), timeout)
                except TimeoutError:
                    pass

    def _next_hold_delay(self) -> float:
        now = time.monotonic()
        pending = [t - now for t in self._held.values() if t > now]
        return max(0.01, min(pending)) if pending else 1.0

    async def drain_once(self) -> bool:
        """Send the head of every chat that may be sent to now. True if anything was sent."""
        now = time.monotonic()
        for chat in [c for c, t in self._held.items() if t <= now]:
            del self._held[chat]
        items = await outbox.next_batch(self.svc.db.conn, self.batch, skip_chats=frozenset(self._held))
        if not items:
            return False
        await asyncio.gather(*(self._deliver(item) for item in items))
        return True

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            message_id, fresh_card = await self._send(item)
        except RetryAfter as e:
            delay = float(e.retry_after if not hasattr(e.retry_after, "total_seconds") else e.retry_after.total_seconds())
            log.warning("throttled by Telegram for chat %s: holding it for %.0f s", item.chat_id, delay)
            self._held[item.chat_id] = time.monotonic() + delay
            async with self.svc.db.transaction() as conn:
                await outbox.bump_attempts(conn, item.id, f"429 retry after {delay:.0f}")
        except (TimedOut, NetworkError) as e:
            if isinstance(e, BadRequest):  # BadRequest is a NetworkError subclass in PTB
                await self._fail(item, str(e))
                return
            backoff = min(self.max_backoff, 0.5 * 2 ** min(item.attempts, 10)) * random.uniform(0.5, 1.0)
            log.warning("network error sending to chat %s (%s); retrying in %.1f s", item.chat_id, type(e).__name__, backoff)
            self._held[item.chat_id] = time.monotonic() + backoff
            async with self.svc.db.transaction() as conn:
                await outbox.bump_attempts(conn, item.id, type(e).__name__)
        except (Forbidden, _Permanent) as e:
            await self._fail(item, str(e))
        except TelegramError as e:
            await self._fail(item, str(e))
        except Exception as e:  # a bug of ours must not stall the chat's queue forever
            log.exception("unexpected error delivering outbox item %s", item.id)
            if item.attempts + 1 >= self.max_bug_attempts:
                await self._fail(item, f"internal error: {type(e).__name__}")
            else:
                self._held[item.chat_id] = time.monotonic() + min(self.max_backoff, 2.0 ** item.attempts)
                async with self.svc.db.transaction() as conn:
                    await outbox.bump_attempts(conn, item.id, type(e).__name__)
        else:
            async with self.svc.db.transaction() as conn:
                now = self.svc.clock.now()
                await outbox.mark_sent(conn, item.id, message_id, now)
                if item.kind == "card":
                    if fresh_card:
                        await tickets.set_card(conn, item.ticket_id, item.chat_id, message_id)
                        await tickets.add_event(conn, item.ticket_id, now, "card_posted", detail={"chat_id": item.chat_id, "message_id": message_id})
                    await outbox.supersede_cards(conn, item.ticket_id, item.chat_id, item.id, now)

    async def _fail(self, item: OutboxItem, error: str) -> None:
        log.warning("message %s to chat %s failed for good: %s", item.id, item.chat_id, error)
        async with self.svc.db.transaction() as conn:
            await outbox.mark_failed(conn, item.id, error, self.svc.clock.now())
            if item.ticket_id is not None and item.purpose == "resident_status":
                await desk.resident_unreachable(conn, self.svc, item.ticket_id, error)
            elif item.ticket_id is not None:
                await tickets.add_event(conn, item.ticket_id, self.svc.clock.now(), "delivery_failed",
                                        detail={"chat_id": item.chat_id, "purpose": item.purpose, "error": error})
        self.svc.wake_sender()

    async def _send(self, item: OutboxItem) -> tuple[int | None, bool]:
        if item.kind == "card":
            return await self._send_card(item)
        payload = item.payload
        reply = None
        if payload.get("reply_to_card") is not None:
            ticket = await tickets.get_ticket(self.svc.db.conn, payload["reply_to_card"])
            if ticket and ticket.card_chat_id == item.chat_id and ticket.card_message_id:
                reply = ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True)
        markup = markup_for(payload)
        try:
            if payload.get("photo"):
                msg = await self.bot.send_photo(item.chat_id, payload["photo"], caption=payload.get("text") or None,
                                                parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=reply)
            else:
                msg = await self.bot.send_message(item.chat_id, payload["text"], parse_mode=ParseMode.HTML,
                                                  reply_markup=markup, reply_parameters=reply)
        except BadRequest as e:
            raise _Permanent(str(e)) from e
        return msg.message_id, False

    async def _send_card(self, item: OutboxItem) -> tuple[int | None, bool]:
        conn = self.svc.db.conn
        ticket = await tickets.get_ticket(conn, item.ticket_id)
        text, buttons = await desk.render_card(conn, self.svc, item.ticket_id)
        # No markup on an edit removes the buttons, as Telegram does.
        markup = markup_for(message("", buttons=buttons))
        if ticket.card_message_id is not None and ticket.card_chat_id == item.chat_id:
            try:
                await self.bot.edit_message_text(text, chat_id=item.chat_id, message_id=ticket.card_message_id,
                                                 parse_mode=ParseMode.HTML, reply_markup=markup)
                return ticket.card_message_id, False
            except BadRequest as e:
                reason = str(e).lower()
                if _NOT_MODIFIED in reason:
                    return ticket.card_message_id, False
                if not any(s in reason for s in _EDIT_GONE):
                    raise _Permanent(str(e)) from e
                # Someone deleted the card in the group: post a fresh one, the ticket is intact.
                log.info("card of ticket %s is gone (%s); sending a fresh one", ticket.id, e)
        try:
            msg = await self.bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as e:
            raise _Permanent(str(e)) from e
        return msg.message_id, True
