"""pytest fixtures: a fresh emulator (and control client) per test.

Enabled from tests/conftest.py with ``pytest_plugins = ["tgemu.pytest_plugin"]``.
Each test gets its own server on a free port, so tests never share state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest_asyncio
from telegram import Bot

from .client import EmulatorClient
from .core import DEFAULT_TOKEN
from .server import Emulator

logger = logging.getLogger(__name__)

TEST_TOKEN = DEFAULT_TOKEN  # the only token the emulator accepts


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator(token=TEST_TOKEN, bot_username="heatbot_bot")
    await emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        await emu.stop()


@pytest_asyncio.fixture
async def tg(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    client = EmulatorClient.for_emulator(emulator)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture
async def tg_bot(emulator: Emulator) -> AsyncIterator[Bot]:
    """An initialized python-telegram-bot ``Bot`` talking to the emulator."""
    bot = Bot(TEST_TOKEN, base_url=emulator.api_base_url, base_file_url=emulator.file_base_url)
    async with bot:
        yield bot
