"""Outage notices (issue 6; Art. 10 (2), 14, 15, 23 (3)–(5)).

* **/outage** in the dispatch group walks a dispatcher through kind, communities (buttons, or a
  reply with names), buildings, (emergency: pipe diameter, valves, area), reason, start and
  expected end. The wizard lives in the database (``outage_wizards``), like residents' drafts.
* **Planned shutdown** (Art. 14): a department head approves or rejects. On approval — and at
  once for an emergency (Art. 15) or a calibration notice (Art. 10 (2)) — the written notice
  goes to customer service, each affected repair centre gets the notice with a "Notice posted"
  button and a posting deadline that is reminded and escalated like a ticket's
  (``rules.deadlines.plan``; Art. 23 (3)(4)), subscribed residents get it at bulk priority,
  and dispatch gets one progress message (residents sent / failed / blocked, postings).
* **Update** of the expected end and **restoration**: short messages to subscribers; the
  restoration report to customer service and dispatch (Art. 15).
* **Subscriptions** (subscribed when reporting; /subscribe, /unsubscribe, /outages) and the
  **outage-aware intake**: a "home not warm" report from a community under an active shutdown
  is answered with the notice first; one filed anyway is linked to the outage.

Every public coroutine is one user action in one transaction with the outbox rows it causes.
Every press and reply is authorised against the database. Broadcasts to residents are
``Priority.BULK`` so they never overtake escalations or crew cards.

Two things need the sender (bot/sender.py, owned elsewhere) to understand new payload keys;
until it advertises them in ``bot.sender.PAYLOAD_FEATURES`` this module does without:
``"edit_of": <outbox id>`` (edit the message that row produced — the progress message updates
in place; without it dispatch gets one more progress message when a broadcast finishes) and
``"document": {"outage_id", "notice", "lang"}`` (send :func:`render_document`'s printable page
with sendDocument; without it no document row is written).
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

import aiosqlite
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot import desk
from bot.clock import to_iso
from bot.payload import Buttons, message
from bot.services import Services, Who
from bot.texts import TEMPLATES_DIR
from rules.deadlines import Stage, next_check, plan
from rules.outages import (
    CAPTION_MAX, FIELD_MAX, REASON_MAX, Kind, OutageInputError, check_text, check_times, fit_message,
    group_by_centre, needs_approval, parse_end, parse_time, posting_due, shuts_heat, split_names, subscriber_reminder_at,
)
from storage import drafts, org, users
from storage import outages as store
from storage.drafts import Draft
from storage.outages import NewOutage, Outage, Posting, Wizard
from storage.outbox import Priority, enqueue_message

__all__ = [
    "PRINT_NOTICES", "start_wizard", "on_button", "on_reply", "subscribe", "unsubscribe",
    "list_outages", "intake_check", "intake_prompt", "intake_answer", "on_ticket_created", "sweep", "render_print",
    "render_document", "notice_context",
]

log = logging.getLogger(__name__)

PRINT_NOTICES = ("planned", "emergency", "update", "restored", "calibration")
DISPATCHERS = ("dispatcher",)
DECIDERS = ("department_head",)
CONTROLLERS = ("dispatcher", "department_head")
POSTERS = ("crew", "centre_lead")
SWEEP_BATCH = 200
_PROMPT_COMMIT_WAIT = 3.0
_PANEL_KEEP = timedelta(days=1)          # a restored outage's progress keeps updating this long
_STEPS = {
    "planned": ("communities", "buildings", "reason", "start", "end", "summary"),
    "calibration": ("communities", "buildings", "reason", "start", "end", "summary"),
    "emergency": ("communities", "pipe", "valves", "area", "reason", "start", "end", "summary"),
}
_TEXT_STEPS = {"communities", "buildings", "pipe", "valves", "area", "reason", "start", "end", "new_end"}


def _sender_can(feature: str) -> bool:
    """Whether the outbox sender understands a payload key (see the module docstring)."""
    from bot import sender   # late: the sender will import this module to render documents

    return feature in getattr(sender, "PAYLOAD_FEATURES", ())


# ------------------------------------------------------------------------------ context


def _join(lang: str, names: list[str]) -> str:
    return (", " if lang == "en" else "、").join(names)


async def _places(conn, lang: str, community_ids: list[str] | tuple[str, ...]) -> str:
    names = []
    for cid in community_ids:
        c = await org.get_community(conn, cid)
        names.append(c.name(lang) if c else cid)
    return _join(lang, names)


async def notice_context(conn, lang: str, o: Outage, **extra: Any) -> dict[str, Any]:
    """What every notice template gets as ``n``."""
    n = {
        "number": o.number, "kind": o.kind, "places": await _places(conn, lang, o.communities), "buildings": o.buildings or "",
        "reason": o.reason, "starts": o.starts_at, "ends": o.ends_at, "previous_ends": o.original_ends_at,
        "pipe": o.pipe_diameter or "", "valves": o.valves or "", "area": o.area or "", "restored": o.restored_at is not None,
        "restored_at": o.restored_at, "restored_name": o.restored_name or "",
    }
    n.update(extra)
    return n


def _fit(svc: Services, lang: str, macro: str, n: dict[str, Any], **ctx: Any) -> list[str]:
    """A notice as Telegram takes it: a long reason is shortened, never refused (rules.outages)."""
    def render(reason: str, shortened: bool) -> str:
        return svc.texts.render(lang, f"outage.{macro}", n={**n, "reason": reason}, shortened=shortened, **ctx)

    return fit_message(render, n["reason"])


async def _send(conn, svc: Services, chat_id: int, parts: list[str], *, outage_id: int | None, audience: str,
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


async def _document(conn, svc: Services, chat_id: int, o: Outage, notice: str, priority: Priority) -> None:
    """The printable A4 page, as a document, when the sender can send one."""
    if not _sender_can("document"):
        return
    lang = svc.default_lang
    caption = _doc_caption(lang, o)
    await _send(conn, svc, chat_id, [caption[:CAPTION_MAX]], outage_id=o.id, audience="staff", priority=priority,
                purpose="outage_document", extra={"document": {"outage_id": o.id, "notice": notice, "lang": lang}})


def _doc_caption(lang: str, o: Outage) -> str:
    # Only the file name and a number: the caption must stay well under 1,024 characters.
    return f"🖨 {o.number} A4" if lang == "en" else f"🖨 {o.number} 打印版（A4）"


def _local(svc: Services, when: datetime) -> datetime:
    return when.astimezone(svc.tz)


# ------------------------------------------------------------------------------ /outage wizard


def _wbtn(wz: Wizard, value: str) -> str:
    return f"o:w:{wz.nonce}:{value}"


async def _say(conn, svc: Services, chat_id: int, text: str, *, buttons: Buttons | None = None, force_reply: bool = False,
               prompt: dict[str, Any] | None = None) -> None:
    payload = message(text, buttons=buttons)
    if force_reply and not buttons:
        payload["force_reply"] = True
    purpose = "reply"
    if prompt is not None:
        payload["outage_prompt"] = prompt
        purpose = "outage_prompt"
    await enqueue_message(conn, chat_id, payload, priority=Priority.URGENT, purpose=purpose, now=svc.clock.now())


async def start_wizard(svc: Services, who: Who, chat_id: int) -> None:
    """``/outage``: dispatchers only, in the dispatch group."""
    t, lang = svc.texts, svc.default_lang
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if staff is None or staff.role not in DISPATCHERS or chat_id != dispatch:
            await _say(conn, svc, chat_id, t.render(lang, "outage.dispatch_only"))
        else:
            existing = await store.get_wizard(conn, who.user_id)
            if existing is not None and existing.step != "new_end":
                existing.chat_id = chat_id
                await store.save_wizard(conn, existing, svc.clock.now())
                await _say(conn, svc, chat_id, t.render(lang, "outage.already_drafting"), buttons=[
                    [(t.label(lang, "outage_btn_continue"), _wbtn(existing, "cont"))],
                    [(t.label(lang, "outage_btn_restart"), _wbtn(existing, "restart"))],
                ])
            else:
                await _enter(conn, svc, Wizard(who.user_id, chat_id, secrets.token_hex(3), "kind", {}), "kind")
    svc.wake_sender()


async def _enter(conn, svc: Services, wz: Wizard, step: str) -> None:
    wz.step = step
    await store.save_wizard(conn, wz, svc.clock.now())
    await _prompt(conn, svc, wz)


def _next_step(wz: Wizard) -> str:
    steps = _STEPS[wz.data["kind"]]
    return steps[steps.index(wz.step) + 1]


async def _wizard_notice(conn, svc: Services, lang: str, wz: Wizard) -> dict[str, Any]:
    d = wz.data
    return {
        "number": "", "kind": d["kind"], "places": await _places(conn, lang, d.get("communities", [])),
        "buildings": d.get("buildings") or "", "reason": d.get("reason", ""), "starts": _from(d.get("start")),
        "ends": _from(d.get("end")), "previous_ends": _from(d.get("end")), "pipe": d.get("pipe", ""), "valves": d.get("valves", ""),
        "area": d.get("area", ""), "restored": False, "restored_at": None, "restored_name": "",
    }


def _from(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _prompt(conn, svc: Services, wz: Wizard) -> None:
    t, lang = svc.texts, svc.default_lang
    step, chat = wz.step, wz.chat_id
    cancel = [(t.label(lang, "outage_btn_cancel"), _wbtn(wz, "cancel"))]
    ask = {"wizard": wz.user_id, "nonce": wz.nonce, "step": step}
    kind = wz.data.get("kind", "")
    if step == "kind":
        rows = [[(t.label(lang, f"outage_kind_{k}"), _wbtn(wz, f"kind:{k}"))] for k in ("planned", "emergency", "calibration")]
        await _say(conn, svc, chat, t.render(lang, "outage.ask_kind"), buttons=rows + [cancel])
    elif step == "communities":
        chosen = wz.data.get("communities", [])
        async with conn.execute("SELECT id FROM communities ORDER BY rowid") as cur:
            ids = [r[0] for r in await cur.fetchall()]
        rows = []
        for cid in ids:
            c = await org.get_community(conn, cid)
            mark = "✔ " if cid in chosen else ""
            rows.append([(mark + c.name(lang), _wbtn(wz, f"com:{cid}"))])
        rows.append([(t.label(lang, "outage_btn_done"), _wbtn(wz, "com:done"))])
        await _say(conn, svc, chat, t.render(lang, "outage.ask_communities", chosen=await _places(conn, lang, chosen)),
                   buttons=rows + [cancel], prompt=ask)
    elif step == "buildings":
        await _say(conn, svc, chat, t.render(lang, "outage.ask_buildings"),
                   buttons=[[(t.label(lang, "outage_btn_all_buildings"), _wbtn(wz, "bld:all"))], cancel], prompt=ask)
    elif step in ("pipe", "valves", "area"):
        await _say(conn, svc, chat, t.render(lang, f"outage.ask_{step}"), force_reply=True, prompt=ask)
    elif step == "reason":
        await _say(conn, svc, chat, t.render(lang, "outage.ask_reason", kind=kind), force_reply=True, prompt=ask)
    elif step == "start":
        await _say(conn, svc, chat, t.render(lang, "outage.ask_start", kind=kind), force_reply=True, prompt=ask)
    elif step == "end":
        await _say(conn, svc, chat, t.render(lang, "outage.ask_end", kind=kind, start=_from(wz.data["start"])), force_reply=True, prompt=ask)
    elif step == "summary":
        n = await _wizard_notice(conn, svc, lang, wz)
        warnings = tuple(wz.data.get("warnings", ()))
        go = "anyway" if warnings else "go"
        label = "outage_btn_anyway" if warnings else "outage_btn_submit"
        parts = _fit(svc, lang, "summary", n, warnings=warnings)
        for i, text in enumerate(parts):
            last = i == len(parts) - 1
            await _say(conn, svc, chat, text, buttons=[[(t.label(lang, label), _wbtn(wz, go))], cancel] if last else None)
    elif step == "new_end":
        o = await store.get_outage(conn, wz.data["outage_id"])
        await _say(conn, svc, chat, t.render(lang, "outage.ask_new_end", number=o.number, ends=o.ends_at), force_reply=True, prompt=ask)


async def _wizard_button(conn, svc: Services, who: Who, chat_id: int, nonce: str, value: str) -> str | None:
    t = svc.texts
    alert_lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.nonce != nonce or wz.chat_id != chat_id:
        return t.label(alert_lang, "outage_alert_not_your_wizard")
    kind, _, arg = value.partition(":")
    lang = svc.default_lang
    if kind == "cancel":
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, chat_id, t.render(lang, "outage.cancelled"))
        return t.label(alert_lang, "outage_alert_ok")
    if kind == "cont":
        await _prompt(conn, svc, wz)
        return None
    if kind == "restart":
        await _enter(conn, svc, Wizard(who.user_id, chat_id, secrets.token_hex(3), "kind", {}), "kind")
        return None
    expected = {"kind": "kind", "com": "communities", "bld": "buildings", "go": "summary", "anyway": "summary"}
    if expected.get(kind) != wz.step:
        await _prompt(conn, svc, wz)
        return t.label(alert_lang, "alert_old_question")
    if kind == "kind":
        if arg not in _STEPS:
            return t.label(alert_lang, "alert_stale")
        wz.data = {"kind": arg, "communities": []}
        await _enter(conn, svc, wz, "communities")
    elif kind == "com":
        chosen: list[str] = wz.data.setdefault("communities", [])
        if arg == "done":
            if not chosen:
                await _say(conn, svc, chat_id, t.render(lang, "outage.no_community"))
                await _prompt(conn, svc, wz)
                return None
            await _enter(conn, svc, wz, _next_step(wz))
            return None
        if await org.get_community(conn, arg) is None:
            return t.label(alert_lang, "alert_stale")
        if arg in chosen:
            chosen.remove(arg)
        else:
            chosen.append(arg)
        await _enter(conn, svc, wz, "communities")
    elif kind == "bld":
        wz.data["buildings"] = None
        await _enter(conn, svc, wz, _next_step(wz))
    else:   # go / anyway
        return await _submit(conn, svc, who, wz, confirmed=kind == "anyway")
    return None


async def _wizard_text(conn, svc: Services, who: Who, wz: Wizard, text: str) -> None:
    t, lang = svc.texts, svc.default_lang
    chat = wz.chat_id
    if text.strip().lower() in ("取消", "cancel", "/cancel"):
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, chat, t.render(lang, "outage.cancelled"))
        return
    if wz.step not in _TEXT_STEPS:
        await _prompt(conn, svc, wz)
        return
    now = svc.clock.now()
    now_local = _local(svc, now)
    try:
        if wz.step == "communities":
            chosen: list[str] = wz.data.setdefault("communities", [])
            unknown = []
            for name in split_names(text)[:50]:
                found = await org.find_communities(conn, name)
                exact = [c for c in found if name.lower() in (c.name_zh.lower(), c.name_en.lower(), c.id)]
                match = exact[:1] if exact else (found if len(found) == 1 else [])
                if not match:
                    unknown.append(name[:40])
                elif match[0].id not in chosen:
                    chosen.append(match[0].id)
            if unknown:
                await _say(conn, svc, chat, t.render(lang, "outage.unknown_community", names=_join(lang, unknown)))
                await _enter(conn, svc, wz, "communities")
                return
            if not chosen:
                raise OutageInputError("empty")
            await _enter(conn, svc, wz, _next_step(wz))
            return
        if wz.step in ("buildings", "pipe", "valves", "area"):
            wz.data[wz.step] = check_text(text, FIELD_MAX)
        elif wz.step == "reason":
            wz.data["reason"] = check_text(text, REASON_MAX)
        elif wz.step == "start":
            wz.data["start"] = parse_time(text, now_local).isoformat()
        elif wz.step == "end":
            start = _from(wz.data["start"])
            end = parse_end(text, start, now_local)
            wz.data["warnings"] = list(check_times(wz.data["kind"], start, end, now, svc.policy.outages))
            wz.data["end"] = end.isoformat()
        elif wz.step == "new_end":
            await _update_end(conn, svc, who, wz, text)
            return
    except OutageInputError as problem:
        await _say(conn, svc, chat, t.render(lang, "outage.invalid", code=problem.code, **problem.params))
        await _prompt(conn, svc, wz)
        return
    await _enter(conn, svc, wz, _next_step(wz))


async def _submit(conn, svc: Services, who: Who, wz: Wizard, confirmed: bool) -> str | None:
    t, lang = svc.texts, svc.default_lang
    alert_lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
    staff = await org.get_staff(conn, who.user_id)
    if staff is None or staff.role not in DISPATCHERS:
        return t.label(alert_lang, "outage_alert_dispatch_only")
    now = svc.clock.now()
    d = wz.data
    start, end = _from(d["start"]), _from(d["end"])
    try:
        warnings = check_times(d["kind"], start, end, now, svc.policy.outages)
    except OutageInputError as problem:          # time moved on while the summary waited
        await _say(conn, svc, wz.chat_id, t.render(lang, "outage.invalid", code=problem.code, **problem.params))
        await _enter(conn, svc, wz, "end")
        return None
    if warnings and not confirmed:
        d["warnings"] = list(warnings)
        await _enter(conn, svc, wz, "summary")
        return t.label(alert_lang, "alert_old_question")
    new = NewOutage(
        kind=d["kind"], reason=d["reason"], starts_at=start, ends_at=end, communities=tuple(d["communities"]),
        chat_id=wz.chat_id, created_by=who.user_id, created_name=staff.name, created_at=now, buildings=d.get("buildings"),
        pipe_diameter=d.get("pipe"), valves=d.get("valves"), area=d.get("area"), short_notice=bool(warnings),
    )
    outage_id = await store.insert_outage(conn, new, "pending")
    await store.add_event(conn, outage_id, now, "created", who.user_id, staff.name, {"kind": new.kind, "warnings": list(warnings)})
    await store.delete_wizard(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if needs_approval(o.kind):
        n = await notice_context(conn, lang, o)
        buttons = [[(t.label(lang, "outage_btn_approve"), f"o:a:{o.id}:yes"), (t.label(lang, "outage_btn_reject"), f"o:a:{o.id}:no")]]
        parts = _fit(svc, lang, "approval_request", n, warnings=tuple(warnings), by=staff.name)
        await _send(conn, svc, wz.chat_id, parts, outage_id=o.id, audience="staff", priority=Priority.URGENT,
                    purpose="outage_approval", buttons=buttons)
        log.info("outage %s submitted for approval", o.id)
    else:
        await _publish(conn, svc, o, now)
        await _say(conn, svc, wz.chat_id, t.render(lang, "outage.published", number=o.number))
    return t.label(alert_lang, "outage_alert_ok")


# ------------------------------------------------------------------------------ publishing


async def _publish(conn, svc: Services, o: Outage, now: datetime) -> None:
    """Everyone who must know, in this transaction: customer service, the centres (with the
    posting task), dispatch's progress message, and subscribed residents."""
    lang = svc.default_lang
    await store.publish(conn, o.id, now, subscriber_reminder_at(o.kind, o.starts_at, now, svc.policy.outages))
    await store.add_event(conn, o.id, now, "published")
    o = await store.get_outage(conn, o.id)
    n = await notice_context(conn, lang, o)
    urgent = Priority.URGENT if o.kind == Kind.EMERGENCY else Priority.STATUS
    cs = await org.get_setting(conn, "customer_service_chat_id")
    if cs is not None:
        await _send(conn, svc, cs, _fit(svc, lang, "staff_notice", n), outage_id=o.id, audience="staff", priority=urgent,
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
        parts = _fit(svc, lang, "centre_notice", n, due=due, places=await _places(conn, lang, communities))
        row = await _send(conn, svc, centre.chat_id, parts, outage_id=o.id, audience="staff", priority=urgent,
                          purpose="outage_notice", buttons=[[(t.label(lang, "outage_btn_posted"), f"o:p:{posting_id}")]])
        await store.set_posting_notice(conn, posting_id, row)
        await _document(conn, svc, centre.chat_id, o, o.kind, urgent)
    if o.kind == Kind.EMERGENCY:   # Art. 15, 23 (5): the network station closing the valves is told too
        told = set(by_centre)
        for cid in o.communities:
            centre = await org.centre_for(conn, cid, "network")
            if centre is not None and centre.id not in told:
                told.add(centre.id)
                await _send(conn, svc, centre.chat_id, _fit(svc, lang, "info_notice", n), outage_id=o.id, audience="staff",
                            priority=urgent, purpose="outage_notice")
    await _broadcast(conn, svc, o, "notice")
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        text, buttons = await _panel(conn, svc, o.id)
        row = await _send(conn, svc, dispatch, [text], outage_id=o.id, audience="panel", priority=Priority.STATUS,
                          purpose="outage_panel", buttons=buttons)
        await store.set_panel(conn, o.id, outbox_id=row, text=_panel_state(text, await store.progress(conn, o.id)), at=now)
    log.info("outage %s published to %d centres", o.id, len(by_centre))


async def _broadcast(conn, svc: Services, o: Outage, macro: str, **extra: Any) -> int:
    """One message per subscriber of the affected communities, in their language, BULK."""
    rendered: dict[str, list[str]] = {}
    count = 0
    for sub in await store.subscribers_of(conn, o.communities):
        lang = sub.lang if sub.lang in ("zh", "en") else svc.default_lang
        if lang not in rendered:
            n = await notice_context(conn, lang, o, **extra)
            rendered[lang] = _fit(svc, lang, macro, n)
        await _send(conn, svc, sub.chat_id, rendered[lang], outage_id=o.id, audience="resident", priority=Priority.BULK,
                    purpose="outage_broadcast")
        count += 1
    return count


def _panel_state(text: str, p: store.Progress) -> str:
    return json.dumps({"text": text, "pending": p.pending}, ensure_ascii=False)


async def _panel(conn, svc: Services, outage_id: int) -> tuple[str, Buttons]:
    """Dispatch's one message about an outage: residents reached, postings, linked reports."""
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, outage_id)
    n = await notice_context(conn, lang, o)
    p = await store.progress(conn, o.id)
    postings = []
    for s in await store.postings_of(conn, o.id):
        centre = await org.get_centre(conn, s.centre_id)
        postings.append({"centre": centre.name(lang) if centre else s.centre_id, "posted": s.posted_at is not None,
                         "name": s.posted_name or "", "at": s.posted_at, "late": bool(s.late), "photo": bool(s.photo_file_id),
                         "due": s.due_at})
    linked = [f"{i:04d}" for i in await store.linked_tickets(conn, o.id)]
    text = fit_message(lambda reason, short: t.render(lang, "outage.panel", n={**n, "reason": reason}, shortened=short,
                                                      p=p, postings=postings, tickets=linked), n["reason"])[0]
    buttons: Buttons = []
    if o.status == "published" and shuts_heat(o.kind) and o.restored_at is None:
        buttons = [[(t.label(lang, "outage_btn_update"), f"o:c:{o.id}:end")], [(t.label(lang, "outage_btn_restored"), f"o:c:{o.id}:restore")]]
    return text, buttons


