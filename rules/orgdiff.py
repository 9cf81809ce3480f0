"""What an organisation file changes, field by field (Art. 12: every change reported at once).

Generic over the organisation's dataclasses: every compared field of the organisation is either
a setting (a plain value) or a section (a tuple of entries, each a dataclass keyed by its first
field: a centre's id, a staff member's user id). A section or field added to the model later is
diffed without a change here.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

__all__ = ["Change", "diff_orgs", "as_text", "entry_key", "entry_label"]


@dataclass(frozen=True)
class Change:
    section: str            # the organisation's field: "centres", "staff", "settings" for plain values
    item: str               # the entry's key as text (a user id, a centre id, a setting's name)
    label: str | None       # the entry's name, for people
    change: str             # "added" | "removed" | "changed"
    field: str | None = None
    old: str | None = None
    new: str | None = None


def as_text(value: Any) -> str | None:
    """A value as the change log and the report show it: stable, readable, None for none."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={as_text(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    if isinstance(value, (tuple, list, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return ", ".join(as_text(v) or "" for v in items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "; ".join(f"{f.name}={as_text(getattr(value, f.name))}" for f in dataclasses.fields(value)
                         if f.compare and getattr(value, f.name) not in (None, (), {}))
    return str(value)


def entry_key(entry: Any) -> str:
    """An entry's identity: its ``key`` if it has one (a roster's shift), else its first field
    (``id``, ``user_id``)."""
    key = getattr(entry, "key", None)
    return key if isinstance(key, str) else str(getattr(entry, dataclasses.fields(entry)[0].name))


def _field_text(entry: Any, name: str) -> str | None:
    """An entry's own wording of a field (``field_text``: a shift's hours), else :func:`as_text`."""
    own = getattr(entry, "field_text", None)
    text = own(name) if callable(own) else None
    return text if text is not None else as_text(getattr(entry, name, None))


def _only_section(value: Any) -> str | None:
    """The field of a dataclass that is nothing but one section (the roster's ``shifts``)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return None
    fields = [f for f in dataclasses.fields(value) if f.compare]
    return fields[0].name if len(fields) == 1 and isinstance(getattr(value, fields[0].name), tuple) else None


def entry_label(entry: Any) -> str | None:
    for name in ("name", "name_zh"):
        value = getattr(entry, name, None)
        if isinstance(value, str):
            return value
    return None


def diff_orgs(old: Any | None, new: Any) -> list[Change]:
    """Every change from ``old`` to ``new`` (two organisations of one dataclass; ``old`` None:
    everything is added), in the model's field order, entries in ``new``'s order, removals last."""
    changes: list[Change] = []
    for f in dataclasses.fields(new):
        if not f.compare:
            continue        # e.g. the file's warnings: not part of the organisation
        before = getattr(old, f.name, None) if old is not None else None
        after = getattr(new, f.name)
        section = _only_section(after)
        if section is not None:
            changes += _diff_section(section, getattr(before, section, ()) if before is not None else (),
                                     getattr(after, section))
        elif isinstance(after, tuple) or isinstance(before, tuple):
            changes += _diff_section(f.name, before or (), after or ())
        elif as_text(before) != as_text(after):
            changes.append(Change("settings", f.name, None, "changed" if old is not None else "added", f.name,
                                  as_text(before), as_text(after)))
    return changes


def _diff_section(section: str, before: tuple[Any, ...], after: tuple[Any, ...]) -> list[Change]:
    old_by_key = {entry_key(e): e for e in before}
    new_keys = {entry_key(e) for e in after}
    changes: list[Change] = []
    for entry in after:
        key = entry_key(entry)
        was = old_by_key.get(key)
        if was is None:
            changes.append(Change(section, key, entry_label(entry), "added", None, None, as_text(entry)))
            continue
        for f in dataclasses.fields(entry):
            if not f.compare:
                continue
            a, b = _field_text(was, f.name), _field_text(entry, f.name)
            if a != b:
                changes.append(Change(section, key, entry_label(entry), "changed", f.name, a, b))
    for entry in before:
        key = entry_key(entry)
        if key not in new_keys:
            changes.append(Change(section, key, entry_label(entry), "removed", None, as_text(entry), None))
    return changes
