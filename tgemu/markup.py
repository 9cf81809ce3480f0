"""Validation of reply_markup objects the way the Bot API validates them."""

from __future__ import annotations

import json
import logging
from typing import Any

from .models import bad_request
from .sizes import MAX_INLINE_BUTTONS, callback_data_fits

logger = logging.getLogger(__name__)


# Inline button fields that make a button "do something"; exactly one is required.
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)


def parse_json_param(value: Any, what: str) -> Any:
    """Nested objects arrive JSON-encoded in form bodies and as objects in JSON bodies."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what} JSON object") from None
    return value


def _check_url(url: Any) -> None:
    if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url):
        raise bad_request("BUTTON_URL_INVALID")
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in ("http", "https", "tg"):
            raise bad_request("BUTTON_URL_INVALID")


def _validate_inline(keyboard: Any) -> dict[str, Any]:
    if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
        raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    total = sum(len(r) for r in keyboard)
    if total > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    clean_rows: list[list[dict[str, Any]]] = []
    for row in keyboard:
        clean_row = []
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
            if not text.strip():
                raise bad_request("BUTTON_TEXT_EMPTY")
            actions = [a for a in _INLINE_ACTIONS if a in button and button[a] is not None]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the optional fields must be used"
                )
            if "callback_data" in actions:
                data = button["callback_data"]
                if not isinstance(data, str):
                    raise bad_request("BUTTON_DATA_INVALID")
                if not callback_data_fits(data):
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in actions:
                _check_url(button["url"])
            clean_row.append(dict(button))
        clean_rows.append(clean_row)
    return {"inline_keyboard": clean_rows}


def _validate_reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    keyboard = markup["keyboard"]
    if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
        raise bad_request("field \"keyboard\" of the ReplyKeyboardMarkup must be an Array of Arrays")
    if not any(keyboard):
        raise bad_request("keyboard must be non-empty")
    rows: list[list[dict[str, Any]]] = []
    for row in keyboard:
        out = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse keyboard button: Field \"text\" must be of type String")
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_EMPTY")
            requests = [k for k in ("request_contact", "request_location", "request_poll",
                                    "request_users", "request_chat", "web_app") if button.get(k)]
            if len(requests) > 1:
                raise bad_request("can't parse keyboard button: only one of the optional fields can be used")
            out.append(dict(button))
        rows.append(out)
    result = {k: v for k, v in markup.items() if k != "keyboard"}
    result["keyboard"] = rows
    return result


def validate_reply_markup(raw: Any) -> dict[str, Any] | None:
    """Return the normalized markup (dict) or None; raise ApiError when Telegram would."""
    if raw is None:
        return None
    markup = parse_json_param(raw, "reply keyboard markup")
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _validate_inline(markup["inline_keyboard"])
    if "keyboard" in markup:
        return _validate_reply_keyboard(markup)
    if "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
        return dict(markup)
    if "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")
