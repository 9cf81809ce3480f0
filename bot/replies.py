"""Every reply to one of the bot's messages in a group goes through here: the answer to a
question the bot asked (a crew request's reason, a dispatcher's outage wizard, /new or
/register), a photo of a posted outage notice, or else a crew's note on a closed ticket's card.
So does a staff member's answer to their /new or /register in a private chat."""
from __future__ import annotations

import asyncio

from bot import desk, newticket, outages, register, workflows
from bot.services import Services, Who
from storage import desk as desk_store
from storage import outages as outage_store
from storage.prompts import prompt_in_flight, prompt_of

__all__ = ["on_reply", "on_private_text"]

# A reply can reach us before the sender has recorded the question's message id; wait this long
# at most for that commit (only while a question to the chat is actually in flight).
PROMPT_COMMIT_WAIT = 3.0


async def on_reply(svc: Services, who: Who, chat_id: int, reply_to_message_id: int, text: str, photo: str | None) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + PROMPT_COMMIT_WAIT
    while True:
        async with svc.db.transaction() as conn:
            tag = await prompt_of(conn, chat_id, reply_to_message_id)
            if tag is not None and tag["kind"] == "request":
                await workflows.answer_prompt(conn, svc, who, chat_id, tag, text)
                break
            if tag is not None and tag["kind"] == "outage":
                await outages.answer(conn, svc, who, chat_id, text)
                break
            if tag is not None and tag["kind"] == newticket.PROMPT_KIND:
                await newticket.answer(conn, svc, who, chat_id, text)
                break
            if tag is not None and tag["kind"] == register.PROMPT_KIND:
                await register.answer(conn, svc, who, chat_id, text)
                break
            posting = await outage_store.posting_for_notice(conn, chat_id, reply_to_message_id)
            if posting is not None:
                await outages.notice_reply(conn, svc, who, posting, photo)
                break
            in_flight = await prompt_in_flight(conn, chat_id)
        if not in_flight or loop.time() >= give_up:
            await desk.add_note(svc, who, chat_id, reply_to_message_id, text)
            return
        await asyncio.sleep(0.05)
    svc.wake_sender()


async def on_private_text(svc: Services, who: Who, text: str) -> bool:
    """A message in a private chat answers a staff member's /new or /register waiting there;
    False when neither waits, and the message is then a resident's (bot/intake.py)."""
    # Nearly every private message is a resident's: one read answers "no wizard here" without
    # a transaction (three round trips to the database thread fewer). A wizard being opened
    # at this moment is in another chat's update; the transaction below decides as before.
    if not await desk_store.any_wizard(svc.db.conn, who.user_id):
        return False
    async with svc.db.transaction() as conn:
        taken = await newticket.take_private(conn, svc, who, text) or await register.take_private(conn, svc, who, text)
    if taken:
        svc.wake_sender()
    return taken