async def _refresh_panel(conn, svc: Services, outage_id: int, now: datetime) -> bool:
    """Bring dispatch's progress message up to date. With the sender's ``edit_of`` it is edited
    in place; without it a fresh one is posted only when a broadcast has just finished."""
    o = await store.get_outage(conn, outage_id)
    if o is None or o.panel_outbox_id is None:
        return False
    text, buttons = await _panel(conn, svc, outage_id)
    p = await store.progress(conn, outage_id)
    old = json.loads(o.panel_text) if o.panel_text else {"text": "", "pending": 0}
    if old.get("text") == text:
        return False
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is None:
        return False
    if _sender_can("edit_of"):
        await _send(conn, svc, dispatch, [text], outage_id=o.id, audience="panel", priority=Priority.STATUS,
                    purpose="outage_panel", buttons=buttons or None, extra={"edit_of": o.panel_outbox_id})
        await store.set_panel(conn, o.id, text=_panel_state(text, p), at=now)
        return True
    if old.get("pending") and p.done:
        row = await _send(conn, svc, dispatch, [text], outage_id=o.id, audience="panel", priority=Priority.STATUS,
                          purpose="outage_panel", buttons=buttons or None)
        await store.set_panel(conn, o.id, outbox_id=row, text=_panel_state(text, p), at=now)
        return True
    await store.set_panel(conn, o.id, text=_panel_state(old.get("text", ""), p), at=now)
    return False


