"""Telegram's size limits, counted in the units Telegram counts them in.

Two different units are in play, and bots that mix them up break in production:

* **Length limits count Unicode code points.** The Bot API server is TDLib running as a bot,
  and TDLib refuses a bot's text with ``utf8_length(text) > message_text_length_max`` (4096)
  and a caption with ``utf8_length(caption.text) > message_caption_length_max`` (1024) —
  ``utf8_length`` counts UTF-8 lead bytes, i.e. code points — after entity parsing
  (tdlib/td ``td/telegram/MessageContent.cpp``, ``get_input_message_content``). A live probe
  agrees: 4,096 × U+1F600 (8,192 UTF-16 units) was accepted and 4,097 refused with
  "Bad Request: message is too long" (github.com/FerroxLabs/wayland issue 934, 2026-08-29).
  The Bot API page itself only says "1-4096 characters after entities parsing"
  (core.telegram.org/bots/api#sendmessage).
* **Entity offsets and lengths count UTF-16 code units** ("UTF-16 is used when computing the
  length and offsets of entities in the MTProto and bot APIs, by counting the number of UTF-16
  code units (not code points)", core.telegram.org/api/entities).

So an emoji counts once toward the 4,096 but twice in an entity's offset. Callback data is
limited in bytes of UTF-8 ("1-64 bytes", core.telegram.org/bots/api#inlinekeyboardbutton).
"""
from __future__ import annotations

__all__ = [
    "MAX_TEXT", "MAX_CAPTION", "MAX_CALLBACK_ANSWER", "MAX_CALLBACK_DATA_BYTES", "MAX_INLINE_BUTTONS",
    "telegram_length", "utf16_len", "callback_data_fits",
]

MAX_TEXT = 4096                 # sendMessage / editMessageText text, after entity parsing
MAX_CAPTION = 1024              # a photo's or document's caption, after entity parsing
MAX_CALLBACK_ANSWER = 200       # answerCallbackQuery text
MAX_CALLBACK_DATA_BYTES = 64    # an inline button's callback_data, UTF-8 bytes
MAX_INLINE_BUTTONS = 100        # buttons in one inline keyboard


def telegram_length(text: str) -> int:
    """A text's length as Telegram checks it against MAX_TEXT / MAX_CAPTION: code points."""
    return len(text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of entity offsets and lengths."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def callback_data_fits(data: str) -> bool:
    """Whether a button could carry this data (1-64 bytes of UTF-8)."""
    return 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
