"""Resident effort: how many taps, typed characters and read characters a "home not warm"
report costs, for a first report and for a returning resident, through the emulator.

Estimated time, as the issue measures it: 2 s per tap, 1 s per 10 characters typed, 1 s per
20 characters read (the text of every message the bot sends the resident during the report,
the receipt included; button labels are not counted). The resident takes the shortest path a
real person would: the 🥶 button, the listed community, the phone shared with one tap, the
optional steps skipped. The returning report comes after the first ticket was done.

    .venv/bin/python -m bench.effort

The last line is JSON: first_taps, first_typed, first_read, first_seconds, and the same for
returning_.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, config_for
from bot import app as heatbot_app
from bot.app import build_application
from bot.clock import FakeClock
from demo.world import build_world
from tgemu import Emulator, EmulatorClient, Msg, User

__all__ = ["Effort", "measure", "main"]

SECONDS_PER_TAP = 2.0
TYPED_PER_SECOND = 10
READ_PER_SECOND = 20
# Far in the future: the sweeper never runs by itself during a measurement.
NEVER = 10 * 365 * 24 * 3600.0


@dataclass
class Effort:
    taps: int = 0
    typed: int = 0
    read: int = 0
    steps: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return round(self.taps * SECONDS_PER_TAP + self.typed / TYPED_PER_SECOND + self.read / READ_PER_SECOND, 1)


class Counted:
    """A resident whose every tap and typed character is counted."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.effort = Effort()

    async def tap(self, msg: Msg, label: str) -> None:
        self.effort.taps += 1
        self.effort.steps.append(f"tap {label}")
        await self.user.press(msg, label)

    async def type(self, text: str) -> None:
        self.effort.typed += len(text)
        self.effort.steps.append(f"type {text}")
        await self.user.send(text)

    async def share_phone(self, phone: str) -> None:
        self.effort.taps += 1
        self.effort.steps.append("tap share phone")
        await self.user.send_contact(phone)

    async def wait_for(self, label: str) -> Msg:
        return await self.user.next_message_where(lambda m: any(label in b for b in m.button_texts()))

    async def latest_with(self, label: str) -> Msg:
        """The newest message on screen carrying the button (no new message is awaited)."""
        for m in reversed(await self.user.transcript()):
            if m.from_bot and any(label in b for b in m.button_texts()):
                return m
        raise LookupError(label)

    async def read_since(self, after: int) -> None:
        self.effort.read += sum(len(m.text or "") for m in await self.user.transcript() if m.from_bot and m.message_id > after)


async def _last_id(user: User) -> int:
    msgs = await user.transcript()
    return max((m.message_id for m in msgs), default=0)


async def first_report(r: Counted) -> Msg:
    start = await _last_id(r.user)
    r.effort.taps += 1                              # Telegram's Start button sends /start
    r.effort.steps.append("tap Start")
    await r.user.send("/start")
    await r.tap(await r.wait_for("家中不热"), "🥶 家中不热")
    await r.user.next_message()                     # which community?
    await r.type("和平")
    await r.tap(await r.wait_for("和平苑"), "和平苑")
    await r.user.next_message()                     # building, unit, flat?
    await r.type("3-2-501")
    await r.user.next_message()                     # phone?
    await r.share_phone("8613912345678")
    await r.tap(await r.wait_for("跳过"), "跳过")     # no thermometer at hand
    await r.tap(await r.wait_for("跳过"), "跳过")     # no photo, nothing to add
    await r.tap(await r.wait_for("确认提交"), "确认提交")
    receipt = await r.user.next_message_where(lambda m: "报修已提交" in m.text)
    await r.read_since(start)
    return receipt


async def returning_report(r: Counted) -> Msg:
    start = await _last_id(r.user)
    await r.tap(await r.latest_with("家中不热"), "🥶 家中不热")   # under the last status message
    await r.tap(await r.wait_for("是，就是这里"), "是，就是这里")
    await r.tap(await r.wait_for("跳过"), "跳过")
    await r.tap(await r.wait_for("跳过"), "跳过")
    await r.tap(await r.wait_for("确认提交"), "确认提交")
    receipt = await r.user.next_message_where(lambda m: "报修已提交" in m.text)
    await r.read_since(start)
    return receipt


async def measure() -> tuple[Effort, Effort]:
    clock = FakeClock(datetime(2026, 1, 15, 1, 0, tzinfo=UTC))
    emulator = Emulator(clock=lambda: clock.now().timestamp())
    await emulator.start()
    tg = EmulatorClient.for_emulator(emulator)
    try:
        world = await build_world(tg, ROOT / "org.example.toml")
        with tempfile.TemporaryDirectory() as tmp:
            app = build_application(config_for(emulator, Path(tmp) / "effort.db"), clock=clock, sweep_interval=NEVER)
            await heatbot_app.start(app)
            try:
                first = Counted(await tg.user("张大爷", language_code="zh"))
                await first_report(first)
                north, crew = world.groups["repair-north"], world.crew(5001)
                card = await north.next_message()
                for button in ("受理", "已到场", "处理完成"):
                    await crew.press(card, button)
                    card = await north.wait_edited(card)
                question = await first.user.next_message_where(lambda m: "解决了" in " ".join(m.button_texts()))
                await first.user.press(question, "👍 解决了")
                await first.user.next_message()
                await first.user.transcript()
                clock.advance(days=3)
                again = Counted(first.user)
                await returning_report(again)
            finally:
                await heatbot_app.stop(app)
    finally:
        await tg.aclose()
        await emulator.stop()
    return first.effort, again.effort


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    first, returning = asyncio.run(measure())
    for name, e in (("first report", first), ("returning report", returning)):
        print(f"{name}: {e.taps} taps, {e.typed} characters typed, {e.read} characters read, about {e.seconds} s")
        print("  " + " → ".join(e.steps))
    print(json.dumps({
        "first_taps": first.taps, "first_typed": first.typed, "first_read": first.read, "first_seconds": first.seconds,
        "returning_taps": returning.taps, "returning_typed": returning.typed, "returning_read": returning.read,
        "returning_seconds": returning.seconds,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
