"""``/whoami``: the ids an operator needs for the organisation file, without reading logs.

Any chat, anyone: it tells the asker only their own id and the id of the chat they are in,
both of which their Telegram app already knows.
"""
from __future__ import annotations

from bot import views
from bot.payload import message
from bot.services import Services, Who
from storage.outbox import Priority, enqueue_message

__all__ = ["tell_ids"]


async def tell_ids(svc: Services, who: Who, chat_type: str) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        text = svc.texts.render(lang, "whoami.ids", user_id=who.user_id, chat_id=who.chat_id, chat_type=chat_type)
        await enqueue_message(conn, who.chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    svc.wake_sender()
