"""How fast the sender may send: Telegram's flood limits as sliding windows, on one clock.

**Budgets.** The sender keeps itself inside Telegram's published limits (:class:`~bot.config.SendSettings`:
1 message a second per private chat, 20 a minute per group, 30 a second in all, each window
stretched by a small safety margin) instead of learning them from 429s. Every send and edit
takes a slot in its chat's window and in the global one; a slot is stamped again when
Telegram answers, so the windows can only be later than Telegram's own, never earlier.

**Time.** All holds, backoffs and budgets use one injectable monotonic clock (anything with
``monotonic()``, and optionally ``wall_delay(seconds)`` to turn a wait on that clock into a
real wait), so a benchmark can run the bot and the emulator on the same accelerated clock.
Without one the sender uses ``svc.clock`` if it has ``monotonic()``, else the system's.
"""
from __future__ import annotations

import time
from typing import Protocol

from bot.config import SendSettings

__all__ = ["PRIVATE_STRICT_FOR", "window", "Window", "MonotonicClock", "SystemMonotonic"]


class MonotonicClock(Protocol):
    def monotonic(self) -> float: ...


class SystemMonotonic:
    def monotonic(self) -> float:
        return time.monotonic()


# Telegram allows a person's private chat short bursts ("avoid more than one message per second
# ... we may allow short bursts"), and a bot replying to someone's own taps rarely keeps above
# 1/s. So private chats are paced only from Telegram's first 429 on a private chat until this
# many seconds after the last one (unless the settings say to pace them always).
PRIVATE_STRICT_FOR = 600.0


def window(settings: SendSettings, kind: str) -> tuple[int, float]:
    """(messages, seconds) of a sliding window for 'private', 'group' or 'global', each
    stretched by the settings' margin."""
    stretch = 1.0 + settings.margin
    if kind == "group":
        per, seconds = settings.group_per_min, 60.0
    else:
        per, seconds = (settings.private_per_s if kind == "private" else settings.global_per_s), 1.0
    if per < 1:      # e.g. 0.5 a second = 1 every 2 seconds
        return 1, seconds / per * stretch
    return int(per), seconds * stretch


class Window:
    """Sliding window of send stamps. A stamp is taken when a send starts and moved to when
    Telegram answered, so our window never frees a slot before Telegram's does."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: list[float] = []

    def _prune(self, now: float) -> None:
        if self.stamps:
            self.stamps = [s for s in self.stamps if s > now - self.seconds]

    def wait(self, now: float) -> float:
        """Seconds until one more send fits (0 = now)."""
        self._prune(now)
        if len(self.stamps) < self.limit:
            return 0.0
        ordered = sorted(self.stamps)
        return max(0.0, ordered[len(ordered) - self.limit] + self.seconds - now)

    def free(self, now: float) -> int:
        self._prune(now)
        return max(0, self.limit - len(self.stamps))

    def take(self, now: float) -> float:
        self.stamps.append(now)
        return now

    def settle(self, stamp: float, answered: float) -> None:
        self.release(stamp)
        self.stamps.append(answered)

    def release(self, stamp: float) -> None:
        try:
            self.stamps.remove(stamp)
        except ValueError:
            pass

    @property
    def empty(self) -> bool:
        return not self.stamps
