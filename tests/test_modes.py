"""Both ways of receiving updates (issue 2): long polling and a webhook with a secret, each with
the real Application against the emulator; and the bot serves even when setMyCommands fails."""
from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from telegram.ext import Application

from bot import app as heatbot_app
from bot.app import Webhook, build_application
from bot.clock import FakeClock
from tgemu import Emulator, EmulatorClient
from demo.world import World
from tests.conftest import make_config
from tests.story import report_cold_flat

SECRET = "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def webhook_settings(port: int) -> Webhook:
    return Webhook(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/telegram", secret=SECRET)


@dataclass
class Running:
    app: Application
    webhook: Webhook | None   # None when long polling


async def run_bot(emulator: Emulator, db_path, clock: FakeClock, mode: str) -> AsyncIterator[Running]:
    app = build_application(make_config(emulator, db_path), clock=clock)
    webhook = webhook_settings(free_port()) if mode == "webhook" else None
    await heatbot_app.start(app, webhook=webhook)
    try:
        yield Running(app, webhook)
    finally:
        await heatbot_app.stop(app)


@pytest.fixture(params=["polling", "webhook"])
async def running_bot(request, emulator: Emulator, world: World, db_path, clock: FakeClock) -> AsyncIterator[Running]:
    """The real Application, started in the mode the test is parametrised with."""
    async for running in run_bot(emulator, db_path, clock, request.param):
        yield running


@pytest.fixture
async def webhook_bot(emulator: Emulator, world: World, db_path, clock: FakeClock) -> AsyncIterator[Running]:
    async for running in run_bot(emulator, db_path, clock, "webhook"):
        yield running


async def test_a_resident_is_greeted_in_chinese_with_the_report_button(running_bot: Running, tg: EmulatorClient):
    resident = await tg.user("张三", language_code="zh-hans")
    await resident.send("/start")
    greeting = await resident.next_message()
    assert "张三" in greeting.text
    assert "📝 我要报修" in greeting.button_texts()

    if running_bot.webhook is not None:
        [hook] = await tg.calls("setWebhook")
        assert hook.ok and hook.params["url"] == running_bot.webhook.url
        assert hook.params["secret_token"] == SECRET
        # The update reached the bot by POST, not by getUpdates.
        assert await tg.calls("getUpdates") == []
    else:
        assert await tg.calls("setWebhook") == []
        assert await tg.calls("getUpdates")


async def test_an_english_speaker_is_greeted_in_english(running_bot: Running, tg: EmulatorClient):
    resident = await tg.user("John", language_code="en-GB")
    await resident.send("/start")
    greeting = await resident.next_message()
    assert "📝 Report a problem" in greeting.button_texts()
    assert "John" in greeting.text
    # (The language button is bilingual on purpose: "🌐 Language / 语言".)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in greeting.text)


async def test_the_webhook_refuses_a_post_without_the_secret_header(webhook_bot: Running, tg: EmulatorClient):
    url = webhook_bot.webhook.url
    update = {"update_id": 999_001, "message": {
        "message_id": 1, "date": 1_768_438_800, "text": "/start",
        "chat": {"id": 4242, "type": "private", "first_name": "Mallory"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Mallory"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }}
    async with httpx.AsyncClient(timeout=5) as http:
        missing = await http.post(url, json=update)
        wrong = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
    assert missing.status_code == 403 and wrong.status_code == 403

    # The emulator's own deliveries carry the secret, so a real resident still gets through.
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/start")
    assert "📝 我要报修" in (await resident.next_message()).button_texts()


async def test_the_command_menu_is_registered_in_both_languages(running_bot: Running, tg: EmulatorClient):
    calls = [c for c in await tg.calls("setMyCommands") if c.ok]
    assert {c.params.get("language_code") for c in calls} == {"zh", "en", None}


async def test_the_bot_keeps_serving_when_set_my_commands_fails(emulator: Emulator, tg: EmulatorClient, world: World,
                                                                 db_path, clock: FakeClock):
    await tg.inject_faults("500", count=10, methods=["setMyCommands"])
    app = build_application(make_config(emulator, db_path), clock=clock)
    await heatbot_app.start(app)
    try:
        attempts = await tg.calls("setMyCommands")
        assert attempts and not any(c.ok for c in attempts)
        resident = await tg.user("张三", language_code="zh")
        await resident.send("/start")
        greeting = await resident.next_message()
        assert "📝 我要报修" in greeting.button_texts()
    finally:
        await heatbot_app.stop(app)


async def test_a_cold_flat_goes_from_report_to_done_in_webhook_mode(webhook_bot: Running, tg: EmulatorClient,
                                                                    world: World):
    resident = await tg.user("张三", language_code="zh")
    receipt = await report_cold_flat(resident)
    assert "报修已提交" in receipt.text and "0001" in receipt.text

    group = world.groups["repair-north"]
    crew = world.crew(5001)
    card = await group.next_message()
    assert "工单 0001" in card.text and "✅ 受理" in card.button_texts()

    assert "已受理" in (await crew.press(card, "受理")).text
    card = await group.wait_edited(card)
    assert "已受理" in card.text and "📍 已到场" in card.button_texts()
    assert "王师傅" in (await resident.next_message()).text

    await crew.press(card, "已到场")
    card = await group.wait_edited(card)
    assert "🏁 处理完成" in card.button_texts()
    assert "已到达" in (await resident.next_message()).text

    await crew.press(card, "处理完成")
    card = await group.wait_edited(card)
    assert "已完成" in card.text
    assert "已完成" in (await resident.next_message()).text       # and asked whether it is warm (Art. 8)

    # Every update of the story came by webhook POST.
    assert await tg.calls("getUpdates") == []