# ------------------------------------------------------------------------------ buttons


async def on_button(svc: Services, who: Who, data: str, chat_id: int, message_id: int) -> str | None:
    """Every ``o:`` button: wizard, approval, posting, control, subscription choice."""
    parts = data.split(":")
    async with svc.db.transaction() as conn:
        lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
        t = svc.texts
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "w" and len(parts) >= 4:
            alert = await _wizard_button(conn, svc, who, chat_id, parts[2], ":".join(parts[3:]))
        elif kind == "a" and len(parts) == 4 and parts[2].isdigit():
            alert = await _decide(conn, svc, who, lang, int(parts[2]), parts[3] == "yes")
        elif kind == "p" and len(parts) == 3 and parts[2].isdigit():
            alert = await _posted(conn, svc, who, lang, int(parts[2]), chat_id)
        elif kind == "c" and len(parts) == 4 and parts[2].isdigit():
            alert = await _control(conn, svc, who, lang, int(parts[2]), parts[3], chat_id)
        elif kind == "s" and len(parts) == 3:
            alert = await _subscribe_to(conn, svc, who, lang, parts[2])
        else:
            alert = t.label(lang, "alert_unknown_button")
    svc.wake_sender()
    return alert


async def _decide(conn, svc: Services, who: Who, lang: str, outage_id: int, approve: bool) -> str:
    t = svc.texts
    staff = await org.get_staff(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if o is None:
        return t.label(lang, "alert_unknown_button")
    if staff is None or staff.role not in DECIDERS:
        return t.label(lang, "outage_alert_not_head")
    now = svc.clock.now()
    if not await store.decide(conn, o.id, "approved" if approve else "rejected", who.user_id, staff.name, now):
        return t.label(lang, "outage_alert_decided", name=o.decided_name or "")
    await store.add_event(conn, o.id, now, "approved" if approve else "rejected", who.user_id, staff.name)
    dispatch = await org.get_setting(conn, "dispatch_chat_id") or o.chat_id
    if approve:
        await _publish(conn, svc, o, now)
        await _say(conn, svc, dispatch, t.render(svc.default_lang, "outage.approved", number=o.number, name=staff.name))
        return t.label(lang, "outage_alert_approved")
    await _say(conn, svc, dispatch, t.render(svc.default_lang, "outage.rejected", number=o.number, name=staff.name))
    return t.label(lang, "outage_alert_rejected")


async def _posted(conn, svc: Services, who: Who, lang: str, posting_id: int, chat_id: int) -> str:
    t = svc.texts
    posting = await store.get_posting(conn, posting_id)
    if posting is None or posting.chat_id != chat_id:
        return t.label(lang, "alert_unknown_button")
    staff = await org.get_staff(conn, who.user_id)
    if staff is None or staff.role not in POSTERS or staff.centre_id != posting.centre_id:
        return t.label(lang, "outage_alert_not_poster")
    if posting.posted_at is not None:
        return t.label(lang, "outage_alert_posted_already", name=posting.posted_name or "")
    await _mark_posted(conn, svc, posting, who.user_id, staff.name)
    return t.label(lang, "outage_alert_posted")


async def _mark_posted(conn, svc: Services, posting: Posting, user_id: int, name: str) -> bool:
    now = svc.clock.now()
    late = now > posting.due_at
    if not await store.mark_posted(conn, posting.id, user_id, name, now, late):
        return False
    o = await store.get_outage(conn, posting.outage_id)
    await store.add_event(conn, o.id, now, "posted", user_id, name, {"centre": posting.centre_id, "late": late})
    centre = await org.get_centre(conn, posting.centre_id)
    text = svc.texts.render(svc.default_lang, "outage.posted", number=o.number, centre=centre.name(svc.default_lang),
                            name=name, at=now, late=late)
    await _send(conn, svc, posting.chat_id, [text], outage_id=o.id, audience="staff", priority=Priority.STATUS, purpose="reply")
    await _refresh_panel(conn, svc, o.id, now)
    return True


async def _control(conn, svc: Services, who: Who, lang: str, outage_id: int, action: str, chat_id: int) -> str | None:
    t = svc.texts
    staff = await org.get_staff(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if o is None or action not in ("end", "restore"):
        return t.label(lang, "alert_unknown_button")
    if staff is None or staff.role not in CONTROLLERS:
        return t.label(lang, "outage_alert_dispatch_only")
    if o.restored_at is not None:
        return t.label(lang, "outage_alert_restored_already", at=svc.texts.render(lang, "workflow.when", value=o.restored_at))
    if o.status != "published" or not shuts_heat(o.kind):
        return t.label(lang, "outage_alert_over")
    if action == "restore":
        await _restore(conn, svc, o, who.user_id, staff.name)
        return t.label(lang, "outage_alert_restored")
    wz = Wizard(who.user_id, chat_id, secrets.token_hex(3), "new_end", {"outage_id": o.id})
    await _enter(conn, svc, wz, "new_end")
    return t.label(lang, "outage_alert_reply")


async def _restore(conn, svc: Services, o: Outage, user_id: int, name: str) -> bool:
    now = svc.clock.now()
    if not await store.mark_restored(conn, o.id, user_id, name, now):
        return False
    await store.stop_postings(conn, o.id)
    await store.add_event(conn, o.id, now, "restored", user_id, name)
    o = await store.get_outage(conn, o.id)
    lang = svc.default_lang
    n = await notice_context(conn, lang, o)
    hours = round((now - o.starts_at).total_seconds() / 3600, 1)
    linked = [f"{i:04d}" for i in await store.linked_tickets(conn, o.id)]
    report = svc.texts.render(lang, "outage.restoration_report", n=n, tickets=linked, hours=hours)
    for key in ("customer_service_chat_id", "dispatch_chat_id"):      # Art. 15: tell both when heat is back
        chat = await org.get_setting(conn, key)
        if chat is not None:
            await _send(conn, svc, chat, [report], outage_id=o.id, audience="staff", priority=Priority.URGENT,
                        purpose="outage_report")
    for posting in await store.postings_of(conn, o.id):
        await _send(conn, svc, posting.chat_id, [svc.texts.render(lang, "outage.restored", n=n)], outage_id=o.id,
                    audience="staff", priority=Priority.STATUS, purpose="outage_notice")
        await _document(conn, svc, posting.chat_id, o, "restored", Priority.STATUS)
    await _broadcast(conn, svc, o, "restored")
    await _refresh_panel(conn, svc, o.id, now)
    log.info("outage %s restored", o.id)
    return True


async def _update_end(conn, svc: Services, who: Who, wz: Wizard, text: str) -> None:
    t, lang = svc.texts, svc.default_lang
    now = svc.clock.now()
    o = await store.get_outage(conn, wz.data["outage_id"])
    staff = await org.get_staff(conn, who.user_id)
    if o is None or o.restored_at is not None or o.status != "published":
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, wz.chat_id, t.label(lang, "outage_alert_over"))
        return
    if staff is None or staff.role not in CONTROLLERS:
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, wz.chat_id, t.render(lang, "outage.dispatch_only"))
        return
    now_local = _local(svc, now)
    end = parse_end(text, now_local, now_local)              # "3小时" counts from now in an update
    check_times(Kind.EMERGENCY, o.starts_at, end, now, svc.policy.outages)  # end after start and after now; no notice-period warning
    previous = o.ends_at
    await store.set_end(conn, o.id, end)
    await store.delete_wizard(conn, who.user_id)
    await store.add_event(conn, o.id, now, "end_updated", who.user_id, staff.name, {"from": to_iso(previous), "to": to_iso(end)})
    o = await store.get_outage(conn, o.id)
    n = await notice_context(conn, lang, o, previous_ends=previous)
    short = t.render(lang, "outage.update", n=n)
    cs = await org.get_setting(conn, "customer_service_chat_id")
    if cs is not None:
        await _send(conn, svc, cs, [short], outage_id=o.id, audience="staff", priority=Priority.STATUS, purpose="outage_notice")
    for posting in await store.postings_of(conn, o.id):
        await _send(conn, svc, posting.chat_id, [short], outage_id=o.id, audience="staff", priority=Priority.STATUS,
                    purpose="outage_notice")
        await _document(conn, svc, posting.chat_id, o, "update", Priority.STATUS)
    await _broadcast(conn, svc, o, "update", previous_ends=previous)
    await _say(conn, svc, wz.chat_id, t.render(lang, "outage.end_updated", number=o.number, ends=end))
    await _refresh_panel(conn, svc, o.id, now)


