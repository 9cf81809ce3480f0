"""tgemu: a local, strict Telegram Bot API emulator for tests, demos and benchmarks.

Start an :class:`Emulator`, point python-telegram-bot at ``emu.api_base_url`` /
``emu.file_base_url``, and play the people with an :class:`EmulatorClient`::

    emu = Emulator(clock=clock)            # accepts only the token 123456:TEST-TOKEN
    await emu.start()
    tg = EmulatorClient.for_emulator(emu)
    alice = await tg.user("Alice")
    await alice.send("/start")
    reply = await alice.next_message()

The emulator answers only its own token — ``123456:TEST-TOKEN`` unless ``Emulator(token=...)``
(or ``python -m tgemu --token``) names another; any other token is answered as Telegram
answers it, ``401 Unauthorized``. It is as strict as Telegram where bots usually slip: HTML
parse mode, message and caption lengths (code points, see :mod:`tgemu.sizes`), entity offsets
(UTF-16), button data (1-64 bytes), privacy mode in groups, blocked users, flood limits (429
with ``retry_after``) and injected network faults. It does not import the product.

Modules: :mod:`.core` (the world's state), :mod:`.people` (what a person does), :mod:`.botapi`
(the Bot API methods), :mod:`.control` (the control API the client talks to), :mod:`.server`
(HTTP and webhooks), :mod:`.client` / :mod:`.results` (the test's side), :mod:`.pytest_plugin`.
"""

from .client import Channel, EmulatorClient, Group, User
from .core import DEFAULT_TOKEN
from .html import EntityParseError, parse_html
from .limits import SecondsClock, FloodConfig
from .results import (
    Call,
    CallbackAnswer,
    EmulatorError,
    InlineButton,
    KeyboardButton,
    Msg,
    NoAnswerError,
    NoMessageError,
)
from .server import Emulator, run_standalone
from .sizes import MAX_CAPTION, MAX_TEXT, telegram_length

__all__ = [
    "Call",
    "CallbackAnswer",
    "DEFAULT_TOKEN",
    "Emulator",
    "EmulatorClient",
    "EmulatorError",
    "EntityParseError",
    "SecondsClock",
    "FloodConfig",
    "Channel",
    "Group",
    "InlineButton",
    "KeyboardButton",
    "MAX_CAPTION",
    "MAX_TEXT",
    "Msg",
    "NoAnswerError",
    "NoMessageError",
    "User",
    "parse_html",
    "run_standalone",
    "telegram_length",
]
