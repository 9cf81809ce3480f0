"""One sender per bot at a time, across instances: the sender lease's timing.

Telegram's flood limits are per bot token, so when several instances share a PostgreSQL
database only one of them sends (storage/lease.py holds the row). The holder renews its lease
every :data:`RENEW_EVERY` seconds for :data:`LEASE_FOR`; the others try to take it every
:data:`RETRY_EVERY` seconds, and at the moment it expires, so a dead holder is replaced within
:data:`LEASE_FOR` seconds. A holder whose process has certainly ended (same host, pid gone, as
for outbox claims) is replaced at the next try, without waiting for the expiry.

**A holder never sends on a lease it may have lost.** Between renewals it trusts its own clock,
not the database's row: the lease counts as held for ``LEASE_FOR - SAFETY_MARGIN`` seconds after
the last renewal *began* (measured before the statement ran, so the database's expiry is at
least that far away). :meth:`SenderLease.check` runs before every send and renews first when that
time is up; if the renewal fails it answers False and the sender sends nothing. A process paused
longer than the lease (SIGSTOP, a frozen VM) therefore finds on waking that its time is up, and
asks the database before sending anything. The margin covers the clocks of two hosts disagreeing
by up to a second or two and the moment between the check and the request leaving.

The lease runs on real time, never on the bot's clock (tests move that one through hours): the
clocks are injected so tests can drive the lease without sleeping. The monotonic clock is
``CLOCK_BOOTTIME`` where there is one: unlike ``CLOCK_MONOTONIC`` it keeps counting while the
machine is suspended, and a suspended holder has lost its lease as surely as a paused one.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot

from storage import lease as leases
from storage.db import Database
from storage.dialect import DATABASE_ERRORS
from storage.outbox import claimer_is_dead

__all__ = ["LeaseGuard", "LeaseLost", "LeaseState", "LEASE_FOR", "RENEW_EVERY", "RETRY_EVERY", "SAFETY_MARGIN", "SenderLease", "bot_id_of", "boottime"]

log = logging.getLogger(__name__)

LEASE_FOR = 10.0        # seconds: a dead holder is replaced within this
RENEW_EVERY = 3.0       # the holder renews this often (two renewals may fail before it must stop)
RETRY_EVERY = 2.0       # an instance without the lease tries to take it this often
SAFETY_MARGIN = 3.0     # of each lease a holder never uses: clock skew, the check-to-send gap


def boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


if not hasattr(time, "CLOCK_BOOTTIME"):     # not Linux
    boottime = time.monotonic   # type: ignore[assignment]  # noqa: F811


def _utcnow() -> datetime:
    return datetime.now(UTC)


def bot_id_of(token: str) -> int:
    """The bot's id: the digits before ':' in its token (the part that is not secret)."""
    return int(token.split(":", 1)[0])


@dataclass(frozen=True)
class LeaseState:
    """For /healthz: whether this instance sends, and who holds the lease by the database (None:
    nobody, or an expired holder). A standby is healthy while ``holder`` is someone."""
    held: bool
    holder: str | None


