"""Residents and outages: subscriptions (subscribed when reporting; /subscribe, /unsubscribe)
and ``/outages``, the current and upcoming outages of their communities."""
from __future__ import annotations

from typing import Any

import aiosqlite

from bot import views
from bot.callbacks import Subscribe
from bot.outages.common import resident_say
from bot.services import Services, Who
from rules.outages import Kind
from storage import org, users
from storage import outages as store

__all__ = ["subscribe", "subscribe_to", "unsubscribe", "list_outages", "on_ticket_created"]


async def subscribe(svc: Services, who: Who, query: str) -> None:
    """``/subscribe [community]``: the named community, else the one they last reported from."""
    t = svc.texts
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        query = query.strip()[:40]
        if not query:
            remembered = await users.get_user(conn, who.user_id)
            if remembered and remembered.community_id:
                await subscribe_to(conn, svc, who, lang, remembered.community_id)
            else:
                await resident_say(conn, svc, who, t.render(lang, "outage.subscribe_ask"))
        else:
            found = await org.find_communities(conn, query)
            if len(found) == 1:
                await subscribe_to(conn, svc, who, lang, found[0].id)
            elif found:
                await resident_say(conn, svc, who, t.render(lang, "outage.subscribe_pick", query=query),
                                    buttons=[[(c.name(lang), Subscribe(c.id).pack())] for c in found])
            else:
                await resident_say(conn, svc, who, t.render(lang, "outage.subscribe_none", query=query))
    svc.wake_sender()


async def subscribe_to(conn, svc: Services, who: Who, lang: str, community_id: str) -> str:
    community = await org.get_community(conn, community_id)
    if community is None or who.chat_id < 0:
        return svc.texts.label(lang, "alert_stale")
    await store.subscribe(conn, who.user_id, who.chat_id, community.id, lang, svc.clock.now())
    await resident_say(conn, svc, who, svc.texts.render(lang, "outage.subscribed", places=community.name(lang)))
    return svc.texts.label(lang, "outage_alert_subscribed")


async def unsubscribe(svc: Services, who: Who) -> None:
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        gone = await store.unsubscribe_all(conn, who.user_id)
        await resident_say(conn, svc, who, svc.texts.render(lang, "outage.unsubscribed", places=await views.places(conn, lang, gone)))
    svc.wake_sender()


async def list_outages(svc: Services, who: Who) -> None:
    """``/outages``: current and upcoming outages of the resident's communities."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        communities = await store.subscriptions_of(conn, who.user_id)
        now = svc.clock.now()
        items = []
        for o in await store.outages_for_communities(conn, communities):
            if o.restored_at is not None:
                continue
            if o.kind == Kind.CALIBRATION and o.ends_at <= now:
                continue
            items.append({"number": o.number, "kind": o.kind, "places": await views.places(conn, lang, o.communities),
                          "starts": o.starts_at, "ends": o.ends_at, "active": o.starts_at <= now})
        text = svc.texts.render(lang, "outage.outage_list", items=items, places=await views.places(conn, lang, communities))
        await resident_say(conn, svc, who, text)
    svc.wake_sender()


async def on_ticket_created(conn: aiosqlite.Connection, svc: Services, who: Who, lang: str, ticket_id: int, data: dict[str, Any]) -> None:
    """Called by desk.create_ticket_from_draft: the resident is subscribed to their community,
    and a report filed during an outage is linked to it."""
    now = svc.clock.now()
    if data.get("community_id") and who.chat_id > 0:
        await store.subscribe(conn, who.user_id, who.chat_id, data["community_id"], lang, now)
    if data.get("outage_id"):
        o = await store.get_outage(conn, int(data["outage_id"]))
        if o is not None:
            await store.link_ticket(conn, ticket_id, o.id)
            await store.add_event(conn, o.id, now, "ticket_linked", who.user_id, who.name, {"ticket": ticket_id})
