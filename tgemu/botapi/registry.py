"""The table of Bot API methods: each handler registers itself under its method name."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..core import Telegram
from .params import Params

__all__ = ["Handler", "METHODS", "CANONICAL", "method"]

Handler = Callable[[Telegram, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}     # lower-case name -> handler (Telegram's names are case-insensitive)
CANONICAL: dict[str, str] = {}       # lower-case name -> the documented spelling, for the call log


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = fn
        CANONICAL[name.lower()] = name
        return fn

    return register