# ------------------------------------------------------------------------------ replies in groups


async def on_reply(svc: Services, who: Who, chat_id: int, reply_to_message_id: int, text: str, photo: str | None) -> bool:
    """A reply to one of the bot's messages in a group. True if it was ours (a wizard answer,
    a photo of a posted notice); False lets the tickets' reply handling take it."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + _PROMPT_COMMIT_WAIT
    while True:
        async with svc.db.transaction() as conn:
            prompt = await store.prompt_of(conn, chat_id, reply_to_message_id)
            if prompt is not None:
                await _answer(conn, svc, who, chat_id, text)
                break
            posting = await store.posting_for_notice(conn, chat_id, reply_to_message_id)
            if posting is not None:
                await _notice_reply(conn, svc, who, posting, photo)
                break
            if await store.message_of(conn, chat_id, reply_to_message_id) is not None:
                return False
            in_flight = await store.prompt_in_flight(conn, chat_id)
        if not in_flight or loop.time() >= give_up:
            return False
        await asyncio.sleep(0.05)
    svc.wake_sender()
    return True


async def _answer(conn, svc: Services, who: Who, chat_id: int, text: str) -> None:
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.chat_id != chat_id:
        await _say(conn, svc, chat_id, svc.texts.label(svc.default_lang, "outage_alert_not_your_wizard"))
        return
    if not text.strip():
        await _say(conn, svc, chat_id, svc.texts.render(svc.default_lang, "outage.invalid", code="empty"))
        await _prompt(conn, svc, wz)
        return
    try:
        await _wizard_text(conn, svc, who, wz, text)
    except OutageInputError as problem:
        await _say(conn, svc, chat_id, svc.texts.render(svc.default_lang, "outage.invalid", code=problem.code, **problem.params))
        await _prompt(conn, svc, wz)


async def _notice_reply(conn, svc: Services, who: Who, posting: Posting, photo: str | None) -> None:
    """A crew member's photo of the posted notice, as a reply to it: filed, and it confirms
    the posting if nobody pressed the button yet."""
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, posting.outage_id)
    staff = await org.get_staff(conn, who.user_id)
    if staff is None or staff.role not in POSTERS or staff.centre_id != posting.centre_id:
        await _say(conn, svc, posting.chat_id, t.render(lang, "outage.photo_not_yours", number=o.number))
        return
    if photo is None:
        await _say(conn, svc, posting.chat_id, t.label(lang, "outage_alert_posted") if posting.posted_at else
                   t.render(lang, "outage.posting_reminder", number=o.number, due=posting.due_at,
                            centre=(await org.get_centre(conn, posting.centre_id)).name(lang), late_by=0))
        return
    await store.attach_photo(conn, posting.id, photo)
    await store.add_event(conn, o.id, svc.clock.now(), "posting_photo", who.user_id, staff.name, {"centre": posting.centre_id})
    centre = await org.get_centre(conn, posting.centre_id)
    await _say(conn, svc, posting.chat_id, t.render(lang, "outage.photo_saved", number=o.number, centre=centre.name(lang)))
    if posting.posted_at is None:
        await _mark_posted(conn, svc, posting, who.user_id, staff.name)
    else:
        await _refresh_panel(conn, svc, o.id, svc.clock.now())


# ------------------------------------------------------------------------------ residents


async def _resident_say(conn, svc: Services, who: Who, text: str, buttons: Buttons | None = None) -> None:
    await enqueue_message(conn, who.chat_id, message(text, buttons=buttons), priority=Priority.STATUS, purpose="reply",
                          now=svc.clock.now())


async def subscribe(svc: Services, who: Who, query: str) -> None:
    """``/subscribe [community]``: the named community, else the one they last reported from."""
    t = svc.texts
    async with svc.db.transaction() as conn:
        lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
        query = query.strip()[:40]
        if not query:
            remembered = await users.get_user(conn, who.user_id)
            if remembered and remembered.community_id:
                await _subscribe_to(conn, svc, who, lang, remembered.community_id)
            else:
                await _resident_say(conn, svc, who, t.render(lang, "outage.subscribe_ask"))
        else:
            found = await org.find_communities(conn, query)
            if len(found) == 1:
                await _subscribe_to(conn, svc, who, lang, found[0].id)
            elif found:
                await _resident_say(conn, svc, who, t.render(lang, "outage.subscribe_pick", query=query),
                                    buttons=[[(c.name(lang), f"o:s:{c.id}")] for c in found])
            else:
                await _resident_say(conn, svc, who, t.render(lang, "outage.subscribe_none", query=query))
    svc.wake_sender()


async def _subscribe_to(conn, svc: Services, who: Who, lang: str, community_id: str) -> str:
    community = await org.get_community(conn, community_id)
    if community is None or who.chat_id < 0:
        return svc.texts.label(lang, "alert_stale")
    await store.subscribe(conn, who.user_id, who.chat_id, community.id, lang, svc.clock.now())
    await _resident_say(conn, svc, who, svc.texts.render(lang, "outage.subscribed", places=community.name(lang)))
    return svc.texts.label(lang, "outage_alert_subscribed")


async def unsubscribe(svc: Services, who: Who) -> None:
    async with svc.db.transaction() as conn:
        lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
        gone = await store.unsubscribe_all(conn, who.user_id)
        await _resident_say(conn, svc, who, svc.texts.render(lang, "outage.unsubscribed", places=await _places(conn, lang, gone)))
    svc.wake_sender()


async def list_outages(svc: Services, who: Who) -> None:
    """``/outages``: current and upcoming outages of the resident's communities."""
    async with svc.db.transaction() as conn:
        lang = await desk.user_lang(conn, svc, who.user_id, who.telegram_lang)
        communities = await store.subscriptions_of(conn, who.user_id)
        now = svc.clock.now()
        items = []
        for o in await store.outages_for_communities(conn, communities):
            if o.restored_at is not None:
                continue
            if o.kind == Kind.CALIBRATION and o.ends_at <= now:
                continue
            items.append({"number": o.number, "kind": o.kind, "places": await _places(conn, lang, o.communities),
                          "starts": o.starts_at, "ends": o.ends_at, "active": o.starts_at <= now})
        text = svc.texts.render(lang, "outage.outage_list", items=items, places=await _places(conn, lang, communities))
        await _resident_say(conn, svc, who, text)
    svc.wake_sender()


