"""``/register``: dispatch's record of praise, criticism, press reports and supervision by
higher authorities, the inputs of the centres' assessment (Art. 10 (1), Art. 18-24).

``/register`` lists the month's entries with a button to record one; recording is a short
wizard kept in the database (``register_wizards``), like ``/new``. The lead of the centre an
entry is about is told of it at once, in the centre's group.
"""
from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from bot import views
from bot.callbacks import REGISTER_NONE, RegisterStep, RegisterVerb, new_nonce, parse_number
from bot.payload import Buttons, message
from bot.prompts import ask
from bot.services import Services, Who
from rules.desk import REGISTER_KINDS, REGISTER_SOURCES, REGISTER_TEXT_MAX
from rules.intake import InvalidInput, is_visible
from rules.roles import Role, may_keep_register
from storage import desk as store
from storage import org, tickets
from storage.desk import NewEntry, NewWizard
from storage.outbox import Priority, enqueue_message

__all__ = ["show", "on_button", "answer", "take_private", "PROMPT_KIND"]

log = logging.getLogger(__name__)

PROMPT_KIND = "register"
_TABLE = "register_wizards"
_ORDER = ("kind", "centre", "staff", "source", "text", "ticket", "summary")
_CANCEL_WORDS = frozenset({"取消", "cancel", "/cancel"})


def _btn(wz: NewWizard, verb: RegisterVerb, arg: str = "") -> str:
    return RegisterStep(wz.nonce, verb, arg).pack()


async def _say(conn, svc: Services, chat_id: int, text: str, buttons: Buttons | None = None,
               tag: dict[str, Any] | None = None) -> None:
    now = svc.clock.now()
    if tag is not None and chat_id < 0:
        await ask(conn, chat_id, text, {"kind": PROMPT_KIND, **tag}, now=now, buttons=buttons, force_reply=not buttons)
        return
    await enqueue_message(conn, chat_id, message(text, buttons=buttons), priority=Priority.URGENT, purpose="reply", now=now)


def _month(svc: Services, now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(svc.tz)
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=svc.tz)
    following = start.date().replace(year=start.year + 1, month=1) if start.month == 12 else start.date().replace(month=start.month + 1)
    return start, datetime.combine(following, time(0), tzinfo=svc.tz)


