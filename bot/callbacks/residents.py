"""A resident's buttons: an intake step (``i:``), the menu (``menu:``), the language (``lang:``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _NonceStep, _set
from bot.config import LANGUAGES as LANGS

__all__ = ["IntakeVerb", "IntakeStep", "INTAKE_NONE", "MenuItem", "Menu", "LanguageChoice"]


class IntakeVerb(StrEnum):
    CANCEL = "cancel"
    CONT = "cont"
    RESTART = "restart"
    CAT = "cat"              # cat:<category code>
    SAME = "same"            # same:<yes|no>, the remembered address
    COM = "com"              # com:<community id>, or com:none (not listed)
    SKIP = "skip"            # skip:<step>, bound to the step it was shown on (a double tap skips one step)
    CONFIRM = "confirm"
    EDIT = "edit"
    FIELD = "field"          # field:<step to edit>
    OUTAGE = "outage"        # outage:<file|drop>, heat is off there already


_INTAKE_ARGS: dict[str, frozenset[str] | None] = {
    IntakeVerb.CAT: None,
    IntakeVerb.SAME: frozenset({"yes", "no"}),
    IntakeVerb.COM: None,
    IntakeVerb.FIELD: None,
    IntakeVerb.OUTAGE: frozenset({"file", "drop"}),
    IntakeVerb.SKIP: frozenset({"temperature", "photo", "description"}),
}
INTAKE_NONE = "none"


@dataclass(frozen=True)
class IntakeStep(_NonceStep):
    """``i:<nonce>:<verb>[:<arg>]``: a button in a resident's report (Art. 4–5)."""

    VERB: ClassVar[type[StrEnum]] = IntakeVerb
    ARGS: ClassVar[dict[str, frozenset[str] | None]] = _INTAKE_ARGS
    PREFIX: ClassVar[str] = "i:"
    nonce: str
    verb: IntakeVerb
    arg: str = ""


class MenuItem(StrEnum):
    COLD = "cold"            # 🥶 home not warm: a report with the category already chosen
    REPORT = "report"
    MY = "my"
    OUTAGES = "outages"
    LANG = "lang"


@dataclass(frozen=True)
class Menu(_Data):
    """``menu:<item>``: the resident's main menu."""

    PREFIX: ClassVar[str] = "menu:"
    item: MenuItem

    def __post_init__(self) -> None:
        _set(self, "item", MenuItem(self.item))

    def _body(self) -> str:
        return str(self.item)

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(MenuItem(rest))


@dataclass(frozen=True)
class LanguageChoice(_Data):
    """``lang:<zh|en>``: the resident picks a language."""

    PREFIX: ClassVar[str] = "lang:"
    lang: str

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"unknown language {self.lang!r}")

    def _body(self) -> str:
        return self.lang

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(rest)
