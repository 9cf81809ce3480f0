"""Buttons on tickets: a card's action (``t:``) and request (``w:``), dispatch's decision
(``d:``), an alert's acknowledgement (``a:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _IdVerb, _id, _set, _strict_id, _text

__all__ = ["CardVerb", "CardPress", "RequestVerb", "CardRequest", "Choice", "Decision", "Acknowledge"]


class CardVerb(StrEnum):
    ACCEPT = "accept"
    ARRIVE = "arrive"
    CLOSE = "close"
    NONOTE = "nonote"       # closed without a note: the crew has nothing to add


@dataclass(frozen=True)
class CardPress(_IdVerb):
    """``t:<ticket>:<verb>``: a state button on a ticket's card (Art. 12–13)."""

    VERB: ClassVar[type[StrEnum]] = CardVerb
    PREFIX: ClassVar[str] = "t:"
    ticket_id: int
    verb: CardVerb


class RequestVerb(StrEnum):
    DELAY = "delay"          # Art. 13: say why before the limit runs out
    RETURN = "return"        # 退单, Art. 13 other rules (3)
    COORD = "coord"          # Art. 13 limits (4): a written report within 8 hours
    ASSIGN = "assign"        # dispatch hands an unroutable ticket to a centre (Art. 5)


@dataclass(frozen=True)
class CardRequest(_IdVerb):
    """``w:<ticket>:<verb>``: a request button on a ticket's card."""

    VERB: ClassVar[type[StrEnum]] = RequestVerb
    PREFIX: ClassVar[str] = "w:"
    ticket_id: int
    verb: RequestVerb


class Choice(StrEnum):
    OK = "ok"                # approve a delay
    NO = "no"                # refuse a delay or a return
    SCOPE = "scope"          # close a returned ticket as out of scope (Art. 6)
    TRANSFER = "transfer"    # hand a returned ticket to another centre (Art. 5); packed as c-<centre>


_CENTRE_MARK = "c-"


@dataclass(frozen=True)
class Decision(_Data):
    """``d:<request>:<ok|no|scope|c-<centre>>``: dispatch's decision on a request."""

    PREFIX: ClassVar[str] = "d:"
    request_id: int
    choice: Choice
    centre_id: str | None = None

    def __post_init__(self) -> None:
        _id(self.request_id, "request_id")
        _set(self, "choice", Choice(self.choice))
        if (self.choice == Choice.TRANSFER) != (self.centre_id is not None):
            raise ValueError("a centre goes with a transfer and only with a transfer")
        if self.centre_id is not None:
            _text(self.centre_id, "centre_id")

    def _body(self) -> str:
        what = _CENTRE_MARK + self.centre_id if self.choice == Choice.TRANSFER else str(self.choice)
        return f"{self.request_id}:{what}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, what = rest.partition(":")
        if not sep:
            raise ValueError(rest)
        if what.startswith(_CENTRE_MARK):
            return cls(_strict_id(ident), Choice.TRANSFER, what[len(_CENTRE_MARK):])
        if what == Choice.TRANSFER:
            raise ValueError(what)      # a transfer is spelt c-<centre>
        return cls(_strict_id(ident), Choice(what))


@dataclass(frozen=True)
class Acknowledge(_Data):
    """``a:<alert>``: "Seen, I'm on it" on an escalation (Art. 7, Art. 13)."""

    PREFIX: ClassVar[str] = "a:"
    alert_id: int

    def __post_init__(self) -> None:
        _id(self.alert_id, "alert_id")

    def _body(self) -> str:
        return str(self.alert_id)

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(_strict_id(rest))