async def show(svc: Services, who: Who, chat_id: int, chat_is_private: bool) -> None:
    """``/register``: the month's entries and a button to record one; dispatch only."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang) if chat_is_private else svc.default_lang
        t = svc.texts
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        if not may_keep_register(staff) or not (chat_is_private or chat_id == dispatch):
            await _say(conn, svc, chat_id, t.render(lang, "register.dispatch_only"))
        else:
            start, end = _month(svc, svc.clock.now())
            items = []
            for e in await store.entries_between(conn, start, end):
                centre = await org.get_centre(conn, e.centre_id)
                items.append({"e": e, "kind": t.label(lang, f"register_kind_{e.kind}"), "centre": centre.name(lang) if centre else e.centre_id,
                              "source": t.label(lang, f"source_{e.source}"),
                              "ticket": f"{e.ticket_id:04d}" if e.ticket_id is not None else None})
            start_btn = RegisterStep(new_nonce(), RegisterVerb.START).pack()
            await _say(conn, svc, chat_id, t.render(lang, "register.month", month=start, items=items),
                       [[(t.label(lang, "register_btn_new"), start_btn)]])
    svc.wake_sender()


async def _enter(conn, svc: Services, wz: NewWizard, step: str) -> None:
    wz.step = step
    await store.save_wizard(conn, wz, svc.clock.now(), _TABLE)
    await _prompt(conn, svc, wz)


def _next(wz: NewWizard) -> str:
    return _ORDER[_ORDER.index(wz.step) + 1]


async def _prompt(conn, svc: Services, wz: NewWizard) -> None:
    t, lang, step, d = svc.texts, wz.data["lang"], wz.step, wz.data
    cancel = [(t.label(lang, "cancel"), _btn(wz, RegisterVerb.CANCEL))]
    tag = {"wizard": wz.user_id, "nonce": wz.nonce, "step": step}
    if step == "kind":
        rows = [[(t.label(lang, f"register_kind_{k}"), _btn(wz, RegisterVerb.KIND, k))] for k in REGISTER_KINDS]
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_kind"), rows + [cancel])
    elif step == "centre":
        rows = [[(c.name(lang), _btn(wz, RegisterVerb.CENTRE, c.id))] for c in await org.list_centres(conn)]
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_centre"), rows + [cancel])
    elif step == "staff":
        rows = [[(s.name, _btn(wz, RegisterVerb.STAFF, str(s.user_id)))] for s in await org.staff_of_centre(conn, d["centre"])]
        rows.append([(t.label(lang, "register_btn_nobody"), _btn(wz, RegisterVerb.STAFF, REGISTER_NONE))])
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_staff"), rows + [cancel])
    elif step == "source":
        rows = [[(t.label(lang, f"source_{s}"), _btn(wz, RegisterVerb.SRC, str(s)))] for s in REGISTER_SOURCES]
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_source"), rows + [cancel])
    elif step == "text":
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_text"), tag=tag)
    elif step == "ticket":
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.ask_ticket"),
                   [[(t.label(lang, "skip"), _btn(wz, RegisterVerb.SKIP))], cancel], tag=tag)
    else:
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.summary", **await _summary(conn, svc, lang, d)),
                   [[(t.label(lang, "confirm"), _btn(wz, RegisterVerb.GO))], cancel])


async def _summary(conn, svc: Services, lang: str, d: dict[str, Any]) -> dict[str, Any]:
    t = svc.texts
    centre = await org.get_centre(conn, d["centre"])
    return {"kind": t.label(lang, f"register_kind_{d['kind']}"), "centre": centre.name(lang) if centre else d["centre"],
            "staff": d.get("staff_name"), "source": t.label(lang, f"source_{d['source']}"), "text": d.get("text", ""),
            "ticket": f"{d['ticket']:04d}" if d.get("ticket") else None}


async def on_button(svc: Services, who: Who, chat_id: int, chat_is_private: bool, step: RegisterStep | None) -> str | None:
    async with svc.db.transaction() as conn:
        alert = await _on_button(conn, svc, who, chat_id, chat_is_private, step)
    svc.wake_sender()
    return alert


async def _on_button(conn, svc: Services, who: Who, chat_id: int, chat_is_private: bool, step: RegisterStep | None) -> str | None:
    t = svc.texts
    alert_lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    staff = await org.get_staff(conn, who.user_id)
    if not may_keep_register(staff):
        return t.label(alert_lang, "register_alert_dispatch_only")
    if step is not None and step.verb == RegisterVerb.START:
        lang = alert_lang if chat_is_private else svc.default_lang
        await _enter(conn, svc, NewWizard(who.user_id, chat_id, new_nonce(), "kind", {"lang": lang}), "kind")
        return None
    wz = await store.get_wizard(conn, who.user_id, _TABLE)
    if step is None or wz is None or wz.nonce != step.nonce or wz.chat_id != chat_id:
        return t.label(alert_lang, "new_alert_not_your_wizard")
    verb, arg, lang = step.verb, step.arg, wz.data["lang"]
    if verb == RegisterVerb.CANCEL:
        await store.delete_wizard(conn, who.user_id, _TABLE)
        await _say(conn, svc, chat_id, t.render(lang, "register.cancelled"))
        return t.label(alert_lang, "new_alert_ok")
    expected = {RegisterVerb.KIND: "kind", RegisterVerb.CENTRE: "centre", RegisterVerb.STAFF: "staff", RegisterVerb.SRC: "source",
                RegisterVerb.SKIP: "ticket", RegisterVerb.GO: "summary"}
    if expected[verb] != wz.step:
        await _prompt(conn, svc, wz)
        return t.label(alert_lang, "alert_old_question")
    if verb == RegisterVerb.KIND:
        wz.data["kind"] = arg
    elif verb == RegisterVerb.CENTRE:
        if await org.get_centre(conn, arg) is None:
            return t.label(alert_lang, "alert_stale")
        wz.data["centre"] = arg
    elif verb == RegisterVerb.STAFF:
        named = await org.get_staff(conn, int(arg)) if arg != REGISTER_NONE else None
        if arg != REGISTER_NONE and (named is None or named.centre_id != wz.data["centre"]):
            return t.label(alert_lang, "alert_stale")
        wz.data["staff_id"], wz.data["staff_name"] = (named.user_id, named.name) if named else (None, None)
    elif verb == RegisterVerb.SRC:
        wz.data["source"] = arg
    elif verb == RegisterVerb.SKIP:
        wz.data["ticket"] = None
    else:
        await _record(conn, svc, who, staff.name, wz)
        return t.label(alert_lang, "new_alert_ok")
    await _enter(conn, svc, wz, _next(wz))
    return None


async def answer(conn, svc: Services, who: Who, chat_id: int, text: str) -> None:
    """A reply in the dispatch group to one of the register's questions (bot/replies.py)."""
    wz = await store.get_wizard(conn, who.user_id, _TABLE)
    if wz is None or wz.chat_id != chat_id:
        await _say(conn, svc, chat_id, svc.texts.label(svc.default_lang, "new_alert_not_your_wizard"))
        return
    await _text(conn, svc, who, wz, text)