class SenderLease:
    """This instance's view of the lease of one bot, for one sender (``holder``: its claimer name).

    :meth:`tick` does whatever is due (renew, or try to take); :meth:`start` runs it in the
    background on real time; :meth:`check` is asked before each send.
    """

    def __init__(self, db: Database, bot_id: int, holder: str, *, monotonic: Callable[[], float] = boottime,
                 wall: Callable[[], datetime] = _utcnow, on_taken: Callable[[], None] | None = None) -> None:
        self.db = db
        self.bot_id = bot_id
        self.holder = holder
        self._monotonic = monotonic
        self._wall = wall
        self._on_taken = on_taken
        self._valid_until: float | None = None      # monotonic; None: not ours
        self._renewed_at = 0.0                      # monotonic, when the last renewal began
        self._next_try = 0.0                        # monotonic, when an instance without it tries again
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()                 # one renewal at a time (the loop and a send's check)
        self.taken = 0                              # times this instance became the holder (for tests, /metrics)

    # ------------------------------------------------------------------ state
    @property
    def held(self) -> bool:
        """Ours, by our own clock since the last renewal (no database round trip)."""
        return self._valid_until is not None and self._monotonic() < self._valid_until

    async def check(self) -> bool:
        """Before a send: True if this instance may send now. A holder whose trusted time is up
        renews first; an instance that is not the holder answers False at once (it takes the
        lease at its own pace, in :meth:`tick`)."""
        if self.held:
            return True
        if self._valid_until is None:
            return False
        async with self._lock:
            if not self.held and self._valid_until is not None:     # not renewed by a send meanwhile
                await self._take_locked()
        return self.held

    async def state(self, conn) -> LeaseState:
        row = await leases.current(conn, self.bot_id)
        holder = row.holder if row is not None and row.expires_at > self._wall() else None
        return LeaseState(self.held, holder)

    # --------------------------------------------------------------- the loop
    async def tick(self) -> bool:
        """Renew if a renewal is due, or try to take the lease if a try is due; whether it is ours."""
        now = self._monotonic()
        if self._valid_until is not None:
            if now - self._renewed_at >= RENEW_EVERY or not self.held:
                await self._take()
        elif now >= self._next_try:
            await self._take()
        return self.held

    def due_in(self) -> float:
        """Seconds until :meth:`tick` has something to do."""
        now = self._monotonic()
        if self._valid_until is not None:
            return max(0.0, self._renewed_at + RENEW_EVERY - now)
        return max(0.0, self._next_try - now)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sender-lease")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender lease: renewing or taking it failed; trying again")
            # Real seconds: the lease is about other instances, which share no fake clock.
            await asyncio.sleep(max(0.05, self.due_in()))

    async def stop(self) -> None:
        """Stop renewing and give the lease up, so another instance takes over at its next try
        instead of at the expiry. Call it once nothing is being sent any more."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._valid_until is None:
            return
        self._valid_until = None
        try:
            async with self.db.transaction() as conn:
                await leases.release(conn, self.bot_id, self.holder)
        except DATABASE_ERRORS as e:
            log.warning("sender lease: could not give it up (%s); another instance takes it when it expires",
                        type(e).__name__)

    # -------------------------------------------------------------- internals
    async def _take(self) -> None:
        async with self._lock:
            await self._take_locked()

    async def _take_locked(self) -> None:
        was_ours = self._valid_until is not None
        taken: leases.Taken | None = None
        other: leases.Lease | None = None
        try:
            async with self.db.transaction() as conn:
                # Both clocks are read once the write lock is ours: the expiry written and the
                # time we trust it until are measured from the same instant, before the statement.
                began, now = self._monotonic(), self._wall()
                other = await leases.current(conn, self.bot_id)
                dead = None
                if other is not None and other.holder != self.holder and other.expires_at > now \
                        and claimer_is_dead(other.holder):
                    dead = other.holder
                taken = await leases.take(conn, self.bot_id, self.holder, now, timedelta(seconds=LEASE_FOR),
                                          dead_holder=dead)
                if taken is not None and taken.fresh:
                    released = await leases.release_other_claims(conn, self.holder)
                    if released:
                        log.warning("sender lease taken over from %s: %d message(s) it had in flight go out again",
                                    other.holder if other else "nobody", released)
        except DATABASE_ERRORS as e:
            # Keep what we had: a holder goes on sending until its trusted time is up.
            log.warning("sender lease: the database did not answer (%s)", type(e).__name__)
            self._next_try = self._monotonic() + RETRY_EVERY
            if was_ours and not self.held:
                self._lost("the database did not answer")
            return
        if taken is not None:
            self._renewed_at = began
            self._valid_until = began + LEASE_FOR - SAFETY_MARGIN
            if not was_ours:
                self.taken += 1
                log.info("this instance now sends for bot %s", self.bot_id)
                if self._on_taken is not None:
                    self._on_taken()
            return
        if was_ours:
            self._lost(f"{other.holder if other else 'another instance'} holds it")
        # Try again in RETRY_EVERY, or the moment the holder's lease runs out if that is sooner.
        wait = RETRY_EVERY
        if other is not None:
            wait = min(wait, max(0.0, (other.expires_at - now).total_seconds()) + 0.05)
        self._next_try = began + wait

    def _lost(self, why: str) -> None:
        self._valid_until = None
        log.warning("this instance lost the sender lease (%s): it stops sending", why)


class LeaseLost(Exception):
    """The sender lease ran out before a Telegram call; nothing was sent by that call."""


class LeaseGuard:
    """The bot as the sender uses it: each call first asks whether the lease is still ours by
    this process's clock (no round trip, so it is safe inside a transaction too); the sender
    renewed it just before, in ``OutboxSender._attempt``, if that was due."""

    def __init__(self, bot: Bot, lease: SenderLease) -> None:
        self._bot = bot
        self._lease = lease

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._bot, name)
        if not callable(attr) or not inspect.iscoroutinefunction(attr):
            return attr
        lease = self._lease

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if not lease.held:
                raise LeaseLost
            return await attr(*args, **kwargs)

        return guarded
