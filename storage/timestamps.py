"""How times are stored: UTC ISO text that sorts correctly as a string in SQLite indexes."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["to_iso", "from_iso", "dump_json"]


def to_iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return to_iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: Any) -> str:
    """JSON for a detail or payload column; datetimes become stored time text."""
    return json.dumps(value, ensure_ascii=False, default=_default)
