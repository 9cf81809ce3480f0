"""The limits' alerts gathered per chat (bot/alerts.py, Art. 13): in a surge each recipient gets
one message for the alerts that piled up, and every alert the regulation requires is still in
it, with its own "Seen" button."""
from __future__ import annotations

import asyncio
import json

import pytest

from bot import alerts, clockwork
from storage import outbox
from storage.db import fetch_one
from tests.story import report_cold_flat

ADDRESSES = ("1-1-101", "2-1-101", "3-1-101")      # one flat per building: no building-wide alert


@pytest.fixture
async def three_tickets(bot, tg, world):
    """Three cold-flat tickets received at 09:00 at 和平苑 (North Repair Centre), cards posted."""
    await world.crew(5003).send("/start")           # the centre lead has a private chat with the bot
    await world.crew(5003).next_message()
    group = world.groups["repair-north"]
    for i, address in enumerate(ADDRESSES):
        await report_cold_flat(await tg.user(f"住户{i}", language_code="zh"), address=address)
        await group.next_message()                  # its card
    return group


async def _drained(svc) -> None:
    """Until the sender has sent everything queued (it runs on its own task)."""
    for _ in range(500):
        async with svc.db.transaction() as conn:
            if (await fetch_one(conn, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"))[0] == 0:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not drain")


async def _bot_messages(chat) -> list:
    return [m for m in await chat.transcript() if m.from_bot]


async def test_alerts_of_one_sweep_reach_each_chat_as_one_message_naming_every_ticket(bot, clock, world, three_tickets):
    svc = bot.bot_data["svc"]
    group, dispatch, lead = three_tickets, world.groups["dispatch"], world.crew(5003)
    cards = len(await _bot_messages(group))
    clock.advance(minutes=20)                       # 09:20: each accept limit is 10 minutes away
    assert await clockwork.sweep(svc) == 3
    reminder = await group.next_message()
    assert all(f"工单 {n}" in reminder.text for n in ("0001", "0002", "0003"))
    clock.advance(minutes=12)                       # 09:32: all three overdue
    assert await clockwork.sweep(svc) == 3
    alert = await dispatch.next_message()
    assert all(n in alert.text for n in ("0001", "0002", "0003"))
    assert alert.button_texts() == ["👀 0001 已知悉", "👀 0002 已知悉", "👀 0003 已知悉"]
    told = await lead.next_message()
    assert all(n in told.text for n in ("0001", "0002", "0003"))
    # One reminder and three card refreshes (edits) in the group; one message each elsewhere.
    await _drained(svc)
    assert len(await _bot_messages(group)) == cards + 1
    assert len(await _bot_messages(dispatch)) == 1
    # Each ticket's button acknowledges that ticket's alert, and only that one.
    answer = await world.crew(6001).press(alert, "0002")
    assert "由您跟进" in answer.text
    assert "已知悉工单 0002" in (await dispatch.next_message()).text
    async with svc.db.transaction() as conn:
        acked = await conn.execute_fetchall(
            "SELECT ticket_id FROM alerts WHERE kind = 'overdue' AND ack_by IS NOT NULL ORDER BY ticket_id")
        overdue = await fetch_one(conn, "SELECT COUNT(*) FROM alerts WHERE kind = 'overdue'")
    assert [r[0] for r in acked] == [2] and overdue[0] == 3


async def test_an_alert_with_no_other_waiting_goes_alone_as_before(bot, clock, world, three_tickets):
    svc = bot.bot_data["svc"]
    dispatch = world.groups["dispatch"]
    clock.advance(minutes=32)
    async with svc.db.transaction() as conn:        # one ticket accepted on time: two go overdue …
        await conn.execute("UPDATE deadlines SET state = 'met' WHERE ticket_id IN (2, 3) AND kind = 'accept'")
    assert await clockwork.sweep(svc) >= 1
    alert = await dispatch.next_message()
    assert "0001" in alert.text and "0002" not in alert.text
    assert alert.button_texts() == ["👀 已知悉，我来跟进"]


async def test_an_alert_joins_only_an_unclaimed_alert_and_never_overtakes_its_own_ticket(bot, clock, world, three_tickets):
    svc = bot.bot_data["svc"]
    await bot.bot_data["sender"].stop()             # nothing leaves: the rows stay as queued
    chat = world.groups["dispatch"].chat_id
    now = svc.clock.now()

    async def alert(ticket_id: int) -> int:
        async with svc.db.transaction() as conn:
            return await alerts.enqueue_alert(conn, svc, chat, f"alert {ticket_id}", purpose="escalation",
                                              ticket_id=ticket_id, number=f"{ticket_id:04d}", now=now, alert_id=None)

    first = await alert(1)
    assert await alert(2) == first                  # joined the one waiting
    async with svc.db.transaction() as conn:
        await outbox.claim(conn, first, "a-sender", now)
    second = await alert(3)
    assert second != first                          # a claimed row may be on the wire: not touched
    async with svc.db.transaction() as conn:
        await outbox.enqueue_card(conn, chat, 1, now=now)
    third = await alert(1)
    assert third not in (first, second)             # joining `second` would overtake ticket 1's card
    assert await alert(2) == third
    async with svc.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT id, payload FROM outbox WHERE chat_id = ? AND kind = 'message' ORDER BY id", (chat,))
    texts = {r[0]: r[1] for r in rows}
    assert "alert 1" in texts[first] and "alert 2" in texts[first]
    assert "alert 1" in texts[third] and "alert 2" in texts[third] and "alert 3" in texts[second]


async def test_a_gathered_alert_holds_at_most_a_hundred_buttons(bot, clock, world, three_tickets):
    svc = bot.bot_data["svc"]
    await bot.bot_data["sender"].stop()
    chat = world.groups["dispatch"].chat_id
    now = svc.clock.now()
    rows = set()
    async with svc.db.transaction() as conn:
        for n in range(101):
            alert_id = await conn.execute_fetchall(
                "INSERT INTO alerts(ticket_id, kind, created_at) VALUES (1, 'overdue', ?) RETURNING id", (now.isoformat(),))
            rows.add(await alerts.enqueue_alert(conn, svc, chat, "x", purpose="escalation", ticket_id=1,
                                                number="0001", now=now, alert_id=alert_id[0][0]))
        payloads = await conn.execute_fetchall("SELECT payload FROM outbox WHERE id IN (%s) ORDER BY id" % ",".join(map(str, rows)))
    assert [sum(len(r) for r in json.loads(p[0])["buttons"]) for p in payloads] == [100, 1]
