"""Logging for ``heatbot run``: one handler on stderr, and nothing on it that must not be there.

At every level the log carries neither the bot's token nor residents' data (names, phones,
addresses): the libraries that log whole payloads are kept at INFO or above, and one filter
redacts the token and masks anything shaped like a phone number in every record.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

__all__ = ["setup_logging", "Redact", "JsonFormatter", "LOG_FORMATS", "PAYLOAD_LOGGERS", "PHONE_RE"]

LOG_FORMATS = ("text", "json")

# Phone numbers as residents type them (bot/intake: a mainland mobile, or a landline with its
# area code; +86 and separators allowed). Not preceded by a digit or "-", so group chat ids
# (-100...) and longer digit runs (timestamps in ms, file ids' numbers) are left alone.
PHONE_RE = re.compile(
    r"(?<![\d-])(?:(?:\+|00)86[ -]?)?(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}[ -]?\d{7,8})(?!\d)"
)


class Redact(logging.Filter):
    """Belt and braces on the one handler, so it sees every record (ours and libraries'),
    including the text of an attached traceback, which is rendered and redacted here before the
    formatter sees it: the token (httpx logs request URLs, and Telegram URLs carry it) and
    anything shaped like a phone number (residents' and staff's phones must not reach a log).
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        # The secret half alone is as bad to leak as the whole token.
        self.secrets = [t for t in (token, token.partition(":")[2]) if len(t) >= 8]

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return PHONE_RE.sub("<phone>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


# Libraries that log whole payloads at DEBUG: aiosqlite every SQL statement with its
# parameters, python-telegram-bot every update it processes and every request's parameters and
# answer, httpcore the raw traffic. Those carry residents' names, phones and addresses, so these
# loggers stay at INFO or above whatever HEATBOT_LOG_LEVEL says. Our own modules keep DEBUG.
PAYLOAD_LOGGERS = ("aiosqlite", "telegram", "httpcore")


class JsonFormatter(logging.Formatter):
    """One JSON object per line for log shippers (journald, Loki, Elasticsearch). It formats what
    the handler's :class:`Redact` filter has already cleaned, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, token: str = "", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A logger's own level decides alone (its parents' levels are not consulted), so the floor
    # is the higher of INFO and the chosen level.
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    # httpx logs every request with its URL (and so the token) at INFO.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, floor))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, floor))