async def take_private(conn, svc: Services, who: Who, text: str) -> bool:
    """The answer to a question of a /register waiting in this private chat (bot/replies.py
    asks); False if none waits for text here."""
    wz = await store.get_wizard(conn, who.user_id, _TABLE)
    if wz is None or wz.chat_id != who.chat_id or wz.step not in ("text", "ticket"):
        return False
    await _text(conn, svc, who, wz, text)
    return True


async def _text(conn, svc: Services, who: Who, wz: NewWizard, text: str) -> None:
    t, lang = svc.texts, wz.data["lang"]
    typed = text.strip()
    if typed.lower() in _CANCEL_WORDS:
        await store.delete_wizard(conn, who.user_id, _TABLE)
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.cancelled"))
        return
    try:
        if wz.step == "text":
            if not is_visible(typed):
                raise InvalidInput("empty_text")
            if len(typed) > REGISTER_TEXT_MAX:
                raise InvalidInput("too_long")
            wz.data["text"] = typed
        elif wz.step == "ticket":
            number = parse_number(typed)
            if number is None or await tickets.get_ticket(conn, number) is None:
                raise InvalidInput("no_ticket")
            wz.data["ticket"] = number
        else:
            await _prompt(conn, svc, wz)
            return
    except InvalidInput as problem:
        await _say(conn, svc, wz.chat_id, t.render(lang, "register.invalid", code=problem.code, limit=REGISTER_TEXT_MAX))
        await _prompt(conn, svc, wz)
        return
    await _enter(conn, svc, wz, _next(wz))


async def _record(conn, svc: Services, who: Who, name: str, wz: NewWizard) -> None:
    d, now, t = wz.data, svc.clock.now(), svc.texts
    entry_id = await store.insert_entry(conn, NewEntry(
        kind=d["kind"], centre_id=d["centre"], staff_id=d.get("staff_id"), staff_name=d.get("staff_name"), source=d["source"],
        text=d["text"], ticket_id=d.get("ticket"), entered_by=who.user_id, entered_name=name, at=now,
    ))
    await store.delete_wizard(conn, who.user_id, _TABLE)
    await _say(conn, svc, wz.chat_id, t.render(wz.data["lang"], "register.recorded", number=entry_id))
    # The centre's lead hears of every entry about their centre at once (Art. 18-24: it counts).
    # In the centre's group, addressed to the lead by name: Telegram lets a bot write privately
    # only to someone who has opened a chat with it, and a lead may never have.
    centre = await org.get_centre(conn, d["centre"])
    if centre is not None:
        lang = svc.default_lang
        leads = [s.name for s in await org.staff_of_centre(conn, centre.id) if s.role == Role.CENTRE_LEAD]
        text = t.render(lang, "register.lead_told", by=name, leads=views.join_names(lang, leads), **await _summary(conn, svc, lang, d))
        await enqueue_message(conn, centre.chat_id, message(text), priority=Priority.STATUS, purpose="register", now=now)
    log.info("register entry %s (%s) about centre %s", entry_id, d["kind"], d["centre"])
