"""A local, strict Telegram Bot API emulator for tests, demos and benchmarks.

Start :class:`Emulator`, point python-telegram-bot at ``emu.api_base_url`` /
``emu.file_base_url``, and drive the humans with :class:`EmulatorClient`.
"""

from .client import (
    Call,
    CallbackAnswer,
    EmulatorClient,
    EmulatorError,
    Group,
    InlineButton,
    KeyboardButton,
    Msg,
    NoAnswerError,
    NoMessageError,
    User,
)
from .html import EntityParseError, parse_html
from .limits import FakeClock, FloodConfig
from .server import Emulator, run_standalone

__all__ = [
    "Call",
    "CallbackAnswer",
    "Emulator",
    "EmulatorClient",
    "EmulatorError",
    "EntityParseError",
    "FakeClock",
    "FloodConfig",
    "Group",
    "InlineButton",
    "KeyboardButton",
    "Msg",
    "NoAnswerError",
    "NoMessageError",
    "User",
    "parse_html",
    "run_standalone",
]
