"""Where each key of a TOML file stands: ``tomllib`` gives no positions, so this small scanner
walks the raw text and records the line of every table header and key, for error messages
that name the line at fault (the organisation file's check)."""
from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["KeyPath", "LineIndex"]


KeyPath = tuple[str | int, ...]


class LineIndex:
    """Line numbers of table headers and keys, keyed by path (e.g. ``("staff", 2, "phone")``).

    Arrays of tables get their element index in the path, counted in file order as tomllib
    does, so a path found in the parsed data can be looked up here. Enough TOML is understood
    to skip strings, comments and multi-line arrays; anything odder only costs precision
    (the lookup falls back to the enclosing table), never correctness.
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        self.array_counts: dict[KeyPath, int] = {}
        table: KeyPath = ()
        depth = 0  # open [ and { of a value spanning lines
        in_multiline: str | None = None  # the delimiter of an open multi-line string
        for number, raw in enumerate(text.splitlines(), start=1):
            if in_multiline is None and depth == 0:
                stripped = raw.lstrip()
                if stripped.startswith("["):
                    header = self._header(stripped)
                    if header is not None:
                        table = header
                        self.lines.setdefault(table, number)
                    continue
                parsed = self._key(stripped)
                if parsed is None:
                    continue
                key, rest = parsed
                path = table + key
                self.lines.setdefault(path, number)
                depth, in_multiline = self._scan(rest, depth, None)
            else:
                depth, in_multiline = self._scan(raw, depth, in_multiline)

    def line(self, path: Iterable[str | int]) -> int | None:
        """The line of ``path``, else of the nearest enclosing table or key that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def _header(self, text: str) -> KeyPath | None:
        is_array = text.startswith("[[")
        inner = text[2:] if is_array else text[1:]
        parts, rest = self._dotted(inner)
        if parts is None:
            return None
        rest = rest.lstrip()
        closing = "]]" if is_array else "]"
        if not rest.startswith(closing):
            return None
        resolved: list[str | int] = []
        for part in parts[:-1]:
            resolved.append(part)
            # A dotted header inside an array element refers to its latest element.
            if tuple(resolved) in self.array_counts:
                resolved.append(self.array_counts[tuple(resolved)] - 1)
        resolved.append(parts[-1])
        base = tuple(resolved)
        if is_array:
            index = self.array_counts.get(base, 0)
            self.array_counts[base] = index + 1
            return base + (index,)
        return base

    def _key(self, text: str) -> tuple[KeyPath, str] | None:
        parts, rest = self._dotted(text)
        if parts is None:
            return None
        rest = rest.lstrip()
        if not rest.startswith("="):
            return None
        return tuple(parts), rest[1:]

    def _dotted(self, text: str) -> tuple[list[str] | None, str]:
        parts: list[str] = []
        rest = text
        while True:
            rest = rest.lstrip(" \t")
            if rest[:1] in ('"', "'"):
                quote = rest[0]
                end = rest.find(quote, 1)
                if end < 0:
                    return None, text
                parts.append(rest[1:end])
                rest = rest[end + 1 :]
            else:
                match = self._BARE.match(rest)
                if match is None:
                    return None, text
                parts.append(match.group())
                rest = rest[match.end() :]
            rest = rest.lstrip(" \t")
            if not rest.startswith("."):
                return parts, rest
            rest = rest[1:]

    @staticmethod
    def _scan(text: str, depth: int, in_multiline: str | None) -> tuple[int, str | None]:
        """Follow brackets and strings through one line of a value."""
        i = 0
        while i < len(text):
            if in_multiline is not None:
                end = text.find(in_multiline, i)
                if end < 0:
                    return depth, in_multiline
                i = end + 3
                in_multiline = None
                continue
            char = text[i]
            if char == "#":
                break
            if text.startswith('"""', i) or text.startswith("'''", i):
                in_multiline = text[i : i + 3]
                i += 3
                continue
            if char in "\"'":
                i += 1
                while i < len(text) and text[i] != char:
                    i += 2 if char == '"' and text[i] == "\\" else 1
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth = max(0, depth - 1)
            i += 1
        return depth, in_multiline


# --------------------------------------------------------------------------- checking
