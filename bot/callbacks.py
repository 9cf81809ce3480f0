"""Button data: one typed codec per prefix, packed and parsed in one place.

In the spirit of aiogram's ``CallbackData``: each kind of button is a frozen dataclass whose
``pack()`` builds the ``callback_data`` string and whose ``parse(data)`` reads one back, or
returns ``None`` for anything that is not exactly what ``pack()`` would have made. Parsing is
strict because the data comes from the client and can be forged:

* numbers are ASCII digits only (``"²".isdigit()`` is true, but ``int("²")`` fails) within
  ``1..2**63-1`` (SQLite's INTEGER; a larger one overflows the query);
* actions are the known ones only;
* nothing over 64 bytes, Telegram's limit for ``callback_data`` (Bot API, InlineKeyboardButton:
  "Data to be sent in a callback query to the bot when the button is pressed, 1-64 bytes").
  ``pack()`` refuses such data with ``ValueError`` rather than let Telegram refuse the whole
  message (BUTTON_DATA_INVALID).

What the data says is never trusted: the handlers still authorise every press against the
database. The codec only guarantees that what they are handed is well formed.

Prefixes: ``t:`` card action, ``w:`` card request, ``d:`` dispatch decision, ``a:``
acknowledge an alert, ``o:`` outages (``o:w:`` wizard, ``o:a:`` approval, ``o:p:`` notice
posted, ``o:c:`` control, ``o:s:`` subscribe), ``i:`` intake step, ``menu:``, ``lang:``.
No telegram import here: this module is pure.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

__all__ = [
    "MAX_BYTES", "MAX_ID", "NONCE_BYTES", "parse_id", "parse_number", "new_nonce", "size",
    "CardVerb", "CardPress", "RequestVerb", "CardRequest", "Choice", "Decision", "Acknowledge",
    "WizardVerb", "WizardStep", "OutageDecision", "NoticePosted", "ControlVerb", "OutageControl", "Subscribe",
    "OutageButton", "parse_outage",
    "IntakeVerb", "IntakeStep", "INTAKE_NONE", "WIZARD_DONE", "MenuItem", "Menu", "LanguageChoice", "LANGS",
    "community_buttons", "centre_buttons",
]

MAX_BYTES = 64
MAX_ID = 2**63 - 1
# Drafts and outage wizards mark their buttons with a short random nonce, so a button from an
# earlier draft is recognised as stale; 3 bytes (6 hex digits) is plenty for one person's drafts.
NONCE_BYTES = 3
LANGS = ("zh", "en")
_NONCE_LEN = 2 * NONCE_BYTES
_HEX = frozenset("0123456789abcdef")
_DIGITS = frozenset("0123456789")


def size(data: str) -> int:
    """Bytes as Telegram counts them for callback_data (UTF-8)."""
    return len(data.encode("utf-8"))


def parse_id(text: str) -> int | None:
    """A row id as a button or a command carries it: ASCII digits, 1..2**63-1; else None.

    Leading zeros are allowed (tickets are shown as ``0001``)."""
    if not isinstance(text, str) or not text or not set(text) <= _DIGITS:
        return None
    significant = text.lstrip("0")
    if not significant or len(significant) > len(str(MAX_ID)):
        return None      # zero, or too long to be a 64-bit integer (and not worth int())
    value = int(significant)
    return value if value <= MAX_ID else None


def parse_number(text: str | None) -> int | None:
    """A ticket (or other) number typed after a command: ``12``, ``0012`` or ``#0012``."""
    if text is None:
        return None
    return parse_id(text.strip().removeprefix("#"))


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def _id(value: object, what: str) -> int:
    # bool is an int in Python, but True is not ticket 1.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise ValueError(f"{what} must be an integer in 1..2**63-1, got {value!r}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ValueError(f"{what} must be non-empty printable text, got {value!r}")
    return value