async def intake_check(conn: aiosqlite.Connection, svc: Services, who: Who, lang: str, draft: Draft, after: str) -> bool:
    """The outage-aware intake: a "home not warm" report from a community whose heat is off
    is answered with the notice first. True if the question was asked (the draft waits in the
    ``outage`` step; ``after`` is the step to carry on from)."""
    data = draft.data
    if data.get("category") != "not_warm" or not data.get("community_id") or "outage_seen" in data:
        return False
    o = await store.active_for_community(conn, data["community_id"], svc.clock.now())
    if o is None:
        return False
    data["outage_seen"] = o.id
    data["outage_after"] = after
    draft.step = "outage"
    await drafts.save_draft(conn, draft, to_iso(svc.clock.now()))
    await enqueue_message(conn, who.chat_id, await intake_prompt(conn, svc, lang, draft), priority=Priority.STATUS,
                          purpose="reply", now=svc.clock.now())
    return True


async def intake_prompt(conn: aiosqlite.Connection, svc: Services, lang: str, draft: Draft) -> dict[str, Any]:
    """The notice and its expected restoration, with Report anyway / No report."""
    t = svc.texts
    o = await store.get_outage(conn, draft.data["outage_seen"])
    n = await notice_context(conn, lang, o)
    text = _fit(svc, lang, "intake_notice", n)[-1]
    return message(text, buttons=[
        [(t.label(lang, "outage_btn_file_anyway"), f"i:{draft.nonce}:outage:file")],
        [(t.label(lang, "outage_btn_no_report"), f"i:{draft.nonce}:outage:drop")],
    ])


