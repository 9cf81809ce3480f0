"""Buttons of ``/register``, the register of praise, criticism and press reports (``r:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _check_arg, _nonce, _set, _split_step, _step_body
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
class RegisterStep(_Data):
    """``r:<nonce>:<verb>[:<arg>]``: a step of /register (Art. 10 (1), Art. 18-24)."""

    PREFIX: ClassVar[str] = "r:"
    nonce: str
    verb: RegisterVerb
    arg: str = ""

    def __post_init__(self) -> None:
        _nonce(self.nonce)
        _set(self, "verb", RegisterVerb(self.verb))
        _check_arg(self.verb, self.arg, _ARGS)
        if self.verb == RegisterVerb.STAFF and self.arg != REGISTER_NONE and not (self.arg.isascii() and self.arg.isdigit()):
            raise ValueError(f"staff takes a user id or {REGISTER_NONE}, got {self.arg!r}")

    def _body(self) -> str:
        return _step_body(self.nonce, self.verb, self.arg)

    @classmethod
    def _from(cls, rest: str) -> Self:
        nonce, verb, arg = _split_step(rest)
        return cls(nonce, RegisterVerb(verb), arg)
