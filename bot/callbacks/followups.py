"""Buttons of the follow-up (Art. 8): the resident's answer (``f:``) and dispatch's record of a
phone follow-up (``fp:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _IdVerb, _id, _set, _strict_id
from rules.followup import PhoneResult

__all__ = ["FollowupVerb", "FollowupAnswer", "PhoneRecord"]


class FollowupVerb(StrEnum):
    YES = "yes"              # 👍 solved
    NO = "no"                # 👎 not solved: reopen
    RATE = "rate"            # rate:<1-5>
    NORATE = "norate"        # no rating
    NOCOMMENT = "nocomment"  # nothing to add
    NOREASON = "noreason"    # reopened, nothing to add


@dataclass(frozen=True)
class FollowupAnswer(_Data):
    """``f:<ticket>:<round>:<verb>[:<rating>]``. ``round`` is the ticket's reopen count when it
    was closed, so a button from before a reopen is stale once the ticket is closed again."""

    PREFIX: ClassVar[str] = "f:"
    ticket_id: int
    round: int
    verb: FollowupVerb
    rating: int | None = None

    def __post_init__(self) -> None:
        _id(self.ticket_id, "ticket_id")
        if not isinstance(self.round, int) or isinstance(self.round, bool) or not 0 <= self.round <= 999:
            raise ValueError(f"round must be 0..999, got {self.round!r}")
        _set(self, "verb", FollowupVerb(self.verb))
        if (self.verb == FollowupVerb.RATE) != (self.rating is not None):
            raise ValueError("a rating goes with rate and only with rate")
        if self.rating is not None and (isinstance(self.rating, bool) or self.rating not in (1, 2, 3, 4, 5)):
            raise ValueError(f"rating must be 1..5, got {self.rating!r}")

    def _body(self) -> str:
        tail = f":{self.rating}" if self.rating is not None else ""
        return f"{self.ticket_id}:{self.round}:{self.verb}{tail}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        parts = rest.split(":")
        if len(parts) not in (3, 4) or not parts[1].isascii() or not parts[1].isdigit():
            raise ValueError(rest)
        rating = None
        if len(parts) == 4:
            if not parts[3].isascii() or not parts[3].isdigit():
                raise ValueError(rest)
            rating = int(parts[3])
        return cls(_strict_id(parts[0]), int(parts[1]), FollowupVerb(parts[2]), rating)


@dataclass(frozen=True)
class PhoneRecord(_IdVerb):
    """``fp:<ticket>:<result>``: dispatch records what the resident said on the phone."""

    VERB: ClassVar[type[StrEnum]] = PhoneResult
    PREFIX: ClassVar[str] = "fp:"
    ticket_id: int
    result: PhoneResult
