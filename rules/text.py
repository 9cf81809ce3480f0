"""How long a message may be, counted the way Telegram counts it.

Telegram's Bot API limits a message's text to 4,096 and a caption to 1,024 "characters after
entities parsing" (core.telegram.org/bots/api#sendmessage). The unit is the Unicode code point:
the Bot API server is TDLib, which refuses a bot's text when ``utf8_length(text)`` — the number
of code points — exceeds ``message_text_length_max`` (tdlib/td, td/telegram/MessageContent.cpp,
``get_input_message_content``; captions likewise against ``message_caption_length_max``), and a
live probe found 4,096 emoji (8,192 UTF-16 units) accepted and 4,097 refused
(github.com/FerroxLabs/wayland issue 934). Only entity offsets count UTF-16 units
(core.telegram.org/api/entities), which this project never computes itself.

Measuring the HTML we send (before Telegram strips tags and decodes ``&amp;``) never gives less
than Telegram counts, so a text that fits here fits there.
"""
from __future__ import annotations

__all__ = ["MAX_TEXT", "MAX_CAPTION", "telegram_length"]

MAX_TEXT = 4096      # a message's text
MAX_CAPTION = 1024   # a photo's or document's caption


def telegram_length(text: str) -> int:
    """The length Telegram checks against :data:`MAX_TEXT` and :data:`MAX_CAPTION`: code points
    (an emoji counts once, although it takes two UTF-16 units)."""
    return len(text)
