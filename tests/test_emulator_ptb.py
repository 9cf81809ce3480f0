"""A real python-telegram-bot Application against the emulator: polling, webhook, encodings, files."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from telegram import Bot, InputFile, Update
from telegram.error import BadRequest, Conflict, InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tgemu import Emulator, EmulatorClient
from tgemu.pytest_plugin import TEST_TOKEN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def echo_app(emu: Emulator) -> Application:
    app = (ApplicationBuilder().token(TEST_TOKEN).base_url(emu.api_base_url)
           .base_file_url(emu.file_base_url).build())

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>Welcome</b>", reply_markup={"inline_keyboard": [[
                {"text": "Accept", "callback_data": "accept"}]]})

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text("Accepted ✅")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def test_ptb_application_polls_updates_and_replies(emulator: Emulator, tg: EmulatorClient) -> None:
    alice = await tg.user("张三", language_code="zh")
    async with polling(echo_app(emulator)):
        await alice.send("/start")
        welcome = await alice.next_message()
        assert welcome.text == "Welcome" and welcome.button_texts() == ["Accept"]
        answer = await alice.press(welcome, "Accept")
        assert answer.text == "got accept" and not answer.show_alert
        edited = await alice.wait_edited(welcome)
        assert edited.text == "Accepted ✅" and edited.buttons == []
        await alice.send("你好")
        assert (await alice.next_message()).text == "echo: 你好"
    methods = [c.method for c in await tg.calls()]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" in methods


async def test_ptb_application_receives_webhooks_with_the_secret_header(
    emulator: Emulator, tg: EmulatorClient
) -> None:
    alice = await tg.user("Alice")
    port = free_port()
    app = echo_app(emulator)
    async with app:
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", secret_token="s3cret-Token_1",
            webhook_url=f"http://127.0.0.1:{port}/hook")
        await app.start()
        try:
            await alice.send("ping")
            assert (await alice.next_message()).text == "echo: ping"
            info = await app.bot.get_webhook_info()
            assert info.url == f"http://127.0.0.1:{port}/hook"
            with pytest.raises(Conflict):
                await app.bot.get_updates()
            assert (await tg.calls("getUpdates"))[-1].error == (
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first")
        finally:
            await app.updater.stop()
            await app.stop()


async def test_webhook_without_the_right_secret_is_retried_until_accepted(
    emulator: Emulator, tg: EmulatorClient, tg_bot: Bot
) -> None:
    """The emulator sends the secret header; a receiver that rejects it sees retries."""
    from aiohttp import web

    seen: list[str | None] = []

    async def receiver(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return web.Response(status=500 if len(seen) < 3 else 200)

    app = web.Application()
    app.router.add_post("/hook", receiver)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    emulator.webhook_retry_delay = 0.01
    try:
        await tg_bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        alice = await tg.user("Alice")
        await alice.send("hello")
        for _ in range(200):
            if len(seen) >= 3 and not (await tg.pending_updates()):
                break
            await asyncio.sleep(0.01)
        assert seen == ["abc", "abc", "abc"]
        info = await tg_bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    finally:
        await runner.cleanup()


async def test_public_http_webhooks_are_rejected(tg: EmulatorClient, tg_bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await tg_bot.set_webhook("http://example.com/hook")
    assert (await tg.calls("setWebhook"))[-1].error == (
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")


async def test_long_poll_blocks_until_an_update_arrives(emulator: Emulator, tg: EmulatorClient,
                                                        tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(tg_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await alice.send("wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert loop.time() - started < 2
    # offset confirms: the update is gone afterwards
    assert await tg_bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_empty_long_poll_returns_after_its_timeout(tg_bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await tg_bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 2


async def test_second_poller_terminates_the_first_with_a_conflict(
    emulator: Emulator, tg_bot: Bot
) -> None:
    first = asyncio.create_task(tg_bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    # A second bot instance with the same token (PTB allows one getUpdates per Bot at a time).
    async with Bot(TEST_TOKEN, base_url=emulator.api_base_url) as other_instance:
        assert await other_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await asyncio.wait_for(first, 2)


async def test_allowed_updates_filters_update_types(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await tg_bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    await alice.send("ignored")
    assert await tg_bot.get_updates(timeout=0) == ()
    await tg_bot.get_updates(timeout=0, allowed_updates=[])  # empty list = defaults again
    await alice.send("seen")
    updates = await tg_bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["seen"]


# ------------------------------------------------------------------ encodings

@pytest.mark.parametrize("encoding", ["form", "json", "query", "multipart"])
async def test_every_request_encoding_is_understood(
    emulator: Emulator, tg: EmulatorClient, encoding: str
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    url = f"{emulator.api_base_url}{TEST_TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    fields = {"chat_id": str(alice.id), "text": "<i>hi</i>", "parse_mode": "HTML",
              "reply_markup": json.dumps(markup)}
    async with httpx.AsyncClient() as http:
        if encoding == "form":
            resp = await http.post(url, data=fields)
        elif encoding == "json":
            resp = await http.post(url, json={**fields, "chat_id": alice.id, "reply_markup": markup})
        elif encoding == "query":
            resp = await http.get(url, params=fields)
        else:
            resp = await http.post(url, data=fields, files={"unused": ("x.txt", b"x")})
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["result"]["text"] == "hi"
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
    assert body["result"]["reply_markup"] == markup


@pytest.mark.parametrize(
    ("path_token", "method", "status", "description"),
    [
        ("999:WRONG", "getMe", 401, "Unauthorized"),
        (TEST_TOKEN, "noSuchMethod", 404, "Not Found"),
    ],
    ids=["wrong-token", "unknown-method"],
)
async def test_wrong_token_and_unknown_method(
    emulator: Emulator, path_token: str, method: str, status: int, description: str
) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{emulator.api_base_url}{path_token}/{method}")
    assert resp.status_code == status
    assert resp.json() == {"ok": False, "error_code": status, "description": description}


@pytest.mark.parametrize("token", ["123456:TEST-OTHER", "999999:WRONG-TOKEN-xxxxxxxxxxxxxxxx"])
async def test_a_bot_with_another_token_is_refused_as_telegram_refuses_it(emulator: Emulator, token: str) -> None:
    bot = Bot(token, base_url=emulator.api_base_url, base_file_url=emulator.file_base_url)
    with pytest.raises(InvalidToken):
        await bot.get_me()


async def test_method_names_are_case_insensitive(emulator: Emulator) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{emulator.api_base_url}{TEST_TOKEN}/GETME")
    assert resp.json()["result"]["username"] == "heatbot_bot"


# ---------------------------------------------------------------------- files

async def test_bot_photo_upload_round_trips_through_get_file(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    png = tiny_png(3, 2)
    sent = await tg_bot.send_photo(alice.id, png, caption="<b>meter</b>", parse_mode="HTML")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (3, 2)
    assert sent.caption == "meter"
    tg_file = await sent.photo[-1].get_file()
    assert bytes(await tg_file.download_as_bytearray()) == png
    msg = await alice.next_message()
    assert msg.has_photo and msg.caption == "meter" and msg.text == ""
    assert await tg.file_bytes(msg.file_id or "") == png
    again = await tg_bot.send_photo(alice.id, sent.photo[-1].file_id)  # reuse by file_id
    assert again.photo[-1].file_id == sent.photo[-1].file_id


async def test_documents_upload_with_attach_references(
    emulator: Emulator, tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    doc = await tg_bot.send_document(alice.id, InputFile(b"a,b\n1,2\n", filename="report.csv"))
    assert doc.document is not None and doc.document.file_name == "report.csv"
    # attach:// form, as used for thumbnails and media groups
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            f"{emulator.api_base_url}{TEST_TOKEN}/sendDocument",
            data={"chat_id": str(alice.id), "document": "attach://file1"},
            files={"file1": ("notes.txt", b"hello", "text/plain")})
    result = resp.json()["result"]
    assert result["document"]["file_name"] == "notes.txt"
    file = await tg_bot.get_file(result["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"hello"


async def test_user_media_reaches_the_bot_and_can_be_downloaded(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice", last_name="Li")
    png = tiny_png(4, 4)
    await alice.send_photo(png, caption="leak")
    await alice.send_contact("13800000000")
    await alice.send_location(39.9, 116.4)
    await alice.send_sticker()
    await alice.send_voice(duration=3)
    updates = await tg_bot.get_updates(timeout=0)
    photo, contact, location, sticker, voice = (u.message for u in updates)
    assert photo.caption == "leak"
    data = await (await photo.photo[-1].get_file()).download_as_bytearray()
    assert bytes(data) == png
    assert contact.contact.phone_number == "13800000000" and contact.contact.user_id == alice.id
    assert (location.location.latitude, location.location.longitude) == (39.9, 116.4)
    assert sticker.sticker is not None and voice.voice is not None
