"""``/new``: dispatch or a centre's hotline staff enter a complaint on a caller's behalf — a
phone call, a 12345 work order, the housing bureau, the press, online opinion, the company's
leaders (Art. 4, Art. 10 (1)).

A short wizard kept in the database (``desk_wizards``, like the outage wizard), one question at
a time; in the dispatch group its questions are replied to (bot/replies.py routes the replies),
in a private chat they are simply answered. Confirm files the ticket through
:func:`bot.filing.file_ticket`, so it is assessed, routed and carded exactly like a resident's;
the caller has no Telegram chat, so what a resident would be told goes to the chat it was
entered in (Art. 5: the first responder passes it on).
"""
from __future__ import annotations

import logging
from typing import Any

from bot import views
from bot.callbacks import NEW_NONE, NewStep, NewVerb, new_nonce
from bot.filing import Filing, file_ticket
from bot.payload import Buttons, message
from bot.prompts import ask
from bot.services import Services, Who
from rules.desk import DESK_SOURCES, EXTERNAL_REF_MAX, NAME_MAX
from rules.intake import FREE_TEXT_MAX, InvalidInput, check_description, is_visible, parse_phone
from rules.policy import Source, ticket_level
from rules.roles import may_file_for_caller
from storage import desk as store
from storage import org
from storage.desk import NewWizard
from storage.outbox import Priority, enqueue_message

__all__ = ["start", "on_button", "answer", "take_private", "PROMPT_KIND"]

log = logging.getLogger(__name__)

PROMPT_KIND = "desk"
_ORDER = ("source", "category", "community", "address", "name", "phone", "description", "reference", "summary")
_TEXT_STEPS = frozenset({"community", "address", "name", "phone", "description", "reference"})
_SKIPPABLE = frozenset({"name", "phone", "reference"})
_CANCEL_WORDS = frozenset({"取消", "cancel", "/cancel"})


def _btn(wz: NewWizard, verb: NewVerb, arg: str = "") -> str:
    return NewStep(wz.nonce, verb, arg).pack()


async def _say(conn, svc: Services, wz: NewWizard, text: str, buttons: Buttons | None = None, *, question: bool = False) -> None:
    """In a group a question carries a tag, so its reply comes back here; in a private chat the
    next message is the answer."""
    now = svc.clock.now()
    if question and wz.chat_id < 0:
        await ask(conn, wz.chat_id, text, {"kind": PROMPT_KIND, "wizard": wz.user_id, "nonce": wz.nonce, "step": wz.step},
                  now=now, buttons=buttons, force_reply=not buttons)
        return
    await enqueue_message(conn, wz.chat_id, message(text, buttons=buttons), priority=Priority.URGENT, purpose="reply", now=now)


