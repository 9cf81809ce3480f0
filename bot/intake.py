"""A resident's report, one short step at a time (Art. 4, 5, 13).

The draft lives in the database, so a restart mid-report loses nothing. Every inline button
carries the draft's nonce: a button from an earlier report, or from a step already answered,
is recognised as stale and answered instead of acted on. Every answer the bot gives goes
through the outbox in the same transaction as the draft change.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot import desk, followup, views
from bot.callbacks import INTAKE_NONE, IntakeStep, IntakeVerb, new_nonce
from bot.outages.common import fit
from bot.payload import Buttons, message
from bot.services import Services, Who
from rules.intake import (
    FREE_TEXT_MAX, InvalidInput, ascii_digits, check_description, is_visible, parse_address, parse_phone, parse_temperature,
)
from storage import drafts, org, users
from storage import outages as outage_store
from storage.drafts import Draft
from storage.outbox import Priority, enqueue_message

__all__ = ["Input", "start_report", "cancel", "handle", "TEMPERATURE_CATEGORIES"]

log = logging.getLogger(__name__)

TEMPERATURE_CATEGORIES = frozenset({"not_warm", "room_temp"})
_ORDER = ("category", "community", "address", "phone", "temperature", "photo", "description", "summary")
_BUTTON_STEPS = {"category", "address_same", "summary", "edit", "outage"}
_EDITABLE = ("category", "community", "phone", "temperature", "photo", "description")


@dataclass(frozen=True)
class Input:
    kind: Literal["text", "button", "contact", "photo", "voice", "other"]
    text: str | None = None
    button: IntakeStep | None = None     # a press whose data did not parse is stale
    photo: str | None = None
    voice: str | None = None


async def _lang(conn, who: Who, svc: Services) -> str:
    return await views.user_lang(conn, svc, who.user_id, who.telegram_lang)


async def _draft_and_lang(conn, who: Who, svc: Services) -> tuple[Draft | None, str]:
    """Both lookups every intake update makes, in one read once the user has a row."""
    found = await drafts.draft_and_language(conn, who.user_id)
    if found is None:
        return await drafts.get_draft(conn, who.user_id), await _lang(conn, who, svc)
    draft, stored, chosen = found
    return draft, views.language_of(svc, stored if chosen else None, who.telegram_lang)


async def _say(conn, svc: Services, who: Who, payload: dict[str, Any]) -> None:
    await enqueue_message(conn, who.chat_id, payload, priority=Priority.STATUS, purpose="reply", now=svc.clock.now())


def _btn(draft: Draft, verb: IntakeVerb, arg: str = "") -> str:
    return IntakeStep(draft.nonce, verb, arg).pack()


async def start_report(svc: Services, who: Who, category: str | None = None) -> None:
    """Begin a report; with ``category`` (the menu's 🥶 button) that question is already answered."""
    async with svc.db.transaction() as conn:
        lang = await _lang(conn, who, svc)
        existing = await drafts.get_draft(conn, who.user_id)
        if existing is not None:
            t = svc.texts
            await _say(conn, svc, who, message(
                t.render(lang, "resident.already_reporting"),
                buttons=[[(t.label(lang, "continue"), _btn(existing, IntakeVerb.CONT))], [(t.label(lang, "restart"), _btn(existing, IntakeVerb.RESTART))]],
            ))
        elif category is not None:
            draft = Draft(who.user_id, new_nonce(), "category", {"category": category})
            await _done(conn, svc, who, lang, draft, "category")
        else:
            draft = Draft(who.user_id, new_nonce(), "category", {})
            await _enter(conn, svc, who, lang, draft, "category")
    svc.wake_sender()


async def cancel(svc: Services, who: Who) -> None:
    async with svc.db.transaction() as conn:
        lang = await _lang(conn, who, svc)
        had = await drafts.get_draft(conn, who.user_id)
        await drafts.delete_draft(conn, who.user_id)
        key = "resident.cancelled" if had else "resident.nothing_to_cancel"
        await _say(conn, svc, who, message(svc.texts.render(lang, key), buttons=views.main_menu(svc, lang), remove_keyboard=False))
    svc.wake_sender()


async def handle(svc: Services, who: Who, inp: Input) -> str | None:
    """One message or button press from a resident in a private chat.

    Returns the text for answering a button press (an alert when the press was refused).
    """
    alert: str | None = None
    async with svc.db.transaction() as conn:
        draft, lang = await _draft_and_lang(conn, who, svc)
        t = svc.texts
        if inp.kind == "button":
            if draft is None or inp.button is None or inp.button.nonce != draft.nonce:
                alert = t.label(lang, "alert_stale")
            else:
                alert = await _on_button(conn, svc, who, lang, draft, inp.button)
        elif draft is None and inp.kind == "text" and await followup.take_text(conn, svc, who, lang, inp.text):
            pass    # a comment on a follow-up, or what is still wrong after a reopen (Art. 8)
        elif draft is None:
            await _say(conn, svc, who, message(t.render(lang, "resident.not_understood"), buttons=views.main_menu(svc, lang)))
        else:
            await _on_message(conn, svc, who, lang, draft, inp)
    svc.wake_sender()
    return alert


async def _on_button(conn, svc: Services, who: Who, lang: str, draft: Draft, button: IntakeStep) -> str | None:
    t = svc.texts
    kind, arg = button.verb, button.arg
    step = draft.step
    if kind == "cancel":
        await drafts.delete_draft(conn, who.user_id)
        await _say(conn, svc, who, message(t.render(lang, "resident.cancelled"), buttons=views.main_menu(svc, lang)))
        return None
    if kind == "cont":
        await _prompt(conn, svc, who, lang, draft)
        return None
    if kind == "restart":
        fresh = Draft(who.user_id, new_nonce(), "category", {})
        await _enter(conn, svc, who, lang, fresh, "category")
        return None
    allowed = {
        "cat": "category", "same": "address_same", "com": "community", "skip": None,
        "confirm": "summary", "edit": "summary", "field": "edit", "outage": "outage",
    }
    if kind not in allowed or (allowed[kind] is not None and allowed[kind] != step):
        await _prompt(conn, svc, who, lang, draft)
        return t.label(lang, "alert_old_question")
    if kind == "cat":
        try:
            svc.policy.category(arg)
        except Exception:
            return t.label(lang, "alert_stale")
        draft.data["category"] = arg
        await _done(conn, svc, who, lang, draft, "category")
    elif kind == "same":
        if arg == "yes":
            # One confirmation for the remembered address and phone together (a returning resident).
            remembered = await users.get_user(conn, who.user_id)
            draft.data.update(
                community_id=remembered.community_id, community_text=remembered.community_text, address=remembered.address,
            )
            if remembered.phone:
                draft.data["phone"] = remembered.phone
            await _done(conn, svc, who, lang, draft, "address")
        else:
            await _enter(conn, svc, who, lang, draft, "community", remembered_ok=False)
    elif kind == "com":
        if arg == INTAKE_NONE:
            await _enter(conn, svc, who, lang, draft, "community_text")
        else:
            community = await org.get_community(conn, arg)
            if community is None:
                return t.label(lang, "alert_stale")
            draft.data.update(community_id=community.id, community_text=None)
            await _done(conn, svc, who, lang, draft, "community")
    elif kind == "skip":
        if arg != step or (step == "description" and _description_required(draft)):
            await _prompt(conn, svc, who, lang, draft)
            return t.label(lang, "alert_old_question")
        draft.data[step] = None
        await _done(conn, svc, who, lang, draft, step)
    elif kind == "confirm":
        number = await desk.create_ticket_from_draft(conn, svc, who, lang, draft)
        return t.label(lang, "alert_submitted", number=number)
    elif kind == "edit":
        await _enter(conn, svc, who, lang, draft, "edit")
    elif kind == "outage":   # heat is off in their community; report anyway or not
        after = await _outage_answer(conn, svc, who, lang, draft, arg)
        if after is not None:
            await _done(conn, svc, who, lang, draft, after)
    elif kind == "field":
        if arg not in _EDITABLE:
            return t.label(lang, "alert_stale")
        draft.data["editing"] = True
        await _enter(conn, svc, who, lang, draft, arg, remembered_ok=False)
    return None


def _description_required(draft: Draft) -> bool:
    # "Other" says nothing by itself; the crew needs a sentence to know what to bring.
    return draft.data.get("category") == "other"


async def _on_message(conn, svc: Services, who: Who, lang: str, draft: Draft, inp: Input) -> None:
    t = svc.texts
    step = draft.step
    if step in ("photo", "summary") and inp.kind in ("photo", "voice", "text"):
        # Photo and description are one optional step: a photo (its caption as the description),
        # a sentence or a voice note, in any order; at the summary one more is added to the report.
        try:
            if inp.kind == "photo":
                draft.data["photo"] = inp.photo
                if inp.text and is_visible(inp.text):
                    draft.data["description"] = check_description(inp.text)
            elif inp.kind == "voice":
                draft.data["voice"] = inp.voice
            else:
                draft.data["description"] = check_description(inp.text or "")
        except InvalidInput as problem:
            await _say(conn, svc, who, message(t.render(lang, "resident.invalid", code=problem.code, **problem.params)))
            await _prompt(conn, svc, who, lang, draft)
            return
        if step == "summary":
            await drafts.save_draft(conn, draft, svc.clock.now())
            await _prompt(conn, svc, who, lang, draft)
        else:
            await _done(conn, svc, who, lang, draft, "photo")
        return
    if step in _BUTTON_STEPS:
        await _say(conn, svc, who, message(t.render(lang, "resident.expected_button")))
        await _prompt(conn, svc, who, lang, draft)
        return
    if step == "photo":
        await _say(conn, svc, who, message(t.render(lang, "resident.expected_photo")))
        await _prompt(conn, svc, who, lang, draft)
        return
    if step == "description" and inp.kind == "voice":
        # A voice note says it as well as a sentence would (an older resident may not type):
        # the crew plays it under the card.
        draft.data["voice"] = inp.voice
        await _done(conn, svc, who, lang, draft, "description")
        return
    if step == "phone" and inp.kind == "contact":
        text = inp.text or ""
    elif inp.kind != "text":
        await _say(conn, svc, who, message(t.render(lang, "resident.expected_text")))
        await _prompt(conn, svc, who, lang, draft)
        return
    else:
        text = inp.text or ""
    try:
        if step == "community":
            if len(text) > FREE_TEXT_MAX:
                raise InvalidInput("too_long", limit=FREE_TEXT_MAX)
            matches = await org.find_communities(conn, text)
            draft.data["query"] = text.strip()
            await drafts.save_draft(conn, draft, svc.clock.now())
            await _say(conn, svc, who, _community_choices(svc, lang, draft, text.strip(), matches))
            return
        if step == "community_text":
            if not is_visible(text) or len(text) > FREE_TEXT_MAX:
                raise InvalidInput("too_long", limit=FREE_TEXT_MAX)
            draft.data.update(community_id=None, community_text=text.strip())
            await _done(conn, svc, who, lang, draft, "community")
        elif step == "address":
            draft.data["address"] = parse_address(text)
            await _done(conn, svc, who, lang, draft, "address")
        elif step == "phone":
            remembered = await users.get_user(conn, who.user_id)
            if remembered and remembered.phone and text == t.label(lang, "use_phone", phone=remembered.phone):
                phone = remembered.phone
            else:
                phone = parse_phone(_strip_country(ascii_digits(text)))
            draft.data["phone"] = phone
            await _say(conn, svc, who, message(t.render(lang, "resident.phone_ok", phone=phone), remove_keyboard=True))
            await _done(conn, svc, who, lang, draft, "phone")
        elif step == "temperature":
            draft.data["temperature"] = parse_temperature(text)
            await _done(conn, svc, who, lang, draft, "temperature")
        elif step == "description":
            draft.data["description"] = check_description(text)
            await _done(conn, svc, who, lang, draft, "description")
    except InvalidInput as problem:
        await _say(conn, svc, who, message(t.render(lang, "resident.invalid", code=problem.code, **problem.params)))
        await _prompt(conn, svc, who, lang, draft)


def _strip_country(text: str) -> str:
    # Telegram hands over a shared contact's number as 8613800000000, with no plus.
    digits = text.strip()
    if digits.startswith("86") and len(digits) == 13:
        return digits[2:]
    return digits


def _community_choices(svc: Services, lang: str, draft: Draft, query: str, matches) -> dict[str, Any]:
    t = svc.texts
    rows: Buttons = [[(m.name(lang), _btn(draft, IntakeVerb.COM, m.id))] for m in matches]
    rows.append([(t.label(lang, "not_listed"), _btn(draft, IntakeVerb.COM, INTAKE_NONE))])
    key = "resident.community_matches" if matches else "resident.community_none"
    return message(t.render(lang, key, query=query), buttons=rows)


def _next_step(draft: Draft, done: str) -> str:
    data = draft.data
    needs_temperature = data.get("category") in TEMPERATURE_CATEGORIES
    if data.get("editing"):
        if done == "community":
            return "address"
        if done == "category" and needs_temperature and "temperature" not in data:
            return "temperature"
        return "summary"
    step = _ORDER[_ORDER.index(done) + 1]
    if step == "phone" and data.get("phone"):
        step = "temperature"          # confirmed with the remembered address
    if step == "temperature" and not needs_temperature:
        step = "photo"
    if step == "description" and (data.get("description") or data.get("voice") or not _description_required(draft)):
        step = "summary"              # said with the photo step, or nothing more is needed
    return step


async def _done(conn, svc: Services, who: Who, lang: str, draft: Draft, step: str) -> None:
    if step in ("community", "address") and await _outage_check(conn, svc, who, lang, draft, step):
        return   # the community is under an active outage; the resident is asked first
    await _enter(conn, svc, who, lang, draft, _next_step(draft, step))


async def _enter(conn, svc: Services, who: Who, lang: str, draft: Draft, step: str, remembered_ok: bool = True) -> None:
    if step == "community" and remembered_ok and not draft.data.get("editing"):
        remembered = await users.get_user(conn, who.user_id)
        if remembered and remembered.address and (remembered.community_id or remembered.community_text):
            step = "address_same"
    if step == "summary":
        draft.data.pop("editing", None)
    draft.step = step
    await drafts.save_draft(conn, draft, svc.clock.now())
    await _prompt(conn, svc, who, lang, draft)


async def _prompt(conn, svc: Services, who: Who, lang: str, draft: Draft) -> None:
    """(Re)send the question of the draft's current step."""
    t = svc.texts
    step = draft.step
    cancel_row = [(t.label(lang, "cancel"), _btn(draft, IntakeVerb.CANCEL))]
    if step == "category":
        rows: Buttons = [[(c.label(lang), _btn(draft, IntakeVerb.CAT, c.code))] for c in svc.policy.categories.values()]
        payload = message(t.render(lang, "resident.ask_category"), buttons=rows + [cancel_row])
    elif step == "address_same":
        remembered = await users.get_user(conn, who.user_id)
        place = await views.place_name(conn, lang, remembered.community_id, remembered.community_text)
        payload = message(
            t.render(lang, "resident.ask_same_address", place=place, address=remembered.address, phone=remembered.phone),
            buttons=[[(t.label(lang, "same_address"), _btn(draft, IntakeVerb.SAME, "yes"))], [(t.label(lang, "other_address"), _btn(draft, IntakeVerb.SAME, "no"))], cancel_row],
        )
    elif step == "community":
        payload = message(t.render(lang, "resident.ask_community"), buttons=[cancel_row])
    elif step == "community_text":
        payload = message(t.render(lang, "resident.ask_community_text"), buttons=[cancel_row])
    elif step == "address":
        place = await views.place_name(conn, lang, draft.data.get("community_id"), draft.data.get("community_text"))
        payload = message(t.render(lang, "resident.ask_address", place=place), buttons=[cancel_row])
    elif step == "phone":
        remembered = await users.get_user(conn, who.user_id)
        keyboard = [[{"text": t.label(lang, "share_phone"), "request_contact": True}]]
        if remembered and remembered.phone:
            keyboard.append([{"text": t.label(lang, "use_phone", phone=remembered.phone)}])
        payload = message(t.render(lang, "resident.ask_phone"), reply_keyboard=keyboard)
    elif step == "temperature":
        payload = message(t.render(lang, "resident.ask_temperature"), buttons=[[(t.label(lang, "skip"), _btn(draft, IntakeVerb.SKIP, step))], cancel_row])
    elif step == "photo":
        payload = message(t.render(lang, "resident.ask_photo"), buttons=[[(t.label(lang, "skip"), _btn(draft, IntakeVerb.SKIP, step))], cancel_row])
    elif step == "description":
        required = _description_required(draft)
        rows = [] if required else [[(t.label(lang, "skip"), _btn(draft, IntakeVerb.SKIP, step))]]
        payload = message(t.render(lang, "resident.ask_description", required=required), buttons=rows + [cancel_row])
    elif step == "summary":
        summary = await desk.draft_summary(conn, svc, lang, draft)
        payload = message(
            t.render(lang, "resident.summary", **summary),
            buttons=[[(t.label(lang, "confirm"), _btn(draft, IntakeVerb.CONFIRM))], [(t.label(lang, "edit"), _btn(draft, IntakeVerb.EDIT))], cancel_row],
        )
    elif step == "outage":
        payload = await _outage_prompt(conn, svc, lang, draft)
    elif step == "edit":
        needs_temperature = draft.data.get("category") in TEMPERATURE_CATEGORIES
        rows = [[(t.label(lang, f"field_{f}"), _btn(draft, IntakeVerb.FIELD, f))] for f in _EDITABLE if f != "temperature" or needs_temperature]
        payload = message(t.render(lang, "resident.ask_edit"), buttons=rows + [cancel_row])
    else:  # a draft from an older version of the bot: start it again rather than strand it
        log.warning("draft in unknown step %s; restarting", step)
        draft.step = "category"
        await drafts.save_draft(conn, draft, svc.clock.now())
        await _prompt(conn, svc, who, lang, draft)
        return
    await _say(conn, svc, who, payload)


# ------------------------------------------------------------------ outage-aware intake


async def _outage_check(conn, svc: Services, who: Who, lang: str, draft: Draft, after: str) -> bool:
    """The outage-aware intake: a "home not warm" report from a community whose heat is off
    is answered with the notice first. True if the question was asked (the draft waits in the
    ``outage`` step; ``after`` is the step to carry on from)."""
    data = draft.data
    if data.get("category") != "not_warm" or not data.get("community_id") or "outage_seen" in data:
        return False
    o = await outage_store.active_for_community(conn, data["community_id"], svc.clock.now())
    if o is None:
        return False
    data["outage_seen"] = o.id
    data["outage_after"] = after
    draft.step = "outage"
    await drafts.save_draft(conn, draft, svc.clock.now())
    await enqueue_message(conn, who.chat_id, await _outage_prompt(conn, svc, lang, draft), priority=Priority.STATUS,
                          purpose="reply", now=svc.clock.now())
    return True


async def _outage_prompt(conn, svc: Services, lang: str, draft: Draft) -> dict[str, Any]:
    """The notice and its expected restoration, with Report anyway / No report."""
    t = svc.texts
    o = await outage_store.get_outage(conn, draft.data["outage_seen"])
    n = await views.notice_context(conn, lang, o)
    text = fit(svc, lang, "intake_notice", n)[-1]
    return message(text, buttons=[
        [(t.label(lang, "outage_btn_file_anyway"), _btn(draft, IntakeVerb.OUTAGE, "file"))],
        [(t.label(lang, "outage_btn_no_report"), _btn(draft, IntakeVerb.OUTAGE, "drop"))],
    ])


async def _outage_answer(conn, svc: Services, who: Who, lang: str, draft: Draft, answer: str) -> str | None:
    """The resident's choice. Returns the step to carry on from when they report anyway (the
    ticket will be linked to the outage); None when they dropped the report."""
    data = draft.data
    if answer == "file":
        data["outage_id"] = data.get("outage_seen")
        return data.pop("outage_after", "community")
    await drafts.delete_draft(conn, who.user_id)
    if data.get("community_id"):
        await outage_store.subscribe(conn, who.user_id, who.chat_id, data["community_id"], lang, svc.clock.now())
    await enqueue_message(conn, who.chat_id, message(svc.texts.render(lang, "outage.intake_dropped"), buttons=views.main_menu(svc, lang)),
                          priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    return None
