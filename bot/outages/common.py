"""What every part of the outage notices uses: fitting a notice to Telegram's limits, and
enqueueing it (linked to its outage, so dispatch's progress counts it)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.payload import Buttons, message
from bot.prompts import ask
from bot.services import Services, Who
from rules.outages import CAPTION_MAX, fit_message
from storage import outages as store
from storage.outages import Outage
from storage.outbox import Priority, enqueue_message

__all__ = ["fit", "send", "document", "local", "say", "resident_say"]


def fit(svc: Services, lang: str, macro: str, n: dict[str, Any], **ctx: Any) -> list[str]:
    """A notice as Telegram takes it: a long reason is shortened, never refused (rules.outages)."""
    def render(reason: str, shortened: bool) -> str:
        return svc.texts.render(lang, f"outage.{macro}", n={**n, "reason": reason}, shortened=shortened, **ctx)

    return fit_message(render, n["reason"])


async def send(conn, svc: Services, chat_id: int, parts: list[str], *, outage_id: int | None, audience: str,
                priority: Priority, purpose: str, buttons: Buttons | None = None, extra: dict[str, Any] | None = None) -> int:
    """Enqueue a (possibly split) message; buttons go on the last part. Returns the last row's id."""
    now = svc.clock.now()
    row = 0
    for i, text in enumerate(parts):
        last = i == len(parts) - 1
        payload = message(text, buttons=buttons if last else None)
        if last and extra:
            payload.update(extra)
        row = await enqueue_message(conn, chat_id, payload, priority=priority, purpose=purpose, now=now)
        if outage_id is not None:
            await store.link_message(conn, row, outage_id, audience)
    return row


async def document(conn, svc: Services, chat_id: int, o: Outage, notice: str, priority: Priority) -> None:
    """The printable A4 page (bot.outages.printing), sent as a document with a short caption."""
    lang = svc.default_lang
    caption = _doc_caption(lang, o)
    await send(conn, svc, chat_id, [caption[:CAPTION_MAX]], outage_id=o.id, audience="staff", priority=priority,
                purpose="outage_document", extra={"document": {"outage_id": o.id, "notice": notice, "lang": lang}})


def _doc_caption(lang: str, o: Outage) -> str:
    # Only the file name and a number: the caption must stay well under 1,024 characters.
    return f"🖨 {o.number} A4" if lang == "en" else f"🖨 {o.number} 打印版（A4）"


def local(svc: Services, when: datetime) -> datetime:
    return when.astimezone(svc.tz)


async def say(conn, svc: Services, chat_id: int, text: str, *, buttons: Buttons | None = None, force_reply: bool = False,
               prompt: dict[str, Any] | None = None) -> None:
    """A message to a staff chat; with ``prompt`` it is a question whose replies come back to
    the wizard (bot.replies routes them)."""
    if prompt is not None:
        await ask(conn, chat_id, text, {"kind": "outage", **prompt}, now=svc.clock.now(), buttons=buttons,
                  force_reply=force_reply and not buttons)
        return
    payload = message(text, buttons=buttons)
    if force_reply and not buttons:
        payload["force_reply"] = True
    await enqueue_message(conn, chat_id, payload, priority=Priority.URGENT, purpose="reply", now=svc.clock.now())


async def resident_say(conn, svc: Services, who: Who, text: str, buttons: Buttons | None = None) -> None:
    await enqueue_message(conn, who.chat_id, message(text, buttons=buttons), priority=Priority.STATUS, purpose="reply",
                          now=svc.clock.now())
