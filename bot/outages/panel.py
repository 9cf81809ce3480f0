"""Dispatch's one progress message per outage: residents reached, postings, linked reports;
edited in place as things move."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot import views
from bot.callbacks import ControlVerb, OutageControl
from bot.outages.common import send
from bot.payload import Buttons
from bot.services import Services
from rules.outages import fit_message, shuts_heat
from storage import org
from storage import outages as store
from storage.outbox import Priority

__all__ = ["PANEL_KEEP", "panel_state", "progress_of", "refresh_panel"]


PANEL_KEEP = timedelta(days=1)          # a restored outage's progress keeps updating this long


def panel_state(text: str, p: store.Progress) -> str:
    return json.dumps({"text": text, "pending": p.pending}, ensure_ascii=False)


async def progress_of(conn, o: store.Outage, lang: str) -> tuple[dict, store.Progress, list[dict], list[str]]:
    """An outage's progress as dispatch's panel shows it (and the board's outages tab): the
    notice's context, residents reached, each centre's posting, linked reports."""
    n = await views.notice_context(conn, lang, o)
    p = await store.progress(conn, o.id)
    postings = []
    for s in await store.postings_of(conn, o.id):
        centre = await org.get_centre(conn, s.centre_id)
        postings.append({"centre": centre.name(lang) if centre else s.centre_id, "posted": s.posted_at is not None,
                         "name": s.posted_name or "", "at": s.posted_at, "late": bool(s.late), "photo": bool(s.photo_file_id),
                         "due": s.due_at})
    linked = [f"{i:04d}" for i in await store.linked_tickets(conn, o.id)]
    return n, p, postings, linked


async def panel(conn, svc: Services, outage_id: int) -> tuple[str, Buttons]:
    """Dispatch's one message about an outage: residents reached, postings, linked reports."""
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, outage_id)
    n, p, postings, linked = await progress_of(conn, o, lang)
    text = fit_message(lambda reason, short: t.render(lang, "outage.panel", n={**n, "reason": reason}, shortened=short,
                                                      p=p, postings=postings, tickets=linked), n["reason"])[0]
    buttons: Buttons = []
    if o.status == "published" and shuts_heat(o.kind) and o.restored_at is None:
        buttons = [[(t.label(lang, "outage_btn_update"), OutageControl(o.id, ControlVerb.END).pack())],
                   [(t.label(lang, "outage_btn_restored"), OutageControl(o.id, ControlVerb.RESTORE).pack())]]
    return text, buttons


async def refresh_panel(conn, svc: Services, outage_id: int, now: datetime) -> bool:
    """Bring dispatch's progress message up to date: the sender edits it in place (``edit_of``)."""
    o = await store.get_outage(conn, outage_id)
    if o is None or o.panel_outbox_id is None:
        return False
    text, buttons = await panel(conn, svc, outage_id)
    p = await store.progress(conn, outage_id)
    old = json.loads(o.panel_text) if o.panel_text else {"text": "", "pending": 0}
    if old.get("text") == text:
        return False
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None:
        return False
    await send(conn, svc, dispatch, [text], outage_id=o.id, audience="panel", priority=Priority.STATUS,
               purpose="outage_panel", buttons=buttons or None, extra={"edit_of": o.panel_outbox_id})
    await store.set_panel(conn, o.id, text=panel_state(text, p), at=now)
    return True
