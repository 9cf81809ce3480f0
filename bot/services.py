"""What handlers, the sender and the sweeper share: one object in ``bot_data``."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.texts import Texts
from rules.policy import Policy
from storage.db import Database

__all__ = ["Services", "Who"]


@dataclass
class Services:
    db: Database
    clock: Clock
    policy: Policy
    texts: Texts
    tz: ZoneInfo
    default_lang: str
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def wake_sender(self) -> None:
        self.outbox_ready.set()


@dataclass(frozen=True)
class Who:
    """The Telegram user behind an update, as handlers hand it to the domain."""
    user_id: int
    chat_id: int
    name: str
    telegram_lang: str | None
