"""Publishing an outage and what follows it: approval (Art. 14), the notice to customer service,
the centres' posting tasks (Art. 10 (2), 23 (3)(4)) and subscribers; a new expected end;
restoration and its report (Art. 15)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot import views
from bot.callbacks import NoticePosted
from bot.outages.common import document, fit, local, say, send
from rules.roles import may_approve_outage, may_control_outage, may_post_notice
from bot.outages.panel import panel, panel_state, refresh_panel
from bot.config import LANGUAGES
from bot.services import Services, Who
from rules.deadlines import Stage, next_check
from rules.outages import Kind, check_times, group_by_centre, parse_end, posting_due, subscriber_reminder_at
from storage import org
from storage import outages as store
from storage.outages import Outage, Posting, Wizard
from storage.outbox import Priority

__all__ = ["publish", "broadcast", "decide", "posted", "mark_posted", "restore", "update_end", "notice_reply"]

log = logging.getLogger(__name__)


async def publish(conn, svc: Services, o: Outage, now: datetime) -> None:
    """Everyone who must know, in this transaction: customer service, the centres (with the
    posting task), dispatch's progress message, and subscribed residents."""
    lang = svc.default_lang
    await store.publish(conn, o.id, now, subscriber_reminder_at(o.kind, o.starts_at, now, svc.policy.outages))
    await store.add_event(conn, o.id, now, "published")
    o = await store.get_outage(conn, o.id)
    n = await views.notice_context(conn, lang, o)
    urgent = Priority.URGENT if o.kind == Kind.EMERGENCY else Priority.STATUS
    cs = await org.get_setting(conn, "customer_service_chat_id")
    if cs is not None:
        await send(conn, svc, cs, fit(svc, lang, "staff_notice", n), outage_id=o.id, audience="staff", priority=urgent,
                    purpose="outage_notice")
    # Posting tasks: the repair centre of each community posts the notices there (Art. 10 (2), 23 (4)).
    pairs = []
    for cid in o.communities:
        centre = await org.centre_for(conn, cid, "repair")
        pairs.append((cid, centre.id if centre else None))
    by_centre, orphans = group_by_centre(pairs)
    if orphans:
        log.warning("outage %s: no repair centre posts notices in %s", o.id, orphans)
    due = posting_due(o.kind, o.starts_at, now, svc.policy.outages)
    t = svc.texts
    for centre_id, communities in by_centre.items():
        centre = await org.get_centre(conn, centre_id)
        # When less time is left than the reminder lead (an emergency, a short notice), the
        # notice itself is the reminder: the clock starts past that stage.
        stage = Stage.REMINDED if due - svc.policy.outages.posting_reminder_lead <= now else Stage.NONE
        next_at = next_check(due, stage, svc.policy.outages.posting_reminder_lead, svc.policy.escalation_interval)
        posting_id = await store.create_posting(conn, o.id, centre_id, centre.chat_id, communities, due, next_at, int(stage))
        parts = fit(svc, lang, "centre_notice", n, due=due, places=await views.places(conn, lang, communities))
        row = await send(conn, svc, centre.chat_id, parts, outage_id=o.id, audience="staff", priority=urgent,
                          purpose="outage_notice", buttons=[[(t.label(lang, "outage_btn_posted"), NoticePosted(posting_id).pack())]])
        await store.set_posting_notice(conn, posting_id, row)
        await document(conn, svc, centre.chat_id, o, o.kind, urgent)
    if o.kind == Kind.EMERGENCY:   # Art. 15, 23 (5): the network station closing the valves is told too
        told = set(by_centre)
        for cid in o.communities:
            centre = await org.centre_for(conn, cid, "network")
            if centre is not None and centre.id not in told:
                told.add(centre.id)
                await send(conn, svc, centre.chat_id, fit(svc, lang, "info_notice", n), outage_id=o.id, audience="staff",
                            priority=urgent, purpose="outage_notice")
    await broadcast(conn, svc, o, "notice")
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        text, buttons = await panel(conn, svc, o.id)
        row = await send(conn, svc, dispatch, [text], outage_id=o.id, audience="panel", priority=Priority.STATUS,
                          purpose="outage_panel", buttons=buttons)
        await store.set_panel(conn, o.id, outbox_id=row, text=panel_state(text, await store.progress(conn, o.id)), at=now)
    log.info("outage %s published to %d centres", o.id, len(by_centre))


