"""Telegram HTML parse mode as enforced by the emulator (parser level and over the Bot API)."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest

from tgemu import EmulatorClient, parse_html
from tgemu.html import EntityParseError


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>bold</b>", "bold", [("bold", 0, 4)]),
        ("<strong>x</strong><i>y</i><em>z</em>", "xyz", [("bold", 0, 1), ("italic", 1, 1), ("italic", 2, 1)]),
        ("<u>u</u><ins>i</ins><s>s</s><strike>k</strike><del>d</del>", "uiskd",
         [("underline", 0, 1), ("underline", 1, 1), ("strikethrough", 2, 1),
          ("strikethrough", 3, 1), ("strikethrough", 4, 1)]),
        ('<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>', "ab",
         [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ("<code>x</code>", "x", [("code", 0, 1)]),
        ("<blockquote>q</blockquote>", "q", [("blockquote", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("<b>a<i>b</i></b>", "ab", [("bold", 0, 2), ("italic", 1, 1)]),
        ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB', []),
        ("😀<b>x</b>", "😀x", [("bold", 2, 1)]),  # offsets are UTF-16 code units
    ],
    ids=["bold", "strong-italic-em", "underline-strike", "spoilers", "code", "blockquote",
         "expandable-blockquote", "nested", "entities", "utf16-offsets"],
)
def test_supported_html_produces_plain_text_and_entities(
    html: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    plain, ents = parse_html(html)
    assert plain == text
    assert [(e["type"], e["offset"], e["length"]) for e in ents] == entities


def test_links_and_pre_languages_carry_their_attributes() -> None:
    plain, ents = parse_html(
        '<a href="https://example.com/?a=1&amp;b=2">site</a>'
        '<pre><code class="language-python">print(1)</code></pre>'
    )
    assert plain == "siteprint(1)"
    assert ents == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.com/?a=1&b=2"},
        {"type": "pre", "offset": 4, "length": 8, "language": "python"},
    ]


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("hi <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("close</b>", "Unexpected end tag at byte offset 5"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("fish & chips", 'Unsupported entity "&" at byte offset 5'),
        ("&nbsp;", 'Unsupported entity "&nbsp;" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("温度<p>", 'Unsupported start tag "p" at byte offset 6'),  # byte, not char, offsets
        ('<a href="x', "Unclosed start tag at byte offset 0"),
    ],
    ids=["div", "br", "unclosed", "unexpected-end", "unmatched-end", "bare-lt", "bare-amp",
         "named-entity", "span-without-class", "utf8-byte-offset", "unclosed-start-tag"],
)
def test_invalid_html_is_rejected_with_telegram_description(html: str, description: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(html)
    assert info.value.description == f"Bad Request: can't parse entities: {description}"


async def test_send_message_with_invalid_html_answers_400_through_ptb(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "div" at byte offset 0'):
        await tg_bot.send_message(alice.id, "<div>hello</div>", parse_mode="HTML")
    calls = await tg.calls("sendMessage")
    assert calls[-1].status == 400 and not calls[-1].ok


async def test_html_message_is_stored_as_plain_text_with_entities(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    sent = await tg_bot.send_message(alice.id, "  <b>Тепло</b> &amp; свет  ", parse_mode="HTML")
    assert sent.text == "Тепло & свет"  # surrounding whitespace trimmed like Telegram
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 5)]
    msg = await alice.next_message()
    assert msg.text == "Тепло & свет"
    assert msg.entities == [{"type": "bold", "offset": 0, "length": 5}]


async def test_without_parse_mode_tags_are_sent_literally(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")
    sent = await tg_bot.send_message(alice.id, "<b>a & b</b>")
    assert sent.text == "<b>a & b</b>"
