"""Buttons of ``/new``, a ticket entered on a caller's behalf (``n:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from bot.callbacks.base import _NonceStep
from rules.desk import DESK_SOURCES

__all__ = ["NewVerb", "NewStep", "NEW_NONE"]


class NewVerb(StrEnum):
    CANCEL = "cancel"
    CONT = "cont"
    RESTART = "restart"
    SRC = "src"              # src:<source>, one of the desk's sources (Art. 4)
    CAT = "cat"              # cat:<category code>
    COM = "com"              # com:<community id>, or com:none (not listed: dispatch routes it)
    SKIP = "skip"
    GO = "go"


_NEW_ARGS: dict[str, frozenset[str] | None] = {
    NewVerb.SRC: frozenset(str(s) for s in DESK_SOURCES),
    NewVerb.CAT: None,
    NewVerb.COM: None,
}
NEW_NONE = "none"


@dataclass(frozen=True)
class NewStep(_NonceStep):
    """``n:<nonce>:<verb>[:<arg>]``: a step of the /new wizard (Art. 4, 5)."""

    VERB: ClassVar[type[StrEnum]] = NewVerb
    ARGS: ClassVar[dict[str, frozenset[str] | None]] = _NEW_ARGS
    PREFIX: ClassVar[str] = "n:"
    nonce: str
    verb: NewVerb
    arg: str = ""
