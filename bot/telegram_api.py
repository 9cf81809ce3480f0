"""What the sender hands python-telegram-bot: reply markup from a stored payload, and the HTTP
client that notes when Telegram has answered 2xx (after which a message counts as sent)."""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from telegram import (
    ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.request import HTTPXRequest

__all__ = ["AnsweredRequest", "edit_text", "markup_for", "retry_after_seconds", "start_attempt", "telegram_answered"]

# Whether Telegram answered the current delivery task's request with 2xx. Each delivery runs in
# its own task, so the flag is the task's own (a task starts with a copy of the context).
_answered: ContextVar[bool] = ContextVar("telegram_answered", default=False)


class AnsweredRequest(HTTPXRequest):
    """The bot's HTTP client, noting when Telegram answered 2xx. Once it has, the message is
    sent, whatever fails on our side afterwards (a reply python-telegram-bot cannot parse):
    sending it again would post it twice."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if 200 <= code < 300:
            _answered.set(True)
        return code, payload


def start_attempt() -> None:
    """A new try at one message: nothing answered yet (in this task's own context)."""
    _answered.set(False)


def telegram_answered() -> bool:
    return _answered.get()


def markup_for(payload: dict[str, Any]):
    if payload.get("buttons"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in payload["buttons"]])
    if payload.get("reply_keyboard"):
        rows = [[KeyboardButton(b["text"], request_contact=b.get("request_contact") or None, request_location=b.get("request_location") or None) for b in row]
                for row in payload["reply_keyboard"]]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if payload.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    if payload.get("force_reply"):
        return ForceReply(selective=True)
    return None


def retry_after_seconds(e: RetryAfter) -> float:
    value = e.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited")


async def edit_text(bot, chat_id: int, message_id: int, text: str, markup) -> bool:
    """Edit a message to ``text`` (HTML): True once it shows it ("not modified" means it already
    did), False when the message is gone (deleted, or too old to edit); other refusals raise."""
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                                    reply_markup=markup)
    except BadRequest as e:
        reason = str(e).lower()
        if _NOT_MODIFIED in reason:
            return True
        if any(s in reason for s in _EDIT_GONE):
            return False
        raise
    return True
