"""Telegram "HTML" parse mode: a strict parser that mirrors what the Bot API accepts.

Telegram does not use a general HTML parser: it understands a handful of tags,
four named character entities plus numeric ones, and rejects everything else
with a "can't parse entities" error that carries a UTF-8 *byte* offset. Bots
that are only tested against a lenient renderer tend to break in production on
exactly these rules, so the emulator enforces them.

The result is the plain text plus MessageEntity dicts whose offsets/lengths are
in UTF-16 code units, as the Bot API reports them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from .sizes import utf16_len

_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$")

logger = logging.getLogger(__name__)

__all__ = [
    "EntityParseError",
    "parse_html",
    "utf16_len",
    "strip_formatted",
]

# tag -> MessageEntity type
_TAG_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``description`` is the Bot API error text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def description(self) -> str:
        return f"Bad Request: can't parse entities: {self.detail}"


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output where the tag's content starts
    byte_offset: int
    language: str | None = None  # set on <pre> by a nested <code class="language-x">
    children_code: bool = field(default=False)


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.n = len(src)
        self.out: list[str] = []
        self.u16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        # Only computed on errors/tags, so the O(n) encode is fine.
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.u16 += utf16_len(text)

    def decode_entity(self, i: int) -> tuple[str, int]:
        """Decode the character reference starting at ``src[i] == '&'``."""
        src = self.src
        end = src.find(";", i + 1, i + 12)
        if end == -1:
            raise EntityParseError(f'Unsupported entity "&" at byte offset {self.byte_offset(i)}')
        name = src[i + 1 : end]
        if name in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[name], end + 1
        code: int | None = None
        if name.startswith("#x") or name.startswith("#X"):
            digits = name[2:]
            if digits and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
        elif name.startswith("#"):
            digits = name[1:]
            if digits.isascii() and digits.isdigit():
                code = int(digits)
        if code is None or code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                f'Unsupported entity "&{name};" at byte offset {self.byte_offset(i)}'
            )
        return chr(code), end + 1

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        src, n = self.src, self.n
        i = 0
        plain_start = 0
        while i < n:
            ch = src[i]
            if ch not in "<&":
                i += 1
                continue
            if plain_start < i:
                self.emit(src[plain_start:i])
            if ch == "&":
                decoded, i = self.decode_entity(i)
                self.emit(decoded)
            elif i + 1 < n and src[i + 1] == "/":
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
            plain_start = i
        if plain_start < n:
            self.emit(src[plain_start:n])
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def start_tag(self, i: int) -> int:
        src, n = self.src, self.n
        j = i + 1
        while j < n and (src[j].isascii() and (src[j].isalnum() or src[j] == "-")):
            j += 1
        name = src[i + 1 : j].lower()
        if name not in _TAG_TYPES:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(i)}'
            )
        attrs: dict[str, str] = {}
        while True:
            while j < n and src[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {self.byte_offset(i)}")
            if src[j] == ">":
                j += 1
                break
            k = j
            while k < n and src[k].isascii() and (src[k].isalnum() or src[k] in "-_"):
                k += 1
            attr = src[j:k].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.byte_offset(i)}'
                )
            j = k
            while j < n and src[j].isspace():
                j += 1
            if j < n and src[j] == "=":
                j += 1
                while j < n and src[j].isspace():
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {self.byte_offset(i)}"
                    )
                if src[j] in "\"'":
                    quote = src[j]
                    close = src.find(quote, j + 1)
                    if close == -1:
                        raise EntityParseError(
                            f"Unclosed start tag at byte offset {self.byte_offset(i)}"
                        )
                    raw = src[j + 1 : close]
                    j = close + 1
                else:
                    k = j
                    while k < n and not src[k].isspace() and src[k] != ">":
                        k += 1
                    raw = src[j:k]
                    j = k
                attrs[attr] = _decode_attr(raw)
            else:
                # Bare attribute, e.g. <blockquote expandable>.
                attrs[attr] = ""
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(i)}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f'Custom emoji entity must contain a tg-emoji attribute "emoji-id" '
                f"at byte offset {self.byte_offset(i)}"
            )
        tag = _OpenTag(name=name, attrs=attrs, start=self.u16, byte_offset=self.byte_offset(i))
        if name == "code" and self.stack and self.stack[-1].name == "pre":
            cls = attrs.get("class", "")
            if cls.startswith("language-") and len(cls) > len("language-"):
                self.stack[-1].language = cls[len("language-") :]
            tag.children_code = True  # the <pre> entity already covers it
        self.stack.append(tag)
        return j

    def end_tag(self, i: int) -> int:
        src = self.src
        close = src.find(">", i + 2)
        if close == -1:
            raise EntityParseError(f"Unclosed end tag at byte offset {self.byte_offset(i)}")
        name = src[i + 2 : close].strip().lower()
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self.byte_offset(i)}")
        top = self.stack.pop()
        if name != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(i)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.close_entity(top)
        return close + 1

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.u16 - tag.start
        if length <= 0 or tag.children_code:
            return
        etype = _TAG_TYPES[tag.name]
        entity: dict[str, Any] = {"type": etype, "offset": tag.start, "length": length}
        if tag.name == "a":
            href = tag.attrs.get("href", "").strip()
            if not href:
                return  # Telegram silently drops links without a usable URL
            mention = _USER_LINK.match(href)
            if mention:
                # Telegram turns a link to a user into a text mention: the user is notified
                # (their phone rings even in a muted group).
                text = "".join(self.out).encode("utf-16-le")[2 * tag.start: 2 * self.u16].decode("utf-16-le")
                entity["type"] = "text_mention"
                entity["user"] = {"id": int(mention.group(1)), "is_bot": False, "first_name": text}
            else:
                entity["url"] = href
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        self.entities.append(entity)


def _decode_attr(raw: str) -> str:
    if "&" not in raw:
        return raw
    parser = _Parser(raw)
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            decoded, i = parser.decode_entity(i)
            out.append(decoded)
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def strip_formatted(
    text: str, entities: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram does and shift/clip the entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for ent in entities:
        start = max(int(ent["offset"]) - lead, 0)
        end = min(int(ent["offset"]) + int(ent["length"]) - lead, total)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain_text, entities); raise EntityParseError if invalid."""
    return _Parser(src).parse()