async def intake_answer(conn: aiosqlite.Connection, svc: Services, who: Who, lang: str, draft: Draft, answer: str) -> str | None:
    """The resident's choice. Returns the step to carry on from when they report anyway (the
    ticket will be linked to the outage); None when they dropped the report."""
    data = draft.data
    if answer == "file":
        data["outage_id"] = data.get("outage_seen")
        return data.pop("outage_after", "community")
    await drafts.delete_draft(conn, who.user_id)
    if data.get("community_id"):
        await store.subscribe(conn, who.user_id, who.chat_id, data["community_id"], lang, svc.clock.now())
    await enqueue_message(conn, who.chat_id, message(svc.texts.render(lang, "outage.intake_dropped"), buttons=desk.main_menu(svc, lang)),
                          priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    return None


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


# ------------------------------------------------------------------------------ the sweeper


async def sweep(svc: Services, limit: int = SWEEP_BATCH) -> int:
    """Posting deadlines (reminded and escalated like any deadline, Art. 23 (3)(4)), the
    residents' reminder before a planned start, and dispatch's progress messages. Returns how
    many reminders and escalations fired."""
    fired = 0
    now = svc.clock.now()
    interval = svc.policy.escalation_interval
    async with svc.db.transaction() as conn:
        for p in await store.due_postings(conn, now, limit):
            step = plan(p.due_at, p.stage, now, svc.policy.outages.posting_reminder_lead, interval)
            if not await store.advance_posting(conn, p.id, from_stage=p.stage, to_stage=step.stage, next_at=step.next_at):
                continue
            for fire in step.fires:
                await _fire(conn, svc, p, fire.stage, now, max(0, int(fire.late_by.total_seconds() // 60)))
                fired += 1
        for o in await store.due_reminders(conn, now):
            if await store.clear_reminder(conn, o.id) and o.status == "published" and o.restored_at is None:
                await _broadcast(conn, svc, o, "reminder")
                await store.add_event(conn, o.id, now, "subscribers_reminded")
                fired += 1
        for outage_id in await store.panels_to_refresh(conn, now - _PANEL_KEEP):
            await _refresh_panel(conn, svc, outage_id, now)
    svc.wake_sender()
    return fired


async def _fire(conn, svc: Services, p: Posting, stage: Stage, now: datetime, late_by: int) -> None:
    t, lang = svc.texts, svc.default_lang
    o = await store.get_outage(conn, p.outage_id)
    centre = await org.get_centre(conn, p.centre_id)
    ctx = dict(number=o.number, due=p.due_at, centre=centre.name(lang) if centre else p.centre_id, late_by=late_by,
               overdue=max(0, int((now - p.due_at).total_seconds() // 60)))
    kind = {Stage.REMINDED: "posting_reminder", Stage.ESCALATED: "posting_overdue", Stage.HEAD: "posting_head"}[stage]
    await store.add_event(conn, o.id, now, kind, detail={"centre": p.centre_id, "late_by_minutes": late_by})
    text = t.render(lang, f"outage.{kind}", **ctx)
    if stage == Stage.REMINDED:
        targets = [p.chat_id]
    elif stage == Stage.ESCALATED:
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        targets = await org.staff_ids_with_role(conn, "centre_lead", p.centre_id) + ([dispatch] if dispatch is not None else [])
    else:
        targets = await org.staff_ids_with_role(conn, "department_head")
    for chat in targets:
        await _send(conn, svc, chat, [text], outage_id=o.id, audience="staff", priority=Priority.URGENT, purpose="escalation")


# ------------------------------------------------------------------------------ printable pages

_PRINT_TITLES = {
    "zh": {"planned": "停热通知", "emergency": "紧急停热通知", "update": "恢复供热时间调整通知", "restored": "恢复供热通知",
           "calibration": "热量表检定通知"},
    "en": {"planned": "Heating shutdown notice", "emergency": "Emergency shutdown notice", "update": "New restoration time",
           "restored": "Heating restored", "calibration": "Heat-meter calibration notice"},
}
_print_envs: dict[str, Environment] = {}


def _print_env(svc: Services) -> Environment:
    key = str(svc.tz)
    env = _print_envs.get(key)
    if env is None:
        env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined)
        months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

        def when(value: datetime | None) -> str:
            if value is None:
                return ""
            local = value.astimezone(svc.tz)
            return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

        def when_en(value: datetime | None) -> str:
            if value is None:
                return ""
            local = value.astimezone(svc.tz)
            return f"{local.day} {months[local.month - 1]} {local.year}, {local:%H:%M}"

        env.filters["when"] = when
        env.filters["when_en"] = when_en
        _print_envs[key] = env
    return env


def render_print(svc: Services, lang: str, notice: str, n: dict[str, Any], issued: datetime) -> str:
    """The printable A4 page of one notice kind, as a whole HTML document."""
    if notice not in PRINT_NOTICES:
        raise ValueError(f"unknown notice kind {notice!r}")
    lang = lang if lang in ("zh", "en") else svc.default_lang
    template = _print_env(svc).get_template(f"{lang}/outage_print.html")
    kind_label = svc.texts.render(lang, "outage.kind_name", kind=n["kind"])
    return template.render(n=n, notice=notice, title=_PRINT_TITLES[lang][notice], issued=issued, kind_label=kind_label)


async def render_document(conn: aiosqlite.Connection, svc: Services, spec: dict[str, Any]) -> tuple[str, bytes]:
    """For the sender: the ``"document"`` payload → (file name, UTF-8 bytes of the page)."""
    o = await store.get_outage(conn, int(spec["outage_id"]))
    if o is None:
        raise ValueError(f"no outage {spec.get('outage_id')!r}")
    lang = spec.get("lang") or svc.default_lang
    notice = spec.get("notice") or o.kind
    n = await notice_context(conn, lang, o)
    html = render_print(svc, lang, notice, n, svc.clock.now())
    return f"{o.number}-{notice}.html", html.encode("utf-8")
