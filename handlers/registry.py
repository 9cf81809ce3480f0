"""``/staff`` and ``/staff log`` (authorised in bot/registry.py), ``/whoami`` in a channel."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import chatmove, registry
from bot import whoami as ids
from handlers.common import services, who

__all__ = ["staff", "channel_post", "migrated"]

log = logging.getLogger(__name__)


async def staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await registry.staff_command(services(context), who(update), list(context.args or []))


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channel posts have no sender; only ``/whoami`` is answered there, the rest ignored."""
    post = update.channel_post
    word = post.text.split(maxsplit=1)[0] if post and post.text and post.text.strip() else ""
    command, _, target = word.partition("@")
    if command == "/whoami" and (not target or target.lower() == (context.bot.username or "").lower()):
        await ids.tell_channel_id(services(context), post.chat.id)
    else:
        log.debug("channel post in %s ignored", post.chat.id if post else "?")


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The group was upgraded to a supergroup: the old group gets ``migrate_to_chat_id``, the
    new one ``migrate_from_chat_id``; either tells us the move."""
    msg = update.effective_message
    if msg.migrate_to_chat_id:
        await chatmove.group_moved(services(context), msg.chat.id, msg.migrate_to_chat_id)
    elif msg.migrate_from_chat_id:
        await chatmove.group_moved(services(context), msg.migrate_from_chat_id, msg.chat.id)
