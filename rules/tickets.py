"""The ticket state machine: new → accepted → on site → closed (Art. 12–13).

Crews press Accept (受理), Arrived (到场) and Done (销单) in that order; anything else is
refused with a reason the bot can show the presser.
"""
from __future__ import annotations

from enum import StrEnum

from rules.errors import RulesError

__all__ = ["Status", "Action", "TransitionRefused", "next_status", "action_for"]


class Status(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    CLOSED = "closed"


class Action(StrEnum):
    ACCEPT = "accept"
    ARRIVE = "arrive"
    CLOSE = "close"


_NEXT: dict[tuple[Status, Action], Status] = {
    (Status.NEW, Action.ACCEPT): Status.ACCEPTED,       # Art. 12: accept within 30 min
    (Status.ACCEPTED, Action.ARRIVE): Status.ON_SITE,   # Art. 13 limits (1)(2): on site
    (Status.ON_SITE, Action.CLOSE): Status.CLOSED,       # Art. 13 limits (3): closed
}
_ORDER = [Status.NEW, Status.ACCEPTED, Status.ON_SITE, Status.CLOSED]
_TARGET = {a: s for (_, a), s in _NEXT.items()}


class TransitionRefused(RulesError):
    """``reason`` is ``done_already`` (a second or stale press) or ``too_early`` (out of order)."""

    def __init__(self, current: Status, action: Action, reason: str) -> None:
        super().__init__(f"{action} refused in state {current}: {reason}")
        self.current = current
        self.action = action
        self.reason = reason


def next_status(current: Status | str, action: Action | str) -> Status:
    current, action = Status(current), Action(action)
    target = _NEXT.get((current, action))
    if target is not None:
        return target
    if _ORDER.index(current) >= _ORDER.index(_TARGET[action]):
        raise TransitionRefused(current, action, "done_already")
    raise TransitionRefused(current, action, "too_early")


def action_for(status: Status | str) -> Action | None:
    """The one button a card shows in this state."""
    for (state, action) in _NEXT:
        if state == Status(status):
            return action
    return None
