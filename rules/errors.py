"""Typed domain errors of the pure rules layer.

Callers (CLI, handlers) catch :class:`RulesError` once and show its message; the message is
written for an operator, so it names the file, entry and key at fault where there is one.
"""
from __future__ import annotations

__all__ = ["RulesError", "PolicyError", "UnknownCategory", "UnknownSource"]


class RulesError(Exception):
    """Base of every domain error raised by ``rules``."""


class PolicyError(RulesError):
    """The policy file is malformed; the message names the file, the entry code and the key."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        section: str | None = None,
        entry: str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.section = section
        self.entry = entry
        self.key = key
        where = [
            part
            for part in (
                path,
                section,
                f"category {entry!r}" if entry else None,
                f"key {key!r}" if key else None,
            )
            if part
        ]
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class UnknownCategory(RulesError):
    """A category code that the policy does not define."""

    def __init__(self, code: str, known: tuple[str, ...] = ()) -> None:
        self.code = code
        self.known = known
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown category {code!r}{hint}")


class UnknownSource(RulesError):
    """A ticket source that is not one of :class:`rules.policy.Source`."""

    def __init__(self, value: str, known: tuple[str, ...] = ()) -> None:
        self.value = value
        self.known = known
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown source {value!r}{hint}")
