"""The one start path (bot.app.start), as ``heatbot run``, the demo and the tests all use it:
it asks Telegram for exactly the updates the handlers answer, in both modes, and a webhook
without a secret is not started silently."""
from __future__ import annotations

import json
import logging
import socket

import pytest

from bot import app as heatbot_app
from bot.app import ALLOWED_UPDATES, Webhook, build_application, webhook_for
from bot.clock import FakeClock
from tgemu import Emulator, EmulatorClient
from demo.world import World
from tests.conftest import make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_webhook(secret: str | None) -> Webhook:
    port = free_port()
    return Webhook(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/telegram", secret=secret)


def asked_for(call) -> list[str]:
    raw = call.params["allowed_updates"]
    return json.loads(raw) if isinstance(raw, str) else list(raw)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_bot_asks_telegram_only_for_the_updates_its_handlers_answer(
        mode: str, emulator: Emulator, tg: EmulatorClient, world: World, db_path, clock: FakeClock):
    app = build_application(make_config(emulator, db_path), clock=clock)
    await heatbot_app.start(app, webhook=local_webhook("s3cret") if mode == "webhook" else None)
    try:
        resident = await tg.user("张三", language_code="zh")
        await resident.send("/start")
        assert "📝 我要报修" in (await resident.next_message()).button_texts()
        calls = await tg.calls("setWebhook" if mode == "webhook" else "getUpdates")
        assert calls and all(sorted(asked_for(c)) == sorted(ALLOWED_UPDATES) for c in calls)
    finally:
        await heatbot_app.stop(app)


@pytest.mark.parametrize(("secret", "warned"), [(None, True), ("s3cret", False)], ids=["no-secret", "secret"])
async def test_a_webhook_without_a_secret_is_started_with_a_warning(
        secret: str | None, warned: bool, emulator: Emulator, world: World, db_path, clock: FakeClock, caplog):
    app = build_application(make_config(emulator, db_path), clock=clock)
    caplog.set_level(logging.WARNING, logger="bot.app")
    await heatbot_app.start(app, webhook=local_webhook(secret))
    try:
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "WEBHOOK_SECRET" in r.getMessage()]
        assert len(warnings) == (1 if warned else 0)
    finally:
        await heatbot_app.stop(app)


def test_the_webhook_follows_the_configuration(emulator: Emulator, db_path):
    assert webhook_for(make_config(emulator, db_path)) is None          # no WEBHOOK_URL: long polling
    hook = webhook_for(make_config(emulator, db_path, webhook_url="https://bot.example.com/", webhook_port=8443,
                                   webhook_listen="0.0.0.0", webhook_secret="s"))
    assert hook == Webhook(listen="0.0.0.0", port=8443, url="https://bot.example.com/telegram", secret="s")
