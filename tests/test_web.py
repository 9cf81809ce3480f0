"""The bot's one web server: started and stopped by the one start path, serving /healthz and
the API, and the Telegram webhook on the same server when there is one."""
from __future__ import annotations

import socket

import httpx
import pytest

from bot import app as heatbot_app
from bot.app import CannotListen, Webhook, build_application, http_for
from bot.clock import FakeClock
from bot.web import Listen
from demo.world import World
from tgemu import Emulator, EmulatorClient
from tests.conftest import make_config
from tests.test_cli import bot_env, heatbot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_with_a_webhook_one_server_takes_telegrams_updates_and_serves_the_api(
        emulator: Emulator, tg: EmulatorClient, world: World, db_path, clock: FakeClock):
    port = free_port()
    app = build_application(make_config(emulator, db_path), clock=clock)
    await heatbot_app.start(app, webhook=Webhook("127.0.0.1", port, f"http://127.0.0.1:{port}/telegram", "s3cret"))
    try:
        resident = await tg.user("张三", language_code="zh")
        await resident.send("/start")
        assert "📝 我要报修" in (await resident.next_message()).button_texts()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert (await http.get("/healthz")).json()["ok"] is True
            assert (await http.get("/open311/v2/services.json")).status_code == 200
            secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            assert (await http.post("/telegram", content=b"not json", headers=secret)).status_code == 400
    finally:
        await heatbot_app.stop(app)
    with pytest.raises(httpx.ConnectError):           # stopped with the bot
        async with httpx.AsyncClient(timeout=2) as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_taken_port_stops_start_up_naming_the_web_server_settings(emulator: Emulator, world: World, db_path,
                                                                          clock: FakeClock):
    app = build_application(make_config(emulator, db_path), clock=clock)
    try:
        with pytest.raises(CannotListen) as failed:
            await heatbot_app.start(app, http=Listen("127.0.0.1", emulator.port))
        assert failed.value.settings == "HEATBOT_HTTP_LISTEN/HEATBOT_HTTP_PORT"
    finally:
        await heatbot_app.stop(app)


def test_no_port_means_no_web_server(emulator: Emulator, db_path):
    assert http_for(make_config(emulator, db_path)) is None
    assert http_for(make_config(emulator, db_path, http_port=8081, http_listen="0.0.0.0")) == Listen("0.0.0.0", 8081)


async def test_heatbot_run_with_its_web_port_taken_says_so_in_one_line(tmp_path, emulator: Emulator):
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_HTTP_PORT=str(emulator.port))
    run = await heatbot("run", env=env, cwd=workdir)
    run.assert_one_clear_line("HEATBOT_HTTP_PORT", str(emulator.port))
