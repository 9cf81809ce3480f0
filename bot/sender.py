"""The outbox sender: delivers what the desk committed, most urgent first, in order per chat,
inside Telegram's flood limits (bot/budgets.py).

**Refusals.** A 429 (despite the budgets) holds that chat for ``retry_after`` (all chats, when
several chats are refused at once: that is Telegram throttling the bot as a whole). Network
errors, timeouts and 5xx answers are retried with exponential backoff and jitter; permanent
refusals (blocked by the user, chat not found, kicked from the group) are final, recorded on
the ticket, and dispatch is told to call a resident who cannot be reached (once per ticket) or
that a group is unreachable (once per group while it stays so).

**Delivery is at-least-once, with a duplicate window of one message per chat.** A row is
marked sent only after Telegram answered, in a transaction retried until it commits. If the
process dies between Telegram's answer and that commit, the message is sent again on
restart: Telegram's sendMessage has no idempotency key, so this is the duplicate its
semantics force on us. A chat has one send in flight at a time (that also keeps its order),
so a crash repeats at most one message per chat; at most ``max_new_in_flight`` (default 8)
new messages are in flight at once, so at most that many in all. Edits are idempotent (a
repeated edit is "not modified") and do not count against it. With ``max_new_in_flight`` 1
the window is one message in all chats, at the cost of one new message per round trip: too
slow for a city's surge (README, Benchmarks).

Each send is recorded in its own transaction as soon as Telegram answers, not gathered into
the sender's next pass: a person can press a button under a message the moment it appears,
and the press is checked against the recorded message (bot/desk.py); a record waiting for the
next pass lost that race in tests.

**Cards** are rendered from the database when sent, so several changes to a ticket coalesce
into one edit, and "message is not modified" counts as success. A card someone deleted is
posted afresh; the ticket is untouched.

**Digests** of new cards for a group over its budget: bot/digest.py.

**One sender per bot.** Of several instances on one database only the holder of the bot's
sender lease claims and sends rows; it asks the lease before every Telegram call (bot/lease.py).
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Bot, InputFile, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import views
from bot.budgets import PRIVATE_STRICT_FOR, MonotonicClock, SystemMonotonic, Window, window
from bot.config import SendSettings
from bot.delivery import DeliveryHooks, Permanent, Sent
from bot.digest import post_digest
from bot.lease import LeaseGuard, LeaseLost, SenderLease, boottime, bot_id_of
from bot.telegram_api import edit_text, markup_for, retry_after_seconds, start_attempt, telegram_answered
from bot.payload import message
from bot.services import Services
from storage import outbox, reports, tickets
from storage.dialect import DATABASE_ERRORS, OPERATIONAL_ERRORS
from storage.outbox import OutboxItem

__all__ = ["OutboxSender"]

log = logging.getLogger(__name__)

_GLOBAL_429_CHATS = 3           # this many chats refused within a second = the bot is throttled
_COMMIT_RETRY = 0.2


class OutboxSender:
    def __init__(
        self, bot: Bot, svc: Services, hooks: DeliveryHooks, *, batch: int = 16, max_backoff: float = 30.0,
        settings: SendSettings | None = None, monotonic: MonotonicClock | None = None,
        lease_monotonic: Callable[[], float] = boottime, lease_wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.svc = svc
        self.hooks = hooks
        self.batch = batch
        self.max_backoff = max_backoff
        self.max_bug_attempts = 5
        self.settings = settings or SendSettings()
        self.clock: MonotonicClock = monotonic or (svc.clock if hasattr(svc.clock, "monotonic") else SystemMonotonic())  # type: ignore[assignment]
        self.max_in_flight = self.settings.in_flight
        self.max_new_in_flight = self.settings.new_in_flight
        self._global = Window(*window(self.settings, "global"))
        self._chats: dict[int, Window] = {}
        self._held: dict[int, float] = {}       # chat id -> monotonic time it may be sent to again
        self._global_hold = 0.0
        self._private_strict_until = 0.0
        self._busy: set[int] = set()            # chats with a send in flight (one at a time keeps order)
        self._new_in_flight = 0
        self._tasks: set[asyncio.Task] = set()
        self._recent_429: deque[tuple[float, int]] = deque()
        self._unreachable_chats: set[int] = set()
        self._task: asyncio.Task | None = None
        self.claimer = outbox.new_claimer()     # on the rows this sender has in flight
        # The lease runs on real time (its own clocks, injectable for tests), not the bot's.
        self.lease = SenderLease(svc.db, bot_id_of(bot.token), self.claimer, monotonic=lease_monotonic,
                                 on_taken=svc.wake_sender, **({"wall": lease_wall} if lease_wall else {}))
        self.bot = LeaseGuard(bot, self.lease)
        self.stats = {"sent": 0, "edited": 0, "digests": 0, "http_429": 0, "retries": 0, "failed": 0}

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.lease.start()
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    @property
    def alive(self) -> bool:
        """Its loop is running (for /healthz)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        # Let sends already on the wire finish and be recorded: cutting one off after Telegram
        # took it is exactly the duplicate we keep to crashes alone.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # Rows whose sends were cut off go back for the next sender to take, and the lease
        # with them, so another instance need not wait for it to expire.
        await self._commit(lambda conn: outbox.release_claims_of(conn, self.claimer))
        await self.lease.stop()

    def _now(self) -> float:
        return self.clock.monotonic()

    def _wall(self, seconds: float) -> float:
        convert = getattr(self.clock, "wall_delay", None)
        return max(0.001, convert(seconds) if convert else seconds)

    async def _run(self) -> None:
        # Rows a killed process had in flight would otherwise never be sent.
        await self._commit(outbox.release_stale_claims)
        while True:
            self.svc.outbox_ready.clear()
            try:
                delay = await self.pump()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox sender pass failed; retrying")
                delay = 1.0
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and stop() then waited for this loop forever.
            try:
                async with asyncio.timeout(self._wall(1.0 if delay is None else delay)):
                    await self.svc.outbox_ready.wait()
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ budgets
    def _chat_window(self, chat_id: int) -> Window:
        w = self._chats.get(chat_id)
        if w is None:
            w = self._chats[chat_id] = Window(*window(self.settings, "private" if chat_id > 0 else "group"))
        return w

    def _blocked_chats(self, now: float) -> tuple[set[int], float | None]:
        """Chats that may not be sent to now, and the soonest one of them frees."""
        blocked = set(self._busy)
        soonest: float | None = None
        for chat, until in list(self._held.items()):
            if until <= now:
                del self._held[chat]
            else:
                blocked.add(chat)
                soonest = until - now if soonest is None else min(soonest, until - now)
        strict_private = self.settings.pace_private_always or now < self._private_strict_until
        for chat, w in list(self._chats.items()):
            wait = w.wait(now) if chat < 0 or strict_private else 0.0
            if wait > 0:
                blocked.add(chat)
                soonest = wait if soonest is None else min(soonest, wait)
            elif w.empty and chat not in self._busy:
                del self._chats[chat]
        return blocked, soonest

    def hold(self, chat_id: int | None, seconds: float, why: str) -> None:
        """Hold one chat (or every chat, for ``None``) for ``seconds`` on the sender's clock."""
        until = self._now() + seconds
        if chat_id is None:
            if until > self._global_hold:
                log.warning("throttled: holding ALL sends for %.1f s (%s)", seconds, why)
                self._global_hold = until
        else:
            self._held[chat_id] = max(until, self._held.get(chat_id, 0.0))

    # --------------------------------------------------------------------- pump
    async def pump(self) -> float | None:
        """Start every send the budgets allow now; return how long until more may be allowed
        (None: nothing to wait for but new rows or a send finishing)."""
        if not await self.lease.check():
            return None         # another instance sends; the lease wakes us if we take it
        now = self._now()
        if now < self._global_hold:
            return self._global_hold - now
        if len(self._tasks) >= self.max_in_flight:
            return None
        global_wait = self._global.wait(now)
        if global_wait > 0:
            return global_wait
        blocked, soonest = self._blocked_chats(now)
        # Read in a transaction: on the shared connection a plain read could see a handler's
        # rows before they are committed, and send what a rollback then takes back. The rows
        # picked are claimed in it too, so another sender on this database skips them; only
        # as many as may start now are claimed.
        slots = min(self.max_in_flight - len(self._tasks), self._global.free(now))
        new_slots = self.max_new_in_flight - self._new_in_flight
        plan: list[tuple[OutboxItem, bool, bool]] = []
        async with self.svc.db.transaction() as conn:
            items = await outbox.next_batch(conn, self.batch, skip_chats=frozenset(blocked))
            for item in items:
                if len(plan) >= slots:
                    break
                is_new, digest = True, False
                if item.kind == "message" and item.payload.get("edit_of") is not None:
                    is_new = False          # an edit is idempotent: no duplicate risk in flight
                if item.kind == "card":
                    ticket = await tickets.get_ticket(conn, item.ticket_id)
                    if ticket is not None and ticket.card_chat_id == item.chat_id and ticket.card_message_id is not None:
                        is_new = await outbox.card_is_digest(conn, ticket.id, item.chat_id, ticket.card_message_id)
                    elif ticket is not None and ticket.status == "new" and item.chat_id < 0:
                        pending = await outbox.pending_in_chat(conn, item.chat_id)
                        digest = pending > self._chat_window(item.chat_id).free(now)
                if is_new and new_slots <= 0:
                    continue
                new_slots -= is_new
                plan.append((item, is_new, digest))
            # Claimed together: one round trip to the database for the whole pass.
            taken = await outbox.claim_many(conn, [item.id for item, _, _ in plan], self.claimer, self.svc.clock.now())
            plan = [p for p in plan if p[0].id in taken]
        for item, is_new, digest in plan:
            self._start(item, is_new, digest, now)
        if len(self._tasks) >= self.max_in_flight:
            return None
        global_wait = self._global.wait(now)
        return global_wait if global_wait > 0 else soonest

    def _start(self, item: OutboxItem, is_new: bool, digest: bool, now: float) -> None:
        stamps = (self._global.take(now), self._chat_window(item.chat_id).take(now))
        self._busy.add(item.chat_id)
        if is_new:
            self._new_in_flight += 1
        task = asyncio.create_task(self._deliver(item, digest, stamps, is_new), name=f"send-{item.id}")
        self._tasks.add(task)

    async def _deliver(self, item: OutboxItem, digest: bool, stamps: tuple[float, float], is_new: bool) -> None:
        counted = True
        try:
            counted = await self._attempt(item, digest)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unexpected error around outbox item %s", item.id)
            self.hold(item.chat_id, 1.0, "internal error")
            await self._commit(lambda conn: outbox.release_claim(conn, item.id, self.claimer))
        finally:
            answered = self._now()
            window = self._chat_window(item.chat_id)
            if counted:
                self._global.settle(stamps[0], answered)
                window.settle(stamps[1], answered)
            else:       # Telegram refused before counting it (429): the slot was not used
                self._global.release(stamps[0])
                window.release(stamps[1])
            self._busy.discard(item.chat_id)
            if is_new:
                self._new_in_flight -= 1
            self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
            self.svc.wake_sender()

    async def _attempt(self, item: OutboxItem, digest: bool) -> bool:
        """One try at one row; returns whether Telegram counted it against the flood limits."""
        start_attempt()
        try:
            if not await self.lease.check():
                raise LeaseLost
            sent = await (self._send_digest(item) if digest else self._send(item))
        except LeaseLost:
            # Not sent (or not all of it: an edit may have gone): the row goes back, for the
            # lease's new holder, which releases every other sender's claims anyway.
            log.warning("outbox item %s not sent: this instance no longer holds the sender lease", item.id)
            await self._commit(lambda conn: outbox.release_claim(conn, item.id, self.claimer))
            return False
        except RetryAfter as e:
            delay = retry_after_seconds(e)
            self.stats["http_429"] += 1
            log.warning("throttled by Telegram for chat %s: holding it for %.0f s", item.chat_id, delay)
            self.hold(item.chat_id, delay, "429")
            self._note_429(item.chat_id, delay)
            await self._commit(lambda conn: outbox.bump_attempts(conn, item.id, f"429 retry after {delay:.0f}"))
            return False
        except ChatMigrated as e:
            await self._moved(item, e.new_chat_id)
        except BadRequest as e:     # a subclass of NetworkError in PTB, and final
            await self._fail(item, str(e))
        except (TimedOut, NetworkError) as e:
            # 5xx, timeouts, dropped connections: Telegram may or may not have it; retry.
            backoff = min(self.max_backoff, 0.5 * 2 ** min(item.attempts, 10)) * random.uniform(0.5, 1.0)
            self.stats["retries"] += 1
            log.warning("network error sending to chat %s (%s: %s); retrying in %.1f s", item.chat_id, type(e).__name__, e, backoff)
            self.hold(item.chat_id, backoff, "network")
            await self._commit(lambda conn: outbox.bump_attempts(conn, item.id, type(e).__name__))
        except (Forbidden, Permanent) as e:
            await self._fail(item, str(e))
        except TelegramError as e:
            await self._fail(item, str(e))
        except (asyncio.CancelledError, *DATABASE_ERRORS):
            raise
        except Exception as e:  # a bug of ours must not stall the chat's queue forever
            log.exception("unexpected error delivering outbox item %s", item.id)
            if telegram_answered():
                # Telegram took it: record it sent (without its message id) rather than send it twice.
                await self._commit(lambda conn: self._record_sent(conn, item, Sent(None)))
            elif item.attempts + 1 >= self.max_bug_attempts:
                await self._fail(item, f"internal error: {type(e).__name__}")
            else:
                self.hold(item.chat_id, min(self.max_backoff, 2.0 ** item.attempts), "internal error")
                await self._commit(lambda conn: outbox.bump_attempts(conn, item.id, type(e).__name__))
        else:
            self._unreachable_chats.discard(item.chat_id)
            await self._commit(lambda conn: self._record_sent(conn, item, sent))
        return True

    def _note_429(self, chat_id: int, delay: float) -> None:
        now = self._now()
        if chat_id > 0 and not self.settings.pace_private_always:
            if now >= self._private_strict_until:
                log.warning("Telegram is counting private chats: pacing each at %.2g/s for the next %.0f s",
                            self.settings.private_per_s, PRIVATE_STRICT_FOR)
            self._private_strict_until = now + PRIVATE_STRICT_FOR
        self._recent_429.append((now, chat_id))
        while self._recent_429 and self._recent_429[0][0] < now - 1.0:
            self._recent_429.popleft()
        if len({c for _, c in self._recent_429}) >= _GLOBAL_429_CHATS:
            self.hold(None, delay, f"{_GLOBAL_429_CHATS} chats refused within a second")

    async def _commit(self, write) -> None:
        """Run ``write(conn)`` in a transaction until it commits. After Telegram has answered,
        giving up on the record would turn a busy database into a duplicate message."""
        delay = _COMMIT_RETRY
        while True:
            try:
                async with self.svc.db.transaction() as conn:
                    await write(conn)
                return
            except OPERATIONAL_ERRORS as e:
                log.warning("database busy recording a delivery (%s); retrying in %.1f s", e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _record_sent(self, conn, item: OutboxItem, sent: Sent) -> None:
        now = self.svc.clock.now()
        if sent.digest is not None:
            self.stats["digests"] += 1
            for fresh in sent.digest:
                await tickets.set_card(conn, fresh.ticket_id, item.chat_id, sent.message_id)
                await tickets.add_event(conn, fresh.ticket_id, now, "card_posted",
                                        detail={"chat_id": item.chat_id, "message_id": sent.message_id, "digest": True})
                await outbox.mark_sent_many(conn, fresh.row_ids, sent.message_id, now)
            return
        self.stats["sent" if sent.fresh_card or item.kind != "card" else "edited"] += 1
        await outbox.mark_sent(conn, item.id, sent.message_id, now)
        if item.kind == "card":
            if sent.fresh_card:
                await tickets.set_card(conn, item.ticket_id, item.chat_id, sent.message_id)
                await tickets.add_event(conn, item.ticket_id, now, "card_posted", detail={"chat_id": item.chat_id, "message_id": sent.message_id})
            if sent.through_id is not None:
                await outbox.supersede_cards(conn, item.ticket_id, item.chat_id, sent.through_id, now)

    async def _moved(self, item: OutboxItem, new_chat_id: int) -> None:
        """The group moved: the hook re-points this row and the rest to the new id, and they go
        out from there; for a group we do not know, the row fails as before."""
        moved = False

        async def write(conn) -> None:
            nonlocal moved
            moved = self.hooks.group_moved is not None and await self.hooks.group_moved(conn, item.chat_id, new_chat_id)
            if moved:
                await outbox.release_claim(conn, item.id, self.claimer)

        await self._commit(write)
        if not moved:
            await self._fail(item, f"group moved to chat {new_chat_id}")
        self.svc.wake_sender()

    async def _fail(self, item: OutboxItem, error: str) -> None:
        log.warning("message %s to chat %s failed for good: %s", item.id, item.chat_id, error)
        self.stats["failed"] += 1

        async def write(conn) -> None:
            now = self.svc.clock.now()
            await outbox.mark_failed(conn, item.id, error, now)
            if item.ticket_id is not None and item.purpose == "resident_status":
                await self.hooks.resident_unreachable(conn, item.ticket_id, error)
            elif item.ticket_id is not None:
                # A gathered alert (bot/alerts.py) failed for every ticket it carried.
                for ticket_id in item.payload.get("gather", {}).get("tickets") or [item.ticket_id]:
                    await tickets.add_event(conn, ticket_id, now, "delivery_failed",
                                            detail={"chat_id": item.chat_id, "purpose": item.purpose, "error": error})
            if item.chat_id < 0 and item.chat_id not in self._unreachable_chats:
                # Dispatch is told once while the group stays unreachable.
                self._unreachable_chats.add(item.chat_id)
                await self.hooks.group_unreachable(conn, item.chat_id, item.ticket_id, error)

        await self._commit(write)
        self.svc.wake_sender()

    # -------------------------------------------------------------------- sends
    async def _send(self, item: OutboxItem) -> Sent:
        if item.kind == "card":
            return await self._send_card(item)
        payload = item.payload
        reply = None
        if payload.get("reply_to_card") is not None:
            ticket = await tickets.get_ticket(self.svc.db.conn, payload["reply_to_card"])
            if ticket and ticket.card_chat_id == item.chat_id and ticket.card_message_id:
                reply = ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True)
        markup = markup_for(payload)
        if payload.get("edit_of") is not None:
            edited = await self._edit_of(item, payload, markup)
            if edited is not None:
                return edited
        if payload.get("file"):
            msg = await self._send_file(item, payload, markup, reply)
        elif payload.get("document"):
            async with self.svc.db.transaction() as conn:
                filename, data = await self.hooks.render_document(conn, payload["document"])
            msg = await self.bot.send_document(item.chat_id, InputFile(data, filename=filename), caption=payload.get("text") or None,
                                               parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=reply)
        elif payload.get("voice") or payload.get("photo"):        # a Telegram file id, with a caption
            send, file_id = (self.bot.send_voice, payload["voice"]) if payload.get("voice") else (self.bot.send_photo, payload["photo"])
            msg = await send(item.chat_id, file_id, caption=payload.get("text") or None,
                             parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=reply)
        else:
            msg = await self.bot.send_message(item.chat_id, payload["text"], parse_mode=ParseMode.HTML,
                                              reply_markup=markup, reply_parameters=reply)
        return Sent(msg.message_id)

    async def _send_file(self, item: OutboxItem, payload: dict[str, Any], markup, reply):
        """A photo or document whose bytes were attached to the row when it was queued (a chart,
        a report page): ``"file": {"as": "photo" | "document", "name": ...}``."""
        data = await reports.attached_file(self.svc.db.conn, item.id)
        if data is None:
            raise Permanent("the file attached to this message is gone")
        spec = payload["file"]
        send = self.bot.send_photo if spec.get("as") == "photo" else self.bot.send_document
        return await send(item.chat_id, InputFile(data, filename=spec.get("name") or "file"), caption=payload.get("text") or None,
                          parse_mode=ParseMode.HTML, reply_markup=markup, reply_parameters=reply)

    async def _edit_of(self, item: OutboxItem, payload: dict[str, Any], markup) -> Sent | None:
        """Edit the message an earlier row (same chat) produced. Skipped when a newer edit of it
        waits (coalescing); None (send afresh) when that message was never sent or is gone."""
        conn = self.svc.db.conn
        if await outbox.newer_edit_pending(conn, item.chat_id, item.id, payload["edit_of"]):
            return Sent(None)
        message_id = await outbox.sent_message_id(conn, payload["edit_of"], item.chat_id)
        if message_id is None or not await edit_text(self.bot, item.chat_id, message_id, payload["text"], markup):
            return None
        return Sent(message_id)

    async def _send_card(self, item: OutboxItem) -> Sent:
        # Rendered inside a transaction so the text and the refreshes it satisfies agree.
        async with self.svc.db.transaction() as conn:
            ticket = await tickets.get_ticket(conn, item.ticket_id)
            through = await outbox.last_pending_card_id(conn, item.ticket_id, item.chat_id)
            text, buttons = await views.render_card(conn, self.svc, item.ticket_id)
            edit_id = None
            if ticket.card_message_id is not None and ticket.card_chat_id == item.chat_id:
                if not await outbox.card_is_digest(conn, ticket.id, item.chat_id, ticket.card_message_id):
                    edit_id = ticket.card_message_id
        # No markup on an edit removes the buttons, as Telegram does.
        markup = markup_for(message("", buttons=buttons))
        if edit_id is not None:
            if await edit_text(self.bot, item.chat_id, edit_id, text, markup):
                return Sent(edit_id, False, through)
            # Someone deleted the card in the group: post a fresh one, the ticket is intact.
            log.info("card of ticket %s is gone; sending a fresh one", ticket.id)
        msg = await self.bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return Sent(msg.message_id, True, through)

    async def _send_digest(self, item: OutboxItem) -> Sent:
        """New tickets of one group in one message; falls back to the card if only one waits."""
        posted = await post_digest(self.bot, self.svc, item.chat_id, item.ticket_id)
        if posted is None:
            return await self._send(item)
        message_id, fresh = posted
        return Sent(message_id, digest=fresh)
