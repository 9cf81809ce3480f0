"""Updates of different chats at once, each chat's in order (bot/updates.py), and crew buttons
still correct when presses race."""
from __future__ import annotations

import asyncio
import random
from collections import defaultdict

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import desk
from bot.services import Who
from bot.updates import ChatOrderedProcessor
from storage import tickets
from bot.callbacks.tickets import CardPress
from tests.conftest import TOKEN
from tests.story import report_cold_flat

ACCEPTED = "已受理，请尽快到场。"


async def _bare_app(emulator, handler):
    """python-telegram-bot with the bot's processor and one handler, polling the emulator."""
    app = (ApplicationBuilder().token(TOKEN).base_url(emulator.api_base_url)
           .concurrent_updates(ChatOrderedProcessor(16)).build())
    app.add_handler(MessageHandler(filters.ALL, handler))
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    return app


async def _stop(app) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_a_chat_waiting_on_another_chat_is_not_a_deadlock(emulator, tg):
    # Alice's update can only finish once Bob's has run: handled one at a time, Bob's update
    # would wait behind Alice's for ever.
    bob_seen = asyncio.Event()

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message.text == "alice":
            await asyncio.wait_for(bob_seen.wait(), 10)
        else:
            bob_seen.set()
        await update.effective_message.reply_text("ok")

    app = await _bare_app(emulator, handler)
    try:
        alice, bob = await tg.user("Alice"), await tg.user("Bob")
        await alice.send("alice")
        await bob.send("bob")
        assert (await alice.next_message(timeout=10)).text == "ok"
        assert (await bob.next_message(timeout=10)).text == "ok"
    finally:
        await _stop(app)


async def test_each_chat_is_handled_in_order_while_chats_overlap(emulator, tg):
    rng = random.Random(7)
    seen: dict[int, list[int]] = defaultdict(list)
    running: dict[int, int] = defaultdict(int)
    overlap = {"chats": 0, "same_chat": 0}

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        running[chat] += 1
        overlap["same_chat"] = max(overlap["same_chat"], running[chat])
        overlap["chats"] = max(overlap["chats"], sum(1 for n in running.values() if n))
        for _ in range(rng.randrange(5)):     # handlers yield a varying number of times
            await asyncio.sleep(0)
        seen[chat].append(int(update.effective_message.text))
        running[chat] -= 1
        if len(seen[chat]) == 20:
            await update.effective_message.reply_text("done")

    app = await _bare_app(emulator, handler)
    try:
        people = [await tg.user(f"P{i}") for i in range(4)]

        async def burst(p) -> None:
            for n in range(20):
                await p.send(str(n))

        await asyncio.gather(*(burst(p) for p in people))
        for p in people:
            assert (await p.next_message(timeout=20)).text == "done"
    finally:
        await _stop(app)
    assert all(order == list(range(20)) for order in seen.values()), dict(seen)
    assert overlap["same_chat"] == 1
    assert overlap["chats"] > 1             # the chats really were handled at once


async def _card_recorded(svc, card) -> None:
    """Until the sender has recorded ``card`` as its ticket's card. The emulator shows it as soon
    as Telegram has it; a press that reaches the desk before the record is on no card yet (a
    crew member's press comes through Telegram, long after; this test calls the desk directly)."""
    for _ in range(1000):
        async with svc.db.transaction() as conn:
            ticket = await tickets.get_ticket(conn, 1)
        if ticket.card_message_id == card.message_id:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"card {card.message_id} never recorded")


async def test_two_crew_pressing_accept_at_once_one_wins(bot, world):
    resident = await world.tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    group = world.groups["repair-north"]
    card = await group.next_message()
    await _card_recorded(bot.bot_data["svc"], card)
    answers = await asyncio.gather(world.crew(5001).press(card, "受理"), world.crew(5002).press(card, "受理"))
    # One accepts; the other is refused (done already, or a stale button if the card was
    # redrawn before their press arrived): either way the ticket is accepted once.
    assert [a.text for a in answers].count(ACCEPTED) == 1, answers
    assert all(a.show_alert for a in answers)
    await world.crew(5003).send("/ticket 0001", chat=group)
    assert (await group.next_message()).text.count("受理（") == 1


async def test_the_desk_lets_one_of_two_racing_accepts_through_even_unordered(bot, world):
    # The processor keeps a group's presses in line; the desk does not rely on it: two presses
    # run truly at once (straight into the domain) still accept the ticket once.
    resident = await world.tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    svc = bot.bot_data["svc"]
    await _card_recorded(svc, card)
    crews = [Who(u, card.chat_id, name, "zh") for u, name in ((5001, "王师傅"), (5002, "李师傅"))]
    answers = await asyncio.gather(*(desk.press(svc, who, CardPress(1, "accept"), card.chat_id, card.message_id)
                                     for who in crews))
    assert sorted(answers) == sorted([ACCEPTED, "这一步已经完成了，不用再按。"]), answers
