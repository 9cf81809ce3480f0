"""Button data of shift handovers (交接班)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from bot.callbacks.base import _Data, _id, _strict_id

__all__ = ["HandoverAck"]


@dataclass(frozen=True)
class HandoverAck(_Data):
    """``h:<handover>``: "已接班" under a handover; whether the presser may take it over is
    decided server-side (only that centre's staff)."""

    PREFIX: ClassVar[str] = "h:"
    handover_id: int

    def __post_init__(self) -> None:
        _id(self.handover_id, "handover_id")

    def _body(self) -> str:
        return str(self.handover_id)

    @classmethod
    def _from(cls, rest: str) -> Self:
        return cls(_strict_id(rest))
