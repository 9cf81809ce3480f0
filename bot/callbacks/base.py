"""What every codec shares: sizes, strict ids and nonces, and pack/parse plumbing."""
from __future__ import annotations

import secrets
from dataclasses import fields
from enum import StrEnum
from typing import ClassVar, Self

__all__ = ["MAX_BYTES", "MAX_ID", "NONCE_BYTES", "size", "parse_id", "parse_number", "new_nonce"]

MAX_BYTES = 64
MAX_ID = 2**63 - 1
# Drafts and outage wizards mark their buttons with a short random nonce, so a button from an
# earlier draft is recognised as stale; 3 bytes (6 hex digits) is plenty for one person's drafts.
NONCE_BYTES = 3
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


class _IdVerb(_Data):
    """``<prefix><id>:<verb>``: a button about one row (a ticket, an outage). Subclasses are
    frozen dataclasses whose first field is the row id and second the verb, of type ``VERB``."""

    VERB: ClassVar[type[StrEnum]]

    def _fields(self) -> tuple[str, str]:
        ident, verb = fields(self)[:2]      # type: ignore[arg-type]
        return ident.name, verb.name

    def __post_init__(self) -> None:
        ident, verb = self._fields()
        _id(getattr(self, ident), ident)
        _set(self, verb, self.VERB(getattr(self, verb)))

    def _body(self) -> str:
        ident, verb = self._fields()
        return f"{getattr(self, ident)}:{getattr(self, verb)}"

    @classmethod
    def _from(cls, rest: str) -> Self:
        ident, sep, verb = rest.partition(":")
        if not sep:
            raise ValueError(rest)
        return cls(_strict_id(ident), cls.VERB(verb))     # type: ignore[call-arg]


class _NonceStep(_Data):
    """``<prefix><nonce>:<verb>[:<arg>]``: a step of a draft or wizard, marked with its nonce so
    a button from an earlier one is stale. Subclasses are frozen dataclasses with the fields
    ``nonce``, ``verb`` (of type ``VERB``) and ``arg``; ``ARGS`` maps the verbs that take an
    argument to the values allowed (None: any text)."""

    VERB: ClassVar[type[StrEnum]]
    ARGS: ClassVar[dict[str, frozenset[str] | None]]
    nonce: str
    verb: StrEnum
    arg: str

    def __post_init__(self) -> None:
        _nonce(self.nonce)
        _set(self, "verb", self.VERB(self.verb))
        _check_arg(self.verb, self.arg, self.ARGS)

    def _body(self) -> str:
        return _step_body(self.nonce, self.verb, self.arg)

    @classmethod
    def _from(cls, rest: str) -> Self:
        nonce, verb, arg = _split_step(rest)
        return cls(nonce, cls.VERB(verb), arg)      # type: ignore[call-arg]
