"""Buttons of the outage notices (``o:``): the wizard's steps, a head's approval, a centre's
"posted", dispatch's update and restore, a resident's choice of community."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _IdVerb, _NonceStep, _id, _strict_id, _text

__all__ = [
    "WizardVerb", "WizardStep", "WIZARD_DONE", "OutageDecision", "NoticePosted", "ControlVerb", "OutageControl",
    "Subscribe", "OutageButton", "parse_outage",
]


class WizardVerb(StrEnum):
    CANCEL = "cancel"
    CONT = "cont"
    RESTART = "restart"
    KIND = "kind"            # kind:<planned|emergency|calibration>
    COM = "com"              # com:<community id> toggles it; com:done ends the choice
    BLD = "bld"              # bld:all
    GO = "go"
    ANYWAY = "anyway"        # submit despite the warnings shown


_WIZARD_ARGS: dict[str, frozenset[str] | None] = {
    WizardVerb.KIND: frozenset({"planned", "emergency", "calibration"}),
    WizardVerb.COM: None,
    WizardVerb.BLD: frozenset({"all"}),
}
WIZARD_DONE = "done"


@dataclass(frozen=True)
class WizardStep(_NonceStep):
    """``o:w:<nonce>:<verb>[:<arg>]``: a step of the /outage wizard (Art. 14–15)."""

    VERB: ClassVar[type[StrEnum]] = WizardVerb
    ARGS: ClassVar[dict[str, frozenset[str] | None]] = _WIZARD_ARGS
    PREFIX: ClassVar[str] = "o:w:"
    nonce: str
    verb: WizardVerb
    arg: str = ""


@dataclass(frozen=True)
class OutageDecision(_Data):
    """``o:a:<outage>:<yes|no>``: the department head approves a planned shutdown (Art. 14)."""

    PREFIX: ClassVar[str] = "o:a:"
    outage_id: int
    approve: bool

    def __post_init__(self) -> None:
        _id(self.outage_id, "outage_id")
        if not isinstance(self.approve, bool):
            raise ValueError(f"approve must be a bool, got {self.approve!r}")

    def _body(self) -> str:
        return f"{self.outage_id}:{'yes' if self.approve else 'no'}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, answer = rest.partition(":")
        if not sep or answer not in ("yes", "no"):
            raise ValueError(rest)
        return cls(_strict_id(ident), answer == "yes")


@dataclass(frozen=True)
class NoticePosted(_Data):
    """``o:p:<posting>``: a centre confirms it posted the notice in the area (Art. 14–15)."""

    PREFIX: ClassVar[str] = "o:p:"
    posting_id: int

    def __post_init__(self) -> None:
        _id(self.posting_id, "posting_id")

    def _body(self) -> str:
        return str(self.posting_id)

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(_strict_id(rest))


class ControlVerb(StrEnum):
    END = "end"              # a new expected end
    RESTORE = "restore"      # heat is back (Art. 15)


@dataclass(frozen=True)
class OutageControl(_IdVerb):
    """``o:c:<outage>:<end|restore>``: dispatch's progress panel."""

    VERB: ClassVar[type[StrEnum]] = ControlVerb
    PREFIX: ClassVar[str] = "o:c:"
    outage_id: int
    verb: ControlVerb


@dataclass(frozen=True)
class Subscribe(_Data):
    """``o:s:<community>``: a resident subscribes to a community's outage notices."""

    PREFIX: ClassVar[str] = "o:s:"
    community_id: str

    def __post_init__(self) -> None:
        _text(self.community_id, "community_id")

    def _body(self) -> str:
        return self.community_id

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(rest)


OutageButton = WizardStep | OutageDecision | NoticePosted | OutageControl | Subscribe


def parse_outage(data: object) -> OutageButton | None:
    """Any ``o:`` button, or None."""
    for codec in (WizardStep, OutageDecision, NoticePosted, OutageControl, Subscribe):
        parsed = codec.parse(data)
        if parsed is not None:
            return parsed
    return None
