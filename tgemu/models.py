"""In-memory state of the emulated Telegram world and its JSON renderings.

Two renderings exist for a message: the Bot API ``Message`` object (what PTB
parses) and the emulator's own flat view used by the control API/client
(plain text, buttons, version, deleted flag).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class ControlError(Exception):
    """The test used the control API wrongly (not a Bot API error)."""

    def __init__(self, status: int, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}


@dataclass
class UserRec:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked: bool = False  # this user blocked the bot
    started: bool = False  # has written to the bot in private at least once

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class FileRec:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None = None
    file_name: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class MessageRec:
    message_id: int
    chat_id: int
    sender_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    # media / special content, already in Bot API shape
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False
    version: int = 0
    delivered: bool = True  # False for group messages hidden by privacy mode
    seq: int = 0  # world-wide order of the last change (sent, edited, deleted): the activity feed
    # A group's upgrade to a supergroup: the service message in the old group and in the new one.
    migrate_to_chat_id: int | None = None
    migrate_from_chat_id: int | None = None

    @property
    def kind(self) -> str:
        for name in ("photo", "document", "contact", "location", "sticker", "voice"):
            if getattr(self, name) is not None:
                return name
        return "text"


@dataclass
class ChatRec:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None = None
    user_id: int | None = None  # for private chats
    members: set[int] = field(default_factory=set)
    privacy: bool = True
    bot_admin: bool = False
    bot_status: str = "member"  # member | kicked | left
    messages: dict[int, MessageRec] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None  # ReplyKeyboardMarkup currently shown
    migrated_to: int | None = None  # a basic group upgraded to this supergroup: the old id refuses messages

    @property
    def is_channel(self) -> bool:
        return self.type == "channel"

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


@dataclass
class CallbackRec:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class CallRec:
    method: str
    params: dict[str, Any]
    ok: bool
    status: int
    error: str | None
    time: float

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "time": self.time,
        }


def chat_to_api(chat: ChatRec, users: dict[int, UserRec]) -> dict[str, Any]:
    if chat.is_private:
        assert chat.user_id is not None
        user = users[chat.user_id]
        data: dict[str, Any] = {"id": chat.id, "type": "private", "first_name": user.first_name}
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        return data
    return {"id": chat.id, "type": chat.type, "title": chat.title or ""}


def buttons_of(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [
            {"text": b.get("text", ""), "callback_data": b.get("callback_data"), "url": b.get("url")}
            for b in row
        ]
        for row in markup["inline_keyboard"]
    ]


def reply_keyboard_of(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]] | None:
    if not markup or "keyboard" not in markup:
        return None
    rows = []
    for row in markup["keyboard"]:
        out = []
        for b in row:
            if isinstance(b, str):
                b = {"text": b}
            out.append(
                {
                    "text": b.get("text", ""),
                    "request_contact": bool(b.get("request_contact")),
                    "request_location": bool(b.get("request_location")),
                }
            )
        rows.append(out)
    return rows
