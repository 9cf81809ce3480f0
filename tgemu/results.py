"""What the control API hands back to a test: messages, buttons, answers, errors.

Plain data, no I/O: :mod:`tgemu.client` builds these from the control API's JSON.
"""
from __future__ import annotations

import datetime as dtm
import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "Call", "CallbackAnswer", "EmulatorError", "InlineButton", "KeyboardButton", "Msg",
    "NoAnswerError", "NoMessageError", "render",
]


class EmulatorError(Exception):
    """The control API refused a request (the test did something impossible)."""

    def __init__(self, status: int, message: str, details: dict[str, Any] | None = None) -> None:
        self.status = status
        self.message = message
        self.details = details or {}
        tail = self.details.get("transcript_tail")
        text = f"[{status}] {message}"
        if tail:
            text += "\ntranscript tail:\n" + render([Msg.from_json(m) for m in tail])
        super().__init__(text)


class NoMessageError(EmulatorError, AssertionError, TimeoutError):
    """No (edited) bot message arrived in time. Also an AssertionError and TimeoutError."""


class NoAnswerError(EmulatorError, AssertionError, TimeoutError):
    """The bot did not answer a callback query in time."""


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class KeyboardButton:
    text: str
    request_contact: bool = False
    request_location: bool = False


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    ok: bool
    status: int
    error: str | None
    time: float


@dataclass
class Msg:
    message_id: int
    chat_id: int
    from_bot: bool
    sender: str
    date: int
    text: str = ""
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    has_photo: bool = False
    file_id: str | None = None
    buttons: list[list[InlineButton]] = field(default_factory=list)
    reply_keyboard: list[list[KeyboardButton]] | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    reply_to_message_id: int | None = None
    deleted: bool = False
    version: int = 0
    kind: str = "text"
    sender_id: int = 0
    delivered: bool = True
    contact: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    seq: int = 0  # world-wide order of the message's last change (see EmulatorClient.activity)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Msg:
        return cls(
            message_id=d["message_id"],
            chat_id=d["chat_id"],
            from_bot=d["from_bot"],
            sender=d["sender_name"],
            date=d["date"],
            text=d.get("text") or "",
            caption=d.get("caption"),
            entities=list(d.get("entities") or []),
            has_photo=bool(d.get("has_photo")),
            file_id=d.get("file_id"),
            buttons=[[InlineButton(b["text"], b.get("callback_data"), b.get("url")) for b in row]
                     for row in d.get("buttons") or []],
            reply_keyboard=None if d.get("reply_keyboard") is None else [
                [KeyboardButton(b["text"], b.get("request_contact", False),
                                b.get("request_location", False)) for b in row]
                for row in d["reply_keyboard"]],
            remove_keyboard=bool(d.get("remove_keyboard")),
            force_reply=bool(d.get("force_reply")),
            reply_to_message_id=d.get("reply_to_message_id"),
            deleted=bool(d.get("deleted")),
            version=int(d.get("version", 0)),
            kind=d.get("kind", "text"),
            sender_id=int(d.get("sender_id", 0)),
            delivered=bool(d.get("delivered", True)),
            contact=d.get("contact"),
            location=d.get("location"),
            seq=int(d.get("seq", 0)),
        )

    @property
    def sender_name(self) -> str:
        return self.sender

    def button_texts(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]

    def button(self, text: str) -> InlineButton:
        """The inline button with this exact text, or a unique substring (like press())."""
        flat = [b for row in self.buttons for b in row]
        exact = [b for b in flat if b.text == text]
        partial = [b for b in flat if text and text in b.text]
        if len(exact) == 1:
            return exact[0]
        if not exact and len(partial) == 1:
            return partial[0]
        problem = "ambiguous" if exact or partial else "no"
        raise KeyError(f"{problem} button {text!r}; buttons: {self.button_texts()}")


def render(msgs: list[Msg]) -> str:
    """Readable transcript: ``[14:02] Alice: /start`` / ``[14:02] bot: Hi  [Yes] [No]``."""
    lines = []
    for m in msgs:
        stamp = dtm.datetime.fromtimestamp(m.date).strftime("%H:%M")
        if m.kind == "text":
            body = m.text
        else:
            body = f"[{m.kind}]" + (f" {m.caption}" if m.caption else "")
            if m.contact:
                body += f" {m.contact.get('phone_number')}"
            if m.location:
                body += f" {m.location['latitude']},{m.location['longitude']}"
        if m.buttons:
            body += "  " + " ".join(f"[{t}]" for t in m.button_texts())
        if m.reply_keyboard:
            body += "  ⌨ " + " ".join(f"[{b.text}]" for row in m.reply_keyboard for b in row)
        if m.deleted:
            body += "  (deleted)"
        if m.version:
            body += "  (edited)"
        lines.append(f"[{stamp}] {m.sender}: {body}")
    return "\n".join(lines)
