"""Signs of life of the bot's two loops, for ``/healthz`` and ``/metrics``.

The sweeper and the sender each run in the background; a load balancer or a monitoring system
needs to know they still turn, and how far behind they are. Times here are the process's real
monotonic clock (not the injected business clock): liveness is about this process, not the
tickets' deadlines.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Vitals", "vitals_of", "start_vitals"]

_KEY = "vitals"


@dataclass
class Vitals:
    started_at: float
    sweep_interval: float = 5.0
    sweeps: int = 0
    sweep_failures: int = 0
    sweep_seconds_total: float = 0.0
    last_sweep_seconds: float | None = None
    last_sweep_at: float | None = None      # when the last sweep finished, well or not
    updates: int = 0                        # Telegram updates handed to the handlers

    @contextmanager
    def sweeping(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        except BaseException:
            self.sweep_failures += 1
            raise
        finally:
            end = time.monotonic()
            self.sweeps += 1
            self.last_sweep_seconds = end - start
            self.sweep_seconds_total += end - start
            self.last_sweep_at = end

    def sweep_age(self, now: float | None = None) -> float:
        """Seconds since the last sweep ended (since start-up before the first)."""
        now = time.monotonic() if now is None else now
        return now - (self.last_sweep_at if self.last_sweep_at is not None else self.started_at)


def vitals_of(bot_data: MutableMapping[str, Any]) -> Vitals:
    vitals = bot_data.get(_KEY)
    if vitals is None:
        vitals = bot_data[_KEY] = Vitals(started_at=time.monotonic())
    return vitals


def start_vitals(bot_data: MutableMapping[str, Any], sweep_interval: float) -> Vitals:
    """Fresh vitals for a start of the application."""
    vitals = bot_data[_KEY] = Vitals(started_at=time.monotonic(), sweep_interval=sweep_interval)
    return vitals
