"""The emulator upgrades groups and keeps channels as Telegram does, strictly: what the bot
meets after an upgrade, and what it may do in a channel."""
from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated

from tgemu import EmulatorClient
from tgemu.client import EmulatorError


async def test_a_message_to_an_upgraded_group_is_refused_with_the_new_chat_id(tg: EmulatorClient, tg_bot: Bot):
    alice = await tg.user("Alice")
    group = await tg.group("Repairs", [alice], chat_id=-4000000001)
    supergroup = await group.upgrade(alice)
    assert supergroup.type == "supergroup" and supergroup.id != group.id
    with pytest.raises(ChatMigrated) as refused:
        await tg_bot.send_message(group.id, "hello")
    assert refused.value.new_chat_id == supergroup.id
    await tg_bot.send_message(supergroup.id, "hello")      # the new id works


async def test_an_upgrade_delivers_both_service_messages(tg: EmulatorClient, tg_bot: Bot):
    alice = await tg.user("Alice")
    group = await tg.group("Repairs", [alice], chat_id=-4000000002)
    supergroup = await group.upgrade(alice)
    updates = await tg_bot.get_updates(timeout=0)
    moves = [(u.message.chat.id, u.message.migrate_to_chat_id, u.message.migrate_from_chat_id) for u in updates]
    assert moves == [(group.id, supergroup.id, None), (supergroup.id, None, group.id)]


async def test_only_a_basic_group_can_be_upgraded_and_only_once(tg: EmulatorClient):
    alice = await tg.user("Alice")
    supergroup = await tg.group("Already", [alice], chat_id=-1009000000001)
    with pytest.raises(EmulatorError):
        await supergroup.upgrade(alice)
    group = await tg.group("Repairs", [alice], chat_id=-4000000003)
    await group.upgrade(alice)
    with pytest.raises(EmulatorError):
        await group.upgrade(alice)
    with pytest.raises(EmulatorError):      # people write in the supergroup now
        await alice.send("hi", chat=group)


async def test_a_channel_post_has_no_sender_and_the_bot_posts_only_as_an_administrator(tg: EmulatorClient, tg_bot: Bot):
    channel = await tg.channel("News")
    await channel.post("/whoami")
    [update] = await tg_bot.get_updates(timeout=0)
    post = update.channel_post
    assert post is not None and post.from_user is None and post.sender_chat.id == channel.id
    assert post.chat.type == "channel" and update.message is None
    await tg_bot.send_message(channel.id, "ok")
    muted = await tg.channel("Not admin", bot_admin=False)
    with pytest.raises(BadRequest, match="administrator rights"):
        await tg_bot.send_message(muted.id, "no")
