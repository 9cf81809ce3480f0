"""Buttons of ``/register``, the register of praise, criticism and press reports (``r:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from bot.callbacks.base import _NonceStep
from rules.desk import REGISTER_KINDS, REGISTER_SOURCES

__all__ = ["RegisterVerb", "RegisterStep", "REGISTER_NONE"]


class RegisterVerb(StrEnum):
    START = "start"          # from the month's list: record a new entry
    CANCEL = "cancel"
    KIND = "kind"            # kind:<praise|criticism|press|supervision>
    CENTRE = "centre"        # centre:<centre id>
    STAFF = "staff"          # staff:<user id>, or staff:none (nobody named)
    SRC = "src"              # src:<source>
    SKIP = "skip"
    GO = "go"


REGISTER_NONE = "none"
_ARGS: dict[str, frozenset[str] | None] = {
    RegisterVerb.KIND: frozenset(REGISTER_KINDS),
    RegisterVerb.CENTRE: None,
    RegisterVerb.STAFF: None,
    RegisterVerb.SRC: frozenset(str(s) for s in REGISTER_SOURCES),
}


@dataclass(frozen=True)
class RegisterStep(_NonceStep):
    """``r:<nonce>:<verb>[:<arg>]``: a step of /register (Art. 10 (1), Art. 18-24)."""

    VERB: ClassVar[type[StrEnum]] = RegisterVerb
    ARGS: ClassVar[dict[str, frozenset[str] | None]] = _ARGS
    PREFIX: ClassVar[str] = "r:"
    nonce: str
    verb: RegisterVerb
    arg: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.verb == RegisterVerb.STAFF and self.arg != REGISTER_NONE and not (self.arg.isascii() and self.arg.isdigit()):
            raise ValueError(f"staff takes a user id or {REGISTER_NONE}, got {self.arg!r}")
