"""What the board's tests share: the bot with its web server, logging in, signed Mini App data."""
from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlencode

import pytest
from telegram.ext import Application

from bot import app as heatbot_app
from bot.app import build_application
from bot.web import Listen
from rules.board import sign_init_data
from tests.conftest import TOKEN, make_config
from tgemu import User

__all__ = ["board_app", "login_url", "init_data", "base_url"]


async def board_app(emulator, db_path, clock, **config) -> AsyncIterator[Application]:
    app = build_application(make_config(emulator, db_path, **config), clock=clock)
    await heatbot_app.start(app, http=Listen("127.0.0.1", 0))      # the system picks the port as it binds
    try:
        yield app
    finally:
        await heatbot_app.stop(app)


def base_url(app: Application) -> str:
    return app.bot_data["web"].url


async def login_url(user: User) -> str:
    """``/board`` in the user's private chat; the one-time link the bot answers with."""
    await user.send("/board")
    msg = await user.next_message()
    found = re.search(r"https?://\S+/board/login\?t=\S+", msg.text)
    if found is None:
        pytest.fail(f"no login link in {msg.text!r}")
    return found.group(0)


def init_data(user_id: int, when: datetime, token: str = TOKEN, lang: str = "zh", **tamper: str) -> str:
    """The query string a Telegram client hands a Mini App, signed with ``token``; ``tamper``
    changes fields after signing."""
    fields = {"query_id": "AAE-board-test", "auth_date": str(int(when.timestamp())),
              "user": json.dumps({"id": user_id, "first_name": "T", "language_code": lang}, separators=(",", ":"))}
    signed = sign_init_data(fields, token)
    signed.update(tamper)
    return urlencode(signed)