async def start(svc: Services, who: Who, chat_id: int, chat_is_private: bool) -> None:
    """``/new``: staff only (``may_file_for_caller``), in the dispatch group or a private chat."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang) if chat_is_private else svc.default_lang
        staff = await org.get_staff(conn, who.user_id)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        t = svc.texts
        reply = NewWizard(who.user_id, chat_id, new_nonce(), "source", {"lang": lang})
        if not may_file_for_caller(staff):
            await _say(conn, svc, reply, t.render(lang, "desk.staff_only"))
        elif not chat_is_private and chat_id != dispatch:
            await _say(conn, svc, reply, t.render(lang, "desk.where"))
        else:
            existing = await store.get_wizard(conn, who.user_id)
            if existing is not None:
                existing.chat_id = chat_id
                await store.save_wizard(conn, existing, svc.clock.now())
                await _say(conn, svc, existing, t.render(lang, "desk.already"), buttons=[
                    [(t.label(lang, "continue"), _btn(existing, NewVerb.CONT))],
                    [(t.label(lang, "restart"), _btn(existing, NewVerb.RESTART))],
                ])
            else:
                await _enter(conn, svc, reply, "source")
    svc.wake_sender()


async def _enter(conn, svc: Services, wz: NewWizard, step: str) -> None:
    wz.step = step
    await store.save_wizard(conn, wz, svc.clock.now())
    await _prompt(conn, svc, wz)


def _next(wz: NewWizard) -> str:
    return _ORDER[_ORDER.index(wz.step) + 1]


async def _prompt(conn, svc: Services, wz: NewWizard) -> None:
    t, lang, step, d = svc.texts, wz.data["lang"], wz.step, wz.data
    cancel = [(t.label(lang, "cancel"), _btn(wz, NewVerb.CANCEL))]
    skip = [(t.label(lang, "skip"), _btn(wz, NewVerb.SKIP))]
    if step == "source":
        rows = [[(t.label(lang, f"source_{s}"), _btn(wz, NewVerb.SRC, str(s)))] for s in DESK_SOURCES]
        await _say(conn, svc, wz, t.render(lang, "desk.ask_source"), rows + [cancel])
    elif step == "category":
        rows = [[(c.label(lang), _btn(wz, NewVerb.CAT, c.code))] for c in svc.policy.categories.values()]
        await _say(conn, svc, wz, t.render(lang, "desk.ask_category", source=t.label(lang, f"source_{d['source']}")), rows + [cancel])
    elif step == "community":
        rows = [[(c.name(lang), _btn(wz, NewVerb.COM, c.id))] for c in await org.list_communities(conn)]
        rows.append([(t.label(lang, "new_btn_other_community"), _btn(wz, NewVerb.COM, NEW_NONE))])
        await _say(conn, svc, wz, t.render(lang, "desk.ask_community"), rows + [cancel], question=True)
    elif step in ("address", "description"):
        await _say(conn, svc, wz, t.render(lang, f"desk.ask_{step}"), question=True)
    elif step in _SKIPPABLE:
        await _say(conn, svc, wz, t.render(lang, f"desk.ask_{step}"), [skip, cancel], question=True)
    else:
        await _say(conn, svc, wz, t.render(lang, "desk.summary", **await _summary(conn, svc, wz)),
                   [[(t.label(lang, "confirm"), _btn(wz, NewVerb.GO))], cancel])


async def _summary(conn, svc: Services, wz: NewWizard) -> dict[str, Any]:
    t, lang, d = svc.texts, wz.data["lang"], wz.data
    category = svc.policy.category(d["category"])
    level = ticket_level(svc.policy, category.code, Source(d["source"]))
    return {
        "source": t.label(lang, f"source_{d['source']}"), "category": category.label(lang),
        "level": t.label(lang, f"level_{level}"),
        "place": await views.place_name(conn, lang, d.get("community_id"), d.get("community_text")),
        "address": d.get("address") or "", "name": d.get("name"), "phone": d.get("phone"),
        "description": d.get("description") or "", "reference": d.get("reference"),
    }


async def on_button(svc: Services, who: Who, chat_id: int, step: NewStep | None) -> str | None:
    """A press on a /new question; the alert to show, if any."""
    async with svc.db.transaction() as conn:
        alert = await _on_button(conn, svc, who, chat_id, step)
    svc.wake_sender()
    return alert


async def _on_button(conn, svc: Services, who: Who, chat_id: int, step: NewStep | None) -> str | None:
    t = svc.texts
    alert_lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
    wz = await store.get_wizard(conn, who.user_id)
    if step is None or wz is None or wz.nonce != step.nonce or wz.chat_id != chat_id:
        return t.label(alert_lang, "new_alert_not_your_wizard")
    verb, arg, lang = step.verb, step.arg, wz.data["lang"]
    if verb == NewVerb.CANCEL:
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, wz, t.render(lang, "desk.cancelled"))
        return t.label(alert_lang, "new_alert_ok")
    if verb == NewVerb.CONT:
        await _prompt(conn, svc, wz)
        return None
    if verb == NewVerb.RESTART:
        await _enter(conn, svc, NewWizard(who.user_id, chat_id, new_nonce(), "source", {"lang": lang}), "source")
        return None
    expected = {NewVerb.SRC: {"source"}, NewVerb.CAT: {"category"}, NewVerb.COM: {"community"}, NewVerb.SKIP: _SKIPPABLE,
                NewVerb.GO: {"summary"}}
    if wz.step not in expected[verb]:
        await _prompt(conn, svc, wz)
        return t.label(alert_lang, "alert_old_question")
    if verb == NewVerb.SRC:
        wz.data["source"] = arg
    elif verb == NewVerb.CAT:
        if arg not in svc.policy.categories:
            return t.label(alert_lang, "alert_stale")
        wz.data["category"] = arg
    elif verb == NewVerb.COM:
        if arg != NEW_NONE and await org.get_community(conn, arg) is None:
            return t.label(alert_lang, "alert_stale")
        wz.data["community_id"] = None if arg == NEW_NONE else arg
    elif verb == NewVerb.SKIP:
        wz.data[wz.step] = None
    else:
        return await _submit(conn, svc, who, wz, alert_lang)
    await _enter(conn, svc, wz, _next(wz))
    return None


async def answer(conn, svc: Services, who: Who, chat_id: int, text: str) -> None:
    """A reply in the dispatch group to one of the wizard's questions (bot/replies.py)."""
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.chat_id != chat_id:
        await enqueue_message(conn, chat_id, message(svc.texts.label(svc.default_lang, "new_alert_not_your_wizard")),
                              priority=Priority.URGENT, purpose="reply", now=svc.clock.now())
        return
    await _text(conn, svc, who, wz, text)


