"""Flood limits and fault injection for the emulator.

Both are driven by an injected clock (seconds, float) instead of the wall clock
so that tests can advance time instantly and benchmarks can run a scaled clock.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

__all__ = ["SecondsClock", "FloodConfig", "FloodLimiter", "FaultInjector", "FaultRule", "FAULT_KINDS"]

Clock = Callable[[], float]

# "garbled": the method is carried out, but the answer is one the client cannot read (seen from a
# Bot API server that echoed back a field the client did not expect): the message IS sent.
FAULT_KINDS = ("500", "502", "hang", "drop", "garbled")


class SecondsClock:
    """The emulator's manually advanced clock, in float seconds: ``SecondsClock(1000.0)`` then
    ``clock.advance(2)`` (the bot's own fake clock is bot.clock.FakeClock, in datetimes)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FloodConfig:
    enabled: bool = False
    private_per_s: float = 1
    group_per_min: float = 20
    global_per_s: float = 30


class _Window:
    """Sliding window of event timestamps."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def wait_needed(self, now: float, limit: float, window: float) -> float | None:
        """Seconds until one more event fits, or None if it fits now."""
        while self.stamps and self.stamps[0] <= now - window:
            self.stamps.popleft()
        if len(self.stamps) < limit:
            return None
        # The slot that frees first belongs to the (len-limit)th oldest stamp.
        idx = len(self.stamps) - int(limit)
        return self.stamps[max(idx, 0)] + window - now


def _whole_seconds(wait: float) -> int:
    return max(1, math.ceil(wait - 1e-9))


class FloodLimiter:
    """Telegram-like per-chat and global send limits plus forced penalties."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.config = FloodConfig()
        self._chats: dict[int, _Window] = {}
        self._global = _Window()
        self._forced_until: dict[int, float] = {}
        self.refused = 0  # number of 429 answers given

    def configure(self, **kwargs: object) -> FloodConfig:
        for key, value in kwargs.items():
            if value is None:
                continue
            if not hasattr(self.config, key):
                raise ValueError(f"unknown flood setting {key!r}")
            setattr(self.config, key, type(getattr(self.config, key))(value))  # type: ignore[operator]
        return self.config

    def force(self, chat_id: int, retry_after: int) -> None:
        self._forced_until[chat_id] = self.clock() + retry_after

    def reset(self) -> None:
        self.config = FloodConfig()
        self._chats.clear()
        self._global = _Window()
        self._forced_until.clear()
        self.refused = 0

    def check(self, chat_id: int, private: bool) -> int | None:
        """Return retry_after seconds if a send to ``chat_id`` must be refused now.

        Does not consume budget; call :meth:`record` once the send succeeded, so
        refused (429) and invalid (400) requests cost nothing, like on Telegram.
        """
        now = self.clock()
        until = self._forced_until.get(chat_id)
        if until is not None:
            if now < until:
                return self._refuse(until - now)
            del self._forced_until[chat_id]
        cfg = self.config
        if not cfg.enabled:
            return None
        waits: list[float] = []
        chat_window = self._chats.get(chat_id)
        if chat_window is not None:
            if private:
                w = chat_window.wait_needed(now, cfg.private_per_s, 1.0)
            else:
                w = chat_window.wait_needed(now, cfg.group_per_min, 60.0)
            if w is not None:
                waits.append(w)
        g = self._global.wait_needed(now, cfg.global_per_s, 1.0)
        if g is not None:
            waits.append(g)
        if waits:
            return self._refuse(max(waits))
        return None

    def _refuse(self, wait: float) -> int:
        self.refused += 1
        return _whole_seconds(wait)

    def record(self, chat_id: int) -> None:
        if not self.config.enabled:
            return
        now = self.clock()
        self._chats.setdefault(chat_id, _Window()).stamps.append(now)
        self._global.stamps.append(now)


@dataclass
class FaultRule:
    kind: str
    remaining: int
    methods: frozenset[str] | None = None  # lower-case Bot API method names; None = all
    files: bool = False  # also fault /file downloads
    hits: int = field(default=0)


class FaultInjector:
    """Makes the next N matching Bot API calls fail in a chosen way."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self, kind: str, count: int = 1, methods: Iterable[str] | None = None, files: bool = False
    ) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {kind!r}")
        if count < 1:
            raise ValueError("count must be >= 1")
        rule = FaultRule(
            kind=kind,
            remaining=count,
            methods=frozenset(m.lower() for m in methods) if methods else None,
            files=files,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, is_file: bool = False) -> str | None:
        """Consume one matching fault for this call and return its kind."""
        name = method.lower()
        for rule in self.rules:
            if rule.remaining <= 0:
                continue
            if is_file and not rule.files:
                continue
            if not is_file and rule.methods is not None and name not in rule.methods:
                continue
            rule.remaining -= 1
            rule.hits += 1
            if rule.remaining == 0:
                self.rules.remove(rule)
            return rule.kind
        return None
