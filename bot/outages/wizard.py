"""``/outage``: the dispatcher's step-by-step notice, kept in the database (``outage_wizards``)
like a resident's draft, and submitted for approval or published."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot import views
from bot.callbacks import WIZARD_DONE, OutageDecision, WizardStep, WizardVerb, new_nonce
from bot.outages.common import fit, local, say, send
from bot.outages.publishing import publish, update_end
from bot.services import Services, Who
from rules.outages import (
    FIELD_MAX, REASON_MAX, OutageInputError, check_text, check_times, needs_approval, parse_end, parse_time, split_names,
)
from rules.roles import may_start_outage
from storage import org
from storage import outages as store
from storage.outages import NewOutage, Wizard
from storage.outbox import Priority

__all__ = ["start_wizard", "enter", "on_wizard_button", "answer"]

log = logging.getLogger(__name__)


_STEPS = {
    "planned": ("communities", "buildings", "reason", "start", "end", "summary"),
    "calibration": ("communities", "buildings", "reason", "start", "end", "summary"),
    "emergency": ("communities", "pipe", "valves", "area", "reason", "start", "end", "summary"),
}


_TEXT_STEPS = {"communities", "buildings", "pipe", "valves", "area", "reason", "start", "end", "new_end"}


def _wbtn(wz: Wizard, verb: WizardVerb, arg: str = "") -> str:
    return WizardStep(wz.nonce, verb, arg).pack()


async def start_wizard(svc: Services, who: Who, chat_id: int) -> None:
    """``/outage``: dispatchers only, in the dispatch group."""
    t, lang = svc.texts, svc.default_lang
    async with svc.db.transaction() as conn:
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if not may_start_outage(staff) or chat_id != dispatch:
            await say(conn, svc, chat_id, t.render(lang, "outage.dispatch_only"))
        else:
            existing = await store.get_wizard(conn, who.user_id)
            if existing is not None and existing.step != "new_end":
                existing.chat_id = chat_id
                await store.save_wizard(conn, existing, svc.clock.now())
                await say(conn, svc, chat_id, t.render(lang, "outage.already_drafting"), buttons=[
                    [(t.label(lang, "outage_btn_continue"), _wbtn(existing, WizardVerb.CONT))],
                    [(t.label(lang, "outage_btn_restart"), _wbtn(existing, WizardVerb.RESTART))],
                ])
            else:
                await enter(conn, svc, Wizard(who.user_id, chat_id, new_nonce(), "kind", {}), "kind")
    svc.wake_sender()


async def enter(conn, svc: Services, wz: Wizard, step: str) -> None:
    wz.step = step
    await store.save_wizard(conn, wz, svc.clock.now())
    await _prompt(conn, svc, wz)


def _next_step(wz: Wizard) -> str:
    steps = _STEPS[wz.data["kind"]]
    return steps[steps.index(wz.step) + 1]


async def _wizard_notice(conn, svc: Services, lang: str, wz: Wizard) -> dict[str, Any]:
    d = wz.data
    return {
        "number": "", "kind": d["kind"], "places": await views.places(conn, lang, d.get("communities", [])),
        "buildings": d.get("buildings") or "", "reason": d.get("reason", ""), "starts": _from(d.get("start")),
        "ends": _from(d.get("end")), "previous_ends": _from(d.get("end")), "pipe": d.get("pipe", ""), "valves": d.get("valves", ""),
        "area": d.get("area", ""), "restored": False, "restored_at": None, "restored_name": "",
    }


def _from(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _prompt(conn, svc: Services, wz: Wizard) -> None:
    t, lang = svc.texts, svc.default_lang
    step, chat = wz.step, wz.chat_id
    cancel = [(t.label(lang, "outage_btn_cancel"), _wbtn(wz, WizardVerb.CANCEL))]
    ask = {"wizard": wz.user_id, "nonce": wz.nonce, "step": step}
    kind = wz.data.get("kind", "")
    if step == "kind":
        rows = [[(t.label(lang, f"outage_kind_{k}"), _wbtn(wz, WizardVerb.KIND, k))] for k in ("planned", "emergency", "calibration")]
        await say(conn, svc, chat, t.render(lang, "outage.ask_kind"), buttons=rows + [cancel])
    elif step == "communities":
        chosen = wz.data.get("communities", [])
        rows = []
        for c in await org.list_communities(conn):
            mark = "✔ " if c.id in chosen else ""
            rows.append([(mark + c.name(lang), _wbtn(wz, WizardVerb.COM, c.id))])
        rows.append([(t.label(lang, "outage_btn_done"), _wbtn(wz, WizardVerb.COM, WIZARD_DONE))])
        await say(conn, svc, chat, t.render(lang, "outage.ask_communities", chosen=await views.places(conn, lang, chosen)),
                   buttons=rows + [cancel], prompt=ask)
    elif step == "buildings":
        await say(conn, svc, chat, t.render(lang, "outage.ask_buildings"),
                   buttons=[[(t.label(lang, "outage_btn_all_buildings"), _wbtn(wz, WizardVerb.BLD, "all"))], cancel], prompt=ask)
    elif step in ("pipe", "valves", "area"):
        await say(conn, svc, chat, t.render(lang, f"outage.ask_{step}"), force_reply=True, prompt=ask)
    elif step == "reason":
        await say(conn, svc, chat, t.render(lang, "outage.ask_reason", kind=kind), force_reply=True, prompt=ask)
    elif step == "start":
        await say(conn, svc, chat, t.render(lang, "outage.ask_start", kind=kind), force_reply=True, prompt=ask)
    elif step == "end":
        await say(conn, svc, chat, t.render(lang, "outage.ask_end", kind=kind, start=_from(wz.data["start"])), force_reply=True, prompt=ask)
    elif step == "summary":
        n = await _wizard_notice(conn, svc, lang, wz)
        warnings = tuple(wz.data.get("warnings", ()))
        go = WizardVerb.ANYWAY if warnings else WizardVerb.GO
        label = "outage_btn_anyway" if warnings else "outage_btn_submit"
        parts = fit(svc, lang, "summary", n, warnings=warnings)
        for i, text in enumerate(parts):
            last = i == len(parts) - 1
            await say(conn, svc, chat, text, buttons=[[(t.label(lang, label), _wbtn(wz, go))], cancel] if last else None)
    elif step == "new_end":
        o = await store.get_outage(conn, wz.data["outage_id"])
        await say(conn, svc, chat, t.render(lang, "outage.ask_new_end", number=o.number, ends=o.ends_at), force_reply=True, prompt=ask)


async def on_wizard_button(conn, svc: Services, who: Who, chat_id: int, step: WizardStep) -> str | None:
    t = svc.texts
    alert_lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.nonce != step.nonce or wz.chat_id != chat_id:
        return t.label(alert_lang, "outage_alert_not_your_wizard")
    kind, arg = step.verb, step.arg
    lang = svc.default_lang
    if kind == "cancel":
        await store.delete_wizard(conn, who.user_id)
        await say(conn, svc, chat_id, t.render(lang, "outage.cancelled"))
        return t.label(alert_lang, "outage_alert_ok")
    if kind == "cont":
        await _prompt(conn, svc, wz)
        return None
    if kind == "restart":
        await enter(conn, svc, Wizard(who.user_id, chat_id, new_nonce(), "kind", {}), "kind")
        return None
    expected = {"kind": "kind", "com": "communities", "bld": "buildings", "go": "summary", "anyway": "summary"}
    if expected.get(kind) != wz.step:
        await _prompt(conn, svc, wz)
        return t.label(alert_lang, "alert_old_question")
    if kind == "kind":
        if arg not in _STEPS:
            return t.label(alert_lang, "alert_stale")
        wz.data = {"kind": arg, "communities": []}
        await enter(conn, svc, wz, "communities")
    elif kind == "com":
        chosen: list[str] = wz.data.setdefault("communities", [])
        if arg == WIZARD_DONE:
            if not chosen:
                await say(conn, svc, chat_id, t.render(lang, "outage.no_community"))
                await _prompt(conn, svc, wz)
                return None
            await enter(conn, svc, wz, _next_step(wz))
            return None
        if await org.get_community(conn, arg) is None:
            return t.label(alert_lang, "alert_stale")
        if arg in chosen:
            chosen.remove(arg)
        else:
            chosen.append(arg)
        await enter(conn, svc, wz, "communities")
    elif kind == "bld":
        wz.data["buildings"] = None
        await enter(conn, svc, wz, _next_step(wz))
    else:   # go / anyway
        return await _submit(conn, svc, who, wz, confirmed=kind == "anyway")
    return None


async def _wizard_text(conn, svc: Services, who: Who, wz: Wizard, text: str) -> None:
    t, lang = svc.texts, svc.default_lang
    chat = wz.chat_id
    if text.strip().lower() in ("取消", "cancel", "/cancel"):
        await store.delete_wizard(conn, who.user_id)
        await say(conn, svc, chat, t.render(lang, "outage.cancelled"))
        return
    if wz.step not in _TEXT_STEPS:
        await _prompt(conn, svc, wz)
        return
    now = svc.clock.now()
    now_local = local(svc, now)
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
                await say(conn, svc, chat, t.render(lang, "outage.unknown_community", names=views.join_names(lang, unknown)))
                await enter(conn, svc, wz, "communities")
                return
            if not chosen:
                raise OutageInputError("empty")
            await enter(conn, svc, wz, _next_step(wz))
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
            await update_end(conn, svc, who, wz, text)
            return
    except OutageInputError as problem:
        await say(conn, svc, chat, t.render(lang, "outage.invalid", code=problem.code, **problem.params))
        await _prompt(conn, svc, wz)
        return
    await enter(conn, svc, wz, _next_step(wz))


async def _submit(conn, svc: Services, who: Who, wz: Wizard, confirmed: bool) -> str | None:
    t, lang = svc.texts, svc.default_lang
    alert_lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    staff = await org.get_staff(conn, who.user_id)
    if not may_start_outage(staff):
        return t.label(alert_lang, "outage_alert_dispatch_only")
    now = svc.clock.now()
    d = wz.data
    start, end = _from(d["start"]), _from(d["end"])
    try:
        warnings = check_times(d["kind"], start, end, now, svc.policy.outages)
    except OutageInputError as problem:          # time moved on while the summary waited
        await say(conn, svc, wz.chat_id, t.render(lang, "outage.invalid", code=problem.code, **problem.params))
        await enter(conn, svc, wz, "end")
        return None
    if warnings and not confirmed:
        d["warnings"] = list(warnings)
        await enter(conn, svc, wz, "summary")
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
        n = await views.notice_context(conn, lang, o)
        buttons = [[(t.label(lang, "outage_btn_approve"), OutageDecision(o.id, True).pack()),
                    (t.label(lang, "outage_btn_reject"), OutageDecision(o.id, False).pack())]]
        parts = fit(svc, lang, "approval_request", n, warnings=tuple(warnings), by=staff.name)
        await send(conn, svc, wz.chat_id, parts, outage_id=o.id, audience="staff", priority=Priority.URGENT,
                    purpose="outage_approval", buttons=buttons)
        log.info("outage %s submitted for approval", o.id)
    else:
        await publish(conn, svc, o, now)
        await say(conn, svc, wz.chat_id, t.render(lang, "outage.published", number=o.number))
    return t.label(alert_lang, "outage_alert_ok")


async def answer(conn, svc: Services, who: Who, chat_id: int, text: str) -> None:
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.chat_id != chat_id:
        await say(conn, svc, chat_id, svc.texts.label(svc.default_lang, "outage_alert_not_your_wizard"))
        return
    if not text.strip():
        await say(conn, svc, chat_id, svc.texts.render(svc.default_lang, "outage.invalid", code="empty"))
        await _prompt(conn, svc, wz)
        return
    try:
        await _wizard_text(conn, svc, who, wz, text)
    except OutageInputError as problem:
        await say(conn, svc, chat_id, svc.texts.render(svc.default_lang, "outage.invalid", code=problem.code, **problem.params))
        await _prompt(conn, svc, wz)
