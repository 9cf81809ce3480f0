"""What the outbox sender and the wiring share: the hooks the sender cannot decide itself, and
what one send produced."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from storage import outbox

__all__ = ["DeliveryHooks", "Permanent", "Sent"]


@dataclass(frozen=True)
class DeliveryHooks:
    """What the sender cannot decide itself, handed in by the wiring (bot/app.py).

    Payload keys beyond text/buttons/photo: ``"edit_of": <outbox id>`` edits the message that
    row produced; ``"document": {...}`` sends the page ``render_document`` renders, with the
    text as its caption. Each hook runs inside the sender's transaction."""
    resident_unreachable: Callable[[Any, int, str], Awaitable[None]]               # (conn, ticket id, error)
    group_unreachable: Callable[[Any, int, int | None, str], Awaitable[None]]      # (conn, chat id, ticket id, error)
    render_document: Callable[[Any, dict[str, Any]], Awaitable[tuple[str, bytes]]]  # (conn, spec) -> (file name, bytes)
    # A group upgraded to a supergroup (ChatMigrated): re-point what waits for it; False when
    # the group is not one we know.
    group_moved: Callable[[Any, int, int], Awaitable[bool]] | None = None             # (conn, old id, new id)


class Permanent(Exception):
    """Telegram will never take this row (a file gone, a chat refused for good)."""


@dataclass
class Sent:
    """What one send produced, for the sender's record of it."""
    message_id: int | None
    fresh_card: bool = False
    through_id: int | None = None                   # card refreshes satisfied by this send
    digest: list[outbox.FreshCard] | None = None    # tickets a digest carried
