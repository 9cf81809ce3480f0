"""Message length: the product and the emulator count it as Telegram does (code points), so the
bot never builds a message Telegram would refuse, and never shortens one it would take."""
from __future__ import annotations

import pytest
from telegram import Bot

import tgemu.sizes
from rules.outages import REASON_MAX, check_text, fit_message
from rules.text import MAX_CAPTION, MAX_TEXT, telegram_length
from tgemu import EmulatorClient

SAMPLES = ["heat", "家中不热", "😀" * 3, "e\u0301", "👩‍🔧", "𠀀", "\u200b"]


def test_an_emoji_counts_once_toward_telegrams_limit():
    assert telegram_length("😀" * 2990) == 2990
    assert telegram_length("家中不热") == 4
    assert (MAX_TEXT, MAX_CAPTION) == (4096, 1024)


@pytest.mark.parametrize("text", SAMPLES, ids=["ascii", "cjk", "emoji", "combining", "zwj", "cjk-ext-b", "zero-width"])
def test_the_product_counts_like_the_emulator_that_plays_telegram(text):
    assert telegram_length(text) == tgemu.sizes.telegram_length(text)
    assert (MAX_TEXT, MAX_CAPTION) == (tgemu.sizes.MAX_TEXT, tgemu.sizes.MAX_CAPTION)


def _notice(reason: str, shortened: bool) -> str:
    head = ("<b>🚨 紧急停热通知（T001）</b>\n小区：和平苑\n影响范围：和平苑 1-6 号楼\n停热时间：1月15日 15:10\n"
            "预计恢复：1月15日 21:10\n管径：DN300；关闭阀门：2 个 DN200\n原因：")
    tail = "\n（节选，全文见打印版）" if shortened else ""
    return head + reason + tail + "\n\n停热期间家中不热无需报修；恢复供热后我们会再通知您。给您带来不便，敬请谅解。"


@pytest.mark.parametrize("emoji", [2990, REASON_MAX], ids=["2990-emoji", "4000-emoji"])
async def test_an_emoji_reason_is_sent_whole_when_it_fits_and_shortened_when_not(
    tg: EmulatorClient, tg_bot: Bot, emoji: int
):
    reason = check_text("🔥" * emoji, REASON_MAX)
    [text] = fit_message(_notice, reason)
    assert telegram_length(text) <= MAX_TEXT
    resident = await tg.user("陈阿姨")
    await resident.send("/start")
    sent = await tg_bot.send_message(resident.id, text, parse_mode="HTML")  # the strict emulator takes it
    if emoji == 2990:       # 5,980 UTF-16 units, but it fits: sent whole
        assert sent.text.count("🔥") == 2990 and "节选" not in sent.text
    else:                   # too long even as Telegram counts: shortened, never refused
        assert 4000 > sent.text.count("🔥") > 4000 - 100 and "…" in sent.text and "节选" in sent.text
