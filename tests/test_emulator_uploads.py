"""The emulator refuses uploads as Telegram does: a photo it cannot decode, a photo over 10 MB
or with impossible sides, any file over 50 MB (Bot API, sendPhoto and "Sending files")."""
from __future__ import annotations

import struct
import zlib

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, TelegramError

from tgemu import EmulatorClient, User


def png(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG whose header says width × height (the emulator, like a decoder, reads the header
    first); ``padding`` bytes of an ancillary chunk make it as large as a test needs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    extra = chunk(b"tEXt", b"x\x00" + b"0" * padding) if padding else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b"")


@pytest.fixture
async def alice(tg: EmulatorClient) -> User:
    user = await tg.user("Alice")
    await user.send("/start")
    return user


async def test_a_photo_that_is_not_an_image_is_refused(tg_bot: Bot, alice: User):
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await tg_bot.send_photo(alice.id, b"this is not a picture")


async def test_a_chart_sized_photo_is_accepted_with_its_size(tg_bot: Bot, alice: User):
    sent = await tg_bot.send_photo(alice.id, png(1280, 720), caption="chart")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (1280, 720)


@pytest.mark.parametrize("width, height", [(6000, 4001), (2100, 100)])
async def test_a_photo_whose_sides_telegram_does_not_take_is_refused(tg_bot: Bot, alice: User, width: int, height: int):
    # width + height over 10,000; a side more than 20 times the other.
    with pytest.raises(BadRequest, match="(?i)photo_invalid_dimensions"):
        await tg_bot.send_photo(alice.id, png(width, height))


async def test_a_photo_over_10_mb_is_refused_but_sent_as_a_document_it_goes(tg_bot: Bot, alice: User):
    big = png(100, 100, padding=10 * 1024 * 1024)
    with pytest.raises(BadRequest, match="(?i)photo_save_file_invalid"):
        await tg_bot.send_photo(alice.id, big)
    doc = await tg_bot.send_document(alice.id, InputFile(big, filename="big.png"))
    assert doc.document.file_size == len(big)


async def test_a_file_over_50_mb_is_refused(tg_bot: Bot, alice: User):
    with pytest.raises(TelegramError, match="(?i)too large"):
        await tg_bot.send_document(alice.id, InputFile(b"\0" * (50 * 1024 * 1024 + 1), filename="huge.bin"))