async def take_private(conn, svc: Services, who: Who, text: str) -> bool:
    """A staff member's message in their private chat while their /new waits there is its
    answer (bot/replies.py asks); False when no /new waits in this chat."""
    wz = await store.get_wizard(conn, who.user_id)
    if wz is None or wz.chat_id != who.chat_id:
        return False
    await _text(conn, svc, who, wz, text)
    return True


async def _text(conn, svc: Services, who: Who, wz: NewWizard, text: str) -> None:
    t, lang = svc.texts, wz.data["lang"]
    typed = text.strip()
    if typed.lower() in _CANCEL_WORDS:
        await store.delete_wizard(conn, who.user_id)
        await _say(conn, svc, wz, t.render(lang, "desk.cancelled"))
        return
    if wz.step not in _TEXT_STEPS:
        await _prompt(conn, svc, wz)
        return
    try:
        if not is_visible(typed):
            raise InvalidInput("empty_text")
        if wz.step == "community":
            found = await org.find_communities(conn, typed)
            exact = [c for c in found if typed.lower() in (c.name_zh.lower(), c.name_en.lower(), c.id)]
            match = exact[:1] if exact else (found if len(found) == 1 else [])
            if match:
                wz.data["community_id"] = match[0].id
            else:
                wz.data["community_id"] = None
                wz.data["community_text"] = _short(typed, FREE_TEXT_MAX)
                await _say(conn, svc, wz, t.render(lang, "desk.no_such_community", text=wz.data["community_text"]))
        elif wz.step == "address":
            wz.data["address"] = _short(typed, FREE_TEXT_MAX)
        elif wz.step == "name":
            wz.data["name"] = _short(typed, NAME_MAX)
        elif wz.step == "phone":
            wz.data["phone"] = parse_phone(typed)
        elif wz.step == "description":
            wz.data["description"] = check_description(typed)
        else:
            wz.data["reference"] = _short(typed, EXTERNAL_REF_MAX)
    except InvalidInput as problem:
        await _say(conn, svc, wz, t.render(lang, "desk.invalid", code=problem.code))
        await _prompt(conn, svc, wz)
        return
    await _enter(conn, svc, wz, _next(wz))


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        raise InvalidInput("too_long")
    return text


async def _submit(conn, svc: Services, who: Who, wz: NewWizard, alert_lang: str) -> str:
    t, lang, d = svc.texts, wz.data["lang"], wz.data
    staff = await org.get_staff(conn, who.user_id)
    if not may_file_for_caller(staff):           # left the organisation file since /new
        await store.delete_wizard(conn, who.user_id)
        return t.label(alert_lang, "new_alert_not_your_wizard")
    filed = await file_ticket(conn, svc, Filing(
        category=d["category"], source=Source(d["source"]), lang=lang, name=d.get("name"), phone=d.get("phone"),
        community_id=d.get("community_id"), community_text=d.get("community_text"), address=d.get("address"),
        description=d.get("description"), external_ref=d.get("reference"), entered_by=who.user_id,
        entered_name=staff.name, filer_chat_id=wz.chat_id,
    ))
    await store.delete_wizard(conn, who.user_id)
    await _say(conn, svc, wz, t.render(lang, "desk.filed", number=filed.number, centre=filed.centre.name(lang) if filed.centre else None))
    return t.label(alert_lang, "new_alert_ok")