def _nonce(value: object) -> str:
    if not isinstance(value, str) or len(value) != _NONCE_LEN or not set(value) <= _HEX:
        raise ValueError(f"nonce must be {_NONCE_LEN} lowercase hex digits, got {value!r}")
    return value


def _strict_id(text: str) -> int:
    """For parse(): no leading zeros either, so each id has exactly one packed form."""
    value = parse_id(text)
    if value is None or text != str(value):
        raise ValueError(f"not an id: {text!r}")
    return value


class _Data:
    """Shared pack/parse plumbing; subclasses give PREFIX, ``_body()`` and ``_from(rest)``."""

    PREFIX: ClassVar[str]

    def _body(self) -> str:
        raise NotImplementedError

    @classmethod
    def _from(cls, rest: str) -> Self:
        raise NotImplementedError

    def pack(self) -> str:
        data = self.PREFIX + self._body()
        if size(data) > MAX_BYTES:
            raise ValueError(f"button data {data!r} is {size(data)} bytes; Telegram allows {MAX_BYTES}")
        return data

    @classmethod
    def parse(cls, data: object) -> Self | None:
        if not isinstance(data, str) or not data.startswith(cls.PREFIX) or size(data) > MAX_BYTES:
            return None
        try:
            parsed = cls._from(data[len(cls.PREFIX):])
            # One canonical form: anything pack() would not have produced is refused.
            return parsed if parsed.pack() == data else None
        except ValueError:
            return None


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)      # frozen dataclasses normalise their fields this way


# ------------------------------------------------------------------------------ tickets


class CardVerb(StrEnum):
    ACCEPT = "accept"
    ARRIVE = "arrive"
    CLOSE = "close"
    NONOTE = "nonote"       # closed without a note: the crew has nothing to add


@dataclass(frozen=True)
class CardPress(_Data):
    """``t:<ticket>:<verb>``: a state button on a ticket's card (Art. 12–13)."""

    PREFIX: ClassVar[str] = "t:"
    ticket_id: int
    verb: CardVerb

    def __post_init__(self) -> None:
        _id(self.ticket_id, "ticket_id")
        _set(self, "verb", CardVerb(self.verb))

    def _body(self) -> str:
        return f"{self.ticket_id}:{self.verb}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, verb = rest.partition(":")
        if not sep:
            raise ValueError(rest)
        return cls(_strict_id(ident), CardVerb(verb))


class RequestVerb(StrEnum):
    DELAY = "delay"          # Art. 13: say why before the limit runs out
    RETURN = "return"        # 退单, Art. 13 other rules (3)
    COORD = "coord"          # Art. 13 limits (4): a written report within 8 hours
    ASSIGN = "assign"        # dispatch hands an unroutable ticket to a centre (Art. 5)


@dataclass(frozen=True)
class CardRequest(_Data):
    """``w:<ticket>:<verb>``: a request button on a ticket's card."""

    PREFIX: ClassVar[str] = "w:"
    ticket_id: int
    verb: RequestVerb

    def __post_init__(self) -> None:
        _id(self.ticket_id, "ticket_id")
        _set(self, "verb", RequestVerb(self.verb))

    def _body(self) -> str:
        return f"{self.ticket_id}:{self.verb}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, verb = rest.partition(":")
        if not sep:
            raise ValueError(rest)
        return cls(_strict_id(ident), RequestVerb(verb))


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


# ------------------------------------------------------------------------------ steps with a nonce


def _split_step(rest: str) -> tuple[str, str, str]:
    """``<nonce>:<verb>[:<arg>]`` → (nonce, verb, arg); the arg may itself hold colons."""
    nonce, sep, value = rest.partition(":")
    if not sep:
        raise ValueError(rest)
    verb, _, arg = value.partition(":")
    return nonce, verb, arg


def _step_body(nonce: str, verb: str, arg: str) -> str:
    return f"{nonce}:{verb}:{arg}" if arg else f"{nonce}:{verb}"


