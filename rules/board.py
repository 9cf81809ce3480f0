"""The dispatch board's pure rules: who sees what, how Telegram's Mini App data is checked, how
login tokens are made and kept, and how the list is filtered and ordered.

Who may see and do what on the board follows the buttons exactly (rules.roles, Art. 9–11):
dispatch and the department head see every centre; a centre lead sees their own centre and
acts for it as the buttons allow; a crew sees their centre's open tickets and acts on none
from the board (their buttons are on the card in their group); anyone else is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from rules.roles import Member, Role, is_dispatch

__all__ = [
    "LOGIN_LINK_LIFE", "SESSION_LIFE", "INIT_DATA_LIFE", "SOON", "Scope", "scope_of", "may_use_board_actions",
    "InitDataRefused", "WebAppUser", "check_init_data", "sign_init_data", "new_token", "token_hash",
    "Filters", "parse_filters",
]

# A login link travels through a chat: short-lived and single use.
LOGIN_LINK_LIFE = timedelta(minutes=5)
# A shift and a bit: a browser left open overnight asks again.
SESSION_LIFE = timedelta(hours=12)
# Telegram signs initData when the Mini App opens; older data may have been copied.
INIT_DATA_LIFE = timedelta(days=1)
# "Late or due within 30 min": what a dispatcher must look at now.
SOON = timedelta(minutes=30)


@dataclass(frozen=True)
class Scope:
    """What a member sees: every centre (``centre_id`` None) or one."""
    centre_id: str | None
    all_centres: bool


def scope_of(staff: Member | None) -> Scope | None:
    """None: not staff, or a centre member without a centre: 403."""
    if staff is None:
        return None
    if is_dispatch(staff):
        return Scope(None, True)
    if staff.role in (Role.CREW, Role.CENTRE_LEAD) and staff.centre_id is not None:
        return Scope(staff.centre_id, False)
    return None


def may_use_board_actions(staff: Member | None) -> bool:
    """The board's actions are dispatch's (assign, transfer, level, decisions) and a centre
    lead's acknowledgement; a crew's board is read-only (Art. 10–11)."""
    return is_dispatch(staff) or (staff is not None and staff.role == Role.CENTRE_LEAD)


class InitDataRefused(Exception):
    """Mini App data that does not prove who sent it; ``reason`` says why (for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    user_id: int
    language_code: str | None
    auth_date: datetime


def _secret(bot_token: str) -> bytes:
    # Telegram's documented key: HMAC-SHA256 of the bot token, keyed with "WebAppData".
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def check_init_data(init_data: str, bot_token: str, now: datetime, max_age: timedelta = INIT_DATA_LIFE) -> WebAppUser:
    """The user behind Telegram's ``initData`` (the query string the Mini App receives), or
    :class:`InitDataRefused`: no or a wrong hash, older than ``max_age``, no user."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("repeated_field")
    given = fields.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(given, expected):
        raise InitDataRefused("bad_hash")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataRefused("no_user") from None
    if now - auth_date > max_age:
        raise InitDataRefused("expired")
    if auth_date - now > timedelta(minutes=5):
        raise InitDataRefused("from_the_future")
    lang = user.get("language_code") if isinstance(user.get("language_code"), str) else None
    return WebAppUser(user_id, lang, auth_date)


def sign_init_data(fields: dict[str, str], bot_token: str) -> dict[str, str]:
    """``fields`` with Telegram's ``hash`` added, as a Telegram client receives them (for the
    demo, the tests and the benchmark, which play Telegram's part)."""
    signed = dict(fields)
    signed["hash"] = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return signed


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a login or session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Filters:
    centre: str | None = None
    level: str | None = None
    state: str | None = None
    urgent: bool = False       # late, or due within SOON

    def query(self) -> dict[str, str]:
        out = {k: v for k, v in (("centre", self.centre), ("level", self.level), ("state", self.state)) if v}
        if self.urgent:
            out["urgent"] = "1"
        return out


_LEVELS = ("major", "general")
_STATES = ("new", "accepted", "on_site")


def parse_filters(query: dict[str, str], centres: set[str]) -> Filters:
    """Unknown values are dropped, not refused: a stale bookmark still shows the board."""
    centre = query.get("centre") or None
    level = query.get("level") or None
    state = query.get("state") or None
    return Filters(
        centre=centre if centre in centres else None,
        level=level if level in _LEVELS else None,
        state=state if state in _STATES else None,
        urgent=query.get("urgent") in ("1", "on", "true"),
    )
