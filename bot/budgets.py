"""How fast the sender may send: Telegram's flood limits as sliding windows, on one clock.

**Budgets.** The sender keeps itself inside Telegram's published limits (:class:`Budgets`:
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
from dataclasses import dataclass
from typing import Protocol

from bot.config import SendSettings

__all__ = ["Budgets", "Window", "MonotonicClock", "SystemMonotonic"]


class MonotonicClock(Protocol):
    def monotonic(self) -> float: ...


class SystemMonotonic:
    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class Budgets:
    """Telegram's published flood limits; ``margin`` stretches every window (0.03 = 3 %)."""
    private_per_s: float = 1.0
    group_per_min: float = 20.0
    global_per_s: float = 30.0
    margin: float = 0.03
    # Telegram allows a person's private chat short bursts ("avoid more than one message per
    # second ... we may allow short bursts"), and a bot replying to someone's own taps rarely
    # keeps above 1/s. So private chats are paced only from Telegram's first 429 on a private
    # chat until ``private_strict_for`` seconds after the last one, unless this is True.
    pace_private_always: bool = False
    private_strict_for: float = 600.0

    @classmethod
    def from_settings(cls, settings: SendSettings) -> Budgets:
        """The budgets :class:`~bot.config.Config` read (and checked) from the environment."""
        return cls(private_per_s=settings.private_per_s, group_per_min=settings.group_per_min,
                   global_per_s=settings.global_per_s, margin=settings.margin,
                   pace_private_always=settings.pace_private_always)

    def window(self, kind: str) -> tuple[int, float]:
        """(messages, seconds) of a sliding window for 'private', 'group' or 'global'."""
        stretch = 1.0 + self.margin
        if kind == "group":
            per, seconds = self.group_per_min, 60.0
        else:
            per, seconds = (self.private_per_s if kind == "private" else self.global_per_s), 1.0
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
