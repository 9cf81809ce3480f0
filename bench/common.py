"""What the benchmarks share: a scaled clock, the heatbot Application on the emulator, residents."""
from __future__ import annotations

import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config
from tgemu import Emulator, Msg, User

__all__ = ["ScaledClock", "config_for", "flat_of", "report", "peak_rss_mb", "ROOT", "TOKEN"]

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-TOKEN"


class ScaledClock:
    """Simulated time running ``scale`` times faster than the wall clock, for the emulator
    (float seconds), the bot (``now()``) and the sender (``monotonic()``/``wall_delay``) alike."""

    def __init__(self, scale: float, start: datetime = datetime(2026, 1, 15, 1, 0, tzinfo=UTC), wall0: float | None = None) -> None:
        self.scale = scale
        self._start = start
        # Wall time (epoch) at simulated zero: the same number in two processes gives one clock.
        self.wall0 = time.time() if wall0 is None else wall0

    def monotonic(self) -> float:
        return (time.time() - self.wall0) * self.scale

    def __call__(self) -> float:
        return self._start.timestamp() + self.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def wall_delay(self, seconds: float) -> float:
        return seconds / self.scale


def config_for(emulator: Emulator, db_path: Path) -> Config:
    return Config(
        token=TOKEN, api_base_url=emulator.api_base_url, file_base_url=emulator.file_base_url,
        webhook_url=None, webhook_listen="127.0.0.1", webhook_port=0, webhook_secret=None,
        db_path=db_path, org_path=ROOT / "org.example.toml", policy_path=None, lang="zh",
        tz=ZoneInfo("Asia/Shanghai"), log_level="WARNING",
    )


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def flat_of(n: int) -> str:
    """A flat of its own for resident ``n`` (building-unit-room). Each report must be about a
    different flat: a second report for a flat with an open ticket is recorded on that ticket
    (Art. 23), so residents sharing one flat would file one ticket, not one each."""
    return f"{n // 1000 + 1}-{n // 100 % 10 + 1}-{n % 100 + 101}"


async def report(resident: User, timeout: float, *, flat: str = "3-2-501", search: str = "和平",
                 community: str = "和平苑") -> Msg:
    """The whole intake as a resident does it (a cold flat, by default at 和平苑); returns the
    receipt. Counts 10 updates: 7 messages and 3 button presses."""
    async def nxt() -> Msg:
        return await resident.next_message(timeout=timeout)

    await resident.send("/report")
    msg = await nxt()
    await resident.press(msg, "家中不热", timeout=timeout)
    await nxt()
    await resident.send(search)
    msg = await nxt()
    await resident.press(msg, community, timeout=timeout)
    await nxt()
    await resident.send(flat)
    await nxt()
    await resident.send("13912345678")
    await nxt()                               # "✔ phone" (removes the reply keyboard)
    await nxt()
    await resident.send("14")
    await nxt()
    await resident.send("暖气片冰凉")          # photo and description: one step
    summary = await nxt()
    await resident.press(summary, "确认提交", timeout=timeout)
    return await nxt()


UPDATES_PER_REPORT = 10