async def broadcast(conn, svc: Services, o: Outage, macro: str, **extra: Any) -> int:
    """One message per subscriber of the affected communities, in their language, BULK."""
    rendered: dict[str, list[str]] = {}
    count = 0
    for sub in await store.subscribers_of(conn, o.communities):
        lang = sub.lang if sub.lang in LANGUAGES else svc.default_lang
        if lang not in rendered:
            n = await views.notice_context(conn, lang, o, resident=True, **extra)   # words, not codes
            rendered[lang] = fit(svc, lang, macro, n)
        await send(conn, svc, sub.chat_id, rendered[lang], outage_id=o.id, audience="resident", priority=Priority.BULK,
                    purpose="outage_broadcast")
        count += 1
    return count


async def decide(conn, svc: Services, who: Who, lang: str, outage_id: int, approve: bool) -> str:
    t = svc.texts
    staff = await org.get_staff(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if o is None:
        return t.label(lang, "alert_unknown_button")
    if not may_approve_outage(staff):
        return t.label(lang, "outage_alert_not_head")
    now = svc.clock.now()
    if not await store.decide(conn, o.id, "approved" if approve else "rejected", who.user_id, staff.name, now):
        return t.label(lang, "outage_alert_decided", name=o.decided_name or "")
    await store.add_event(conn, o.id, now, "approved" if approve else "rejected", who.user_id, staff.name)
    dispatch = await org.get_setting(conn, "dispatch_chat_id") or o.chat_id
    if approve:
        await publish(conn, svc, o, now)
        await say(conn, svc, dispatch, t.render(svc.default_lang, "outage.approved", number=o.number, name=staff.name))
        return t.label(lang, "outage_alert_approved")
    await say(conn, svc, dispatch, t.render(svc.default_lang, "outage.rejected", number=o.number, name=staff.name))
    return t.label(lang, "outage_alert_rejected")


async def posted(conn, svc: Services, who: Who, lang: str, posting_id: int, chat_id: int) -> str:
    t = svc.texts
    posting = await store.get_posting(conn, posting_id)
    if posting is None or posting.chat_id != chat_id:
        return t.label(lang, "alert_unknown_button")
    staff = await org.get_staff(conn, who.user_id)
    if not may_post_notice(staff, posting.centre_id):
        return t.label(lang, "outage_alert_not_poster")
    if posting.posted_at is not None:
        return t.label(lang, "outage_alert_posted_already", name=posting.posted_name or "")
    await mark_posted(conn, svc, posting, who.user_id, staff.name)
    return t.label(lang, "outage_alert_posted")


async def mark_posted(conn, svc: Services, posting: Posting, user_id: int, name: str) -> bool:
    now = svc.clock.now()
    late = now > posting.due_at
    if not await store.mark_posted(conn, posting.id, user_id, name, now, late):
        return False
    o = await store.get_outage(conn, posting.outage_id)
    await store.add_event(conn, o.id, now, "posted", user_id, name, {"centre": posting.centre_id, "late": late})
    centre = await org.get_centre(conn, posting.centre_id)
    text = svc.texts.render(svc.default_lang, "outage.posted", number=o.number, centre=centre.name(svc.default_lang),
                            name=name, at=now, late=late)
    await send(conn, svc, posting.chat_id, [text], outage_id=o.id, audience="staff", priority=Priority.STATUS, purpose="reply")
    await refresh_panel(conn, svc, o.id, now)
    return True


async def restore(conn, svc: Services, o: Outage, user_id: int, name: str) -> bool:
    now = svc.clock.now()
    if not await store.mark_restored(conn, o.id, user_id, name, now):
        return False
    await store.stop_postings(conn, o.id)
    await store.add_event(conn, o.id, now, "restored", user_id, name)
    o = await store.get_outage(conn, o.id)
    lang = svc.default_lang
    n = await views.notice_context(conn, lang, o)
    hours = round((now - o.starts_at).total_seconds() / 3600, 1)
    linked = [f"{i:04d}" for i in await store.linked_tickets(conn, o.id)]
    report = svc.texts.render(lang, "outage.restoration_report", n=n, tickets=linked, hours=hours)
    for key in ("customer_service_chat_id", "dispatch_chat_id"):      # Art. 15: tell both when heat is back
        chat = await org.get_setting(conn, key)
        if chat is not None:
            await send(conn, svc, chat, [report], outage_id=o.id, audience="staff", priority=Priority.URGENT,
                        purpose="outage_report")
    for posting in await store.postings_of(conn, o.id):
        await send(conn, svc, posting.chat_id, [svc.texts.render(lang, "outage.restored", n=n)], outage_id=o.id,
                    audience="staff", priority=Priority.STATUS, purpose="outage_notice")
        await document(conn, svc, posting.chat_id, o, "restored", Priority.STATUS)
    await broadcast(conn, svc, o, "restored")
    await refresh_panel(conn, svc, o.id, now)
    log.info("outage %s restored", o.id)
    return True


async def update_end(conn, svc: Services, who: Who, wz: Wizard, text: str) -> None:
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    o = await store.get_outage(conn, wz.data["outage_id"])
    staff = await org.get_staff(conn, who.user_id)
    if o is None or o.restored_at is not None or o.status != "published":
        await store.delete_wizard(conn, who.user_id)
        await say(conn, svc, wz.chat_id, t.label(lang, "outage_alert_over"))
        return
    if not may_control_outage(staff):
        await store.delete_wizard(conn, who.user_id)
        await say(conn, svc, wz.chat_id, t.render(lang, "outage.dispatch_only"))
        return
    now_local = local(svc, now)
    end = parse_end(text, now_local, now_local)              # "3小时" counts from now in an update
    check_times(Kind.EMERGENCY, o.starts_at, end, now, svc.policy.outages)  # end after start and after now; no notice-period warning
    previous = o.ends_at
    await store.set_end(conn, o.id, end)
    await store.delete_wizard(conn, who.user_id)
    await store.add_event(conn, o.id, now, "end_updated", who.user_id, staff.name, {"from": previous, "to": end})
    o = await store.get_outage(conn, o.id)
    n = await views.notice_context(conn, lang, o, previous_ends=previous)
    short = t.render(lang, "outage.update", n=n)
    cs = await org.get_setting(conn, "customer_service_chat_id")
    if cs is not None:
        await send(conn, svc, cs, [short], outage_id=o.id, audience="staff", priority=Priority.STATUS, purpose="outage_notice")
    for posting in await store.postings_of(conn, o.id):
        await send(conn, svc, posting.chat_id, [short], outage_id=o.id, audience="staff", priority=Priority.STATUS,
                    purpose="outage_notice")
        await document(conn, svc, posting.chat_id, o, "update", Priority.STATUS)
    await broadcast(conn, svc, o, "update", previous_ends=previous)
    await say(conn, svc, wz.chat_id, t.render(lang, "outage.end_updated", number=o.number, ends=end))
    await refresh_panel(conn, svc, o.id, now)


async def notice_reply(conn, svc: Services, who: Who, posting: Posting, photo: str | None) -> None:
    """A crew member's photo of the posted notice, as a reply to it: filed, and it confirms
    the posting if nobody pressed the button yet."""
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, posting.outage_id)
    staff = await org.get_staff(conn, who.user_id)
    if not may_post_notice(staff, posting.centre_id):
        await say(conn, svc, posting.chat_id, t.render(lang, "outage.photo_not_yours", number=o.number))
        return
    if photo is None:
        await say(conn, svc, posting.chat_id, t.label(lang, "outage_alert_posted") if posting.posted_at else
                   t.render(lang, "outage.posting_reminder", number=o.number, due=posting.due_at,
                            centre=(await org.get_centre(conn, posting.centre_id)).name(lang), late_by=0))
        return
    await store.attach_photo(conn, posting.id, photo)
    await store.add_event(conn, o.id, svc.clock.now(), "posting_photo", who.user_id, staff.name, {"centre": posting.centre_id})
    centre = await org.get_centre(conn, posting.centre_id)
    await say(conn, svc, posting.chat_id, t.render(lang, "outage.photo_saved", number=o.number, centre=centre.name(lang)))
    if posting.posted_at is None:
        await mark_posted(conn, svc, posting, who.user_id, staff.name)
    else:
        await refresh_panel(conn, svc, o.id, svc.clock.now())
