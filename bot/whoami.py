"""``/whoami``: the ids an operator needs for the organisation file, without reading logs.

Any chat, anyone: it tells the asker only their own id and the id of the chat they are in,
both of which their Telegram app already knows.
"""
from __future__ import annotations

from bot import registry, views
from bot.payload import message
from bot.services import Services, Who
from storage.outbox import Priority, enqueue_message

__all__ = ["tell_ids", "tell_channel_id"]


async def tell_ids(svc: Services, who: Who, chat_type: str) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        text = svc.texts.render(lang, "whoami.ids", user_id=who.user_id, chat_id=who.chat_id, chat_type=chat_type)
        # Whether the registry knows them, as what: a new staff member checks their registration.
        text += "\n" + await registry.registration_lines(conn, svc, lang, who.user_id)
        await enqueue_message(conn, who.chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    svc.wake_sender()


async def tell_channel_id(svc: Services, chat_id: int) -> None:
    """``/whoami`` posted in a channel: a channel post has no sender, so only the channel's id,
    and why a channel cannot serve as a centre's group."""
    async with svc.db.transaction() as conn:
        text = svc.texts.render(svc.default_lang, "registry.whoami_channel", chat_id=chat_id)
        await enqueue_message(conn, chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    svc.wake_sender()