def _check_arg(verb: str, arg: str, args: dict[str, frozenset[str] | None]) -> None:
    """``args`` maps the verbs that take an argument to the values allowed (None: any text)."""
    if verb not in args:
        if arg:
            raise ValueError(f"{verb} takes no argument, got {arg!r}")
        return
    allowed = args[verb]
    _text(arg, f"{verb}'s argument")
    if allowed is not None and arg not in allowed:
        raise ValueError(f"{verb}: unknown argument {arg!r}")


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
class WizardStep(_Data):
    """``o:w:<nonce>:<verb>[:<arg>]``: a step of the /outage wizard (Art. 14–15)."""

    PREFIX: ClassVar[str] = "o:w:"
    nonce: str
    verb: WizardVerb
    arg: str = ""

    def __post_init__(self) -> None:
        _nonce(self.nonce)
        _set(self, "verb", WizardVerb(self.verb))
        _check_arg(self.verb, self.arg, _WIZARD_ARGS)

    def _body(self) -> str:
        return _step_body(self.nonce, self.verb, self.arg)

    @classmethod
    def _from(cls, rest: str) -> Self:
        nonce, verb, arg = _split_step(rest)
        return cls(nonce, WizardVerb(verb), arg)


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
class OutageControl(_Data):
    """``o:c:<outage>:<end|restore>``: dispatch's progress panel."""

    PREFIX: ClassVar[str] = "o:c:"
    outage_id: int
    verb: ControlVerb

    def __post_init__(self) -> None:
        _id(self.outage_id, "outage_id")
        _set(self, "verb", ControlVerb(self.verb))

    def _body(self) -> str:
        return f"{self.outage_id}:{self.verb}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, verb = rest.partition(":")
        if not sep:
            raise ValueError(rest)
        return cls(_strict_id(ident), ControlVerb(verb))


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


# ------------------------------------------------------------------------------ residents


class IntakeVerb(StrEnum):
    CANCEL = "cancel"
    CONT = "cont"
    RESTART = "restart"
    CAT = "cat"              # cat:<category code>
    SAME = "same"            # same:<yes|no>, the remembered address
    COM = "com"              # com:<community id>, or com:none (not listed)
    SKIP = "skip"
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
}
INTAKE_NONE = "none"


@dataclass(frozen=True)
class IntakeStep(_Data):
    """``i:<nonce>:<verb>[:<arg>]``: a button in a resident's report (Art. 4–5)."""

    PREFIX: ClassVar[str] = "i:"
    nonce: str
    verb: IntakeVerb
    arg: str = ""

    def __post_init__(self) -> None:
        _nonce(self.nonce)
        _set(self, "verb", IntakeVerb(self.verb))
        _check_arg(self.verb, self.arg, _INTAKE_ARGS)

    def _body(self) -> str:
        return _step_body(self.nonce, self.verb, self.arg)

    @classmethod
    def _from(cls, rest: str) -> Self:
        nonce, verb, arg = _split_step(rest)
        return cls(nonce, IntakeVerb(verb), arg)


class MenuItem(StrEnum):
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


# ------------------------------------------------------------------------------ sizes of org ids

_WIDEST_NONCE = "f" * _NONCE_LEN


def community_buttons(community_id: str) -> tuple[_Data, ...]:
    """Every button a community id goes into, at its widest; ``pack()`` each to check the id
    fits (the organisation file check does)."""
    return (
        IntakeStep(_WIDEST_NONCE, IntakeVerb.COM, community_id),
        WizardStep(_WIDEST_NONCE, WizardVerb.COM, community_id),
        Subscribe(community_id),
    )


def centre_buttons(centre_id: str) -> tuple[_Data, ...]:
    """Every button a centre id goes into, at its widest (the largest request id)."""
    return (Decision(MAX_ID, Choice.TRANSFER, centre_id),)
