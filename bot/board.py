"""The dispatch board's domain side: logging in (a one-time link from the bot, or Telegram's
Mini App data), who is looking, the open-ticket list, one ticket's page, and the board's
actions.

Every action is the press of the very button a dispatcher would press in Telegram: the board
finds the message that carries it and calls the same desk function with that chat and
message, so the authorisation, the ledger event and the messages are the button's own. The
ledger rows it writes say ``"via": "board"`` (storage.tickets.ACTING_VIA).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import clockwork, views
from bot.callbacks import Acknowledge, CardRequest, Choice, Decision, RequestVerb
from bot.payload import message
from bot.services import Services, Who
from bot.workflows import on_button, on_decision
from bot.workflows.common import clip
from bot.workflows.decisions import close_out_of_scope
from rules.board import (
    LOGIN_LINK_LIFE, SESSION_LIFE, SOON, InitDataRefused, Scope, check_init_data, may_use_board_actions,
    new_token, parse_filters, scope_of, token_hash,
)
from rules.org import Staff
from rules.roles import may_acknowledge, may_assign, may_decide_request, may_override, may_see_contact
from rules.tickets import Status
from storage import board, org, requests, tickets
from storage.outbox import Priority, enqueue_message
from storage.timestamps import to_iso

__all__ = [
    "Viewer", "Refused", "send_login_link", "login_link", "redeem_link", "webapp_login", "viewer_of", "list_view", "ticket_view", "photo_of",
    "act", "ACTIONS", "BoardChanges",
]

log = logging.getLogger(__name__)


class Refused(Exception):
    """The board refuses: ``status`` is the HTTP status (401: log in; 403: not yours; 404)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    staff: Staff
    scope: Scope
    lang: str
    csrf: str

    @property
    def may_act(self) -> bool:
        return may_use_board_actions(self.staff)


async def send_login_link(svc: Services, who: Who, base_url: str | None) -> None:
    """``/board`` in a private chat: staff get a one-time login link (5 minutes, one use);
    anyone else is told the board is for staff."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        staff = await org.get_staff(conn, who.user_id)
        if scope_of(staff) is None:
            text = svc.texts.render(lang, "board.staff_only")
        elif base_url is None:
            text = svc.texts.render(lang, "board.no_web")
        else:
            url = await _new_login(conn, who.user_id, lang, base_url, now)
            text = svc.texts.render(lang, "board.login_link", url=url, minutes=int(LOGIN_LINK_LIFE.total_seconds() // 60))
        await enqueue_message(conn, who.chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=now)
    svc.wake_sender()


async def _new_login(conn, user_id: int, lang: str, base_url: str, now: datetime) -> str:
    token = new_token()
    await board.add_login(conn, token_hash(token), user_id, lang, now, now + LOGIN_LINK_LIFE)
    return f"{base_url.rstrip('/')}/board/login?t={token}"


async def login_link(svc: Services, user_id: int, base_url: str) -> str:
    """A one-time login link for staff member ``user_id``, not sent anywhere (the demo prints
    it for the person watching)."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        if scope_of(await org.get_staff(conn, user_id)) is None:
            raise Refused(403, "not_staff")
        return await _new_login(conn, user_id, await views.user_lang(conn, svc, user_id, None), base_url, now)


async def _open_session(conn, svc: Services, user_id: int, via: str, lang: str, now: datetime) -> str:
    token = new_token()
    await board.forget_expired(conn, now)
    await board.add_session(conn, token_hash(token), user_id, new_token(), via, lang, now, now + SESSION_LIFE)
    return token


async def redeem_link(svc: Services, token: str) -> str:
    """A login link's session token; :class:`Refused` (403) for an unknown, used or old link."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        redeemed = await board.redeem_login(conn, token_hash(token), now)
        if redeemed is None or scope_of(await org.get_staff(conn, redeemed[0])) is None:
            raise Refused(403, "link")
        return await _open_session(conn, svc, redeemed[0], "link", redeemed[1], now)


async def webapp_login(svc: Services, init_data: str, bot_token: str) -> str:
    """Telegram's Mini App data, checked as Telegram documents, to a session token."""
    now = svc.clock.now()
    try:
        user = check_init_data(init_data, bot_token, now)
    except InitDataRefused as refused:
        log.info("Mini App data refused: %s", refused.reason)
        raise Refused(401, "init_data") from None
    async with svc.db.transaction() as conn:
        if scope_of(await org.get_staff(conn, user.user_id)) is None:
            raise Refused(403, "not_staff")
        lang = await views.user_lang(conn, svc, user.user_id, user.language_code)
        return await _open_session(conn, svc, user.user_id, "webapp", lang, now)


async def viewer_of(svc: Services, session_token: str | None) -> Viewer:
    """Who holds this session, as the staff registry says now (a member removed since logging
    in sees nothing more)."""
    if not session_token:
        raise Refused(401, "no_session")
    async with svc.db.transaction() as conn:
        session = await board.get_session(conn, token_hash(session_token), svc.clock.now())
        if session is None:
            raise Refused(401, "session")
        staff = await org.get_staff(conn, session.user_id)
        scope = scope_of(staff)
        if scope is None:
            raise Refused(403, "not_staff")
    return Viewer(staff, scope, session.lang, session.csrf)


def _visible(viewer: Viewer, centre_id: str | None) -> bool:
    return viewer.scope.all_centres or centre_id == viewer.scope.centre_id


async def _names(conn, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    centres = {c.id: c.name(lang) for c in await org.list_centres(conn)}
    communities = {c.id: c.name(lang) for c in await org.list_communities(conn)}
    return centres, communities


async def list_view(svc: Services, viewer: Viewer, query: dict[str, str]) -> dict[str, Any]:
    """The open tickets the viewer may see, filtered, soonest limit first, as compact rows for
    the page's script (a season's 5,000 open tickets must list in well under 200 ms): [number,
    category, level, state, centre, place, address, holder, limit kind, due (epoch seconds),
    flags], with the names the codes stand for alongside. ``query``: the page's filters."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        rows = await board.open_rows(conn, None if viewer.scope.all_centres else viewer.scope.centre_id)
        centres, communities = await _names(conn, viewer.lang)
    filters = parse_filters(query, set(centres))
    t, lang = svc.texts, viewer.lang
    # Stored times are UTC ISO text, which orders as time does: no parsing to sort or filter.
    soon = to_iso(now + SOON)
    rows.sort(key=lambda r: (r.next_due or "~", r.id))
    items = []
    for r in rows:
        if filters.centre and r.centre_id != filters.centre or filters.level and r.level != filters.level \
                or filters.state and r.status != filters.state:
            continue
        if filters.urgent and (r.next_due is None or r.next_due > soon):
            continue
        due = int(datetime.fromisoformat(r.next_due).timestamp()) if r.next_due else None
        flags = r.delayed | r.returned << 1 | r.reopened << 2 | r.pending << 3
        items.append([r.id, r.category, r.level, r.status, r.centre_id or "", r.community_id or r.community_text or "",
                      r.address or "", r.holder or "", r.next_kind or "", due, flags])
    names = {
        "categories": {code: svc.policy.category(code).label(lang) for code in svc.policy.categories},
        "centres": centres,
        "places": communities,
        "limits": {kind: t.label(lang, f"limit_{kind}") for kind in ("accept", "onsite", "close", "report")},
        "tz": svc.tz.key,
    }
    visible_centres = {k: v for k, v in centres.items() if viewer.scope.all_centres or k == viewer.scope.centre_id}
    return {"data": {"now": int(now.timestamp() * 1000), "rows": items, "total": len(rows), "names": names},
            "centres": visible_centres, "filters": filters}


async def _visible_ticket(conn, viewer: Viewer, number: int) -> tickets.Ticket:
    ticket = await tickets.get_ticket(conn, number)
    if ticket is None or not _visible(viewer, ticket.centre_id):
        raise Refused(404, "ticket")
    return ticket


async def photo_of(svc: Services, viewer: Viewer, number: int) -> str | None:
    """The Telegram file id of a ticket's photo, for a viewer who may see the ticket."""
    async with svc.db.transaction() as conn:
        return (await _visible_ticket(conn, viewer, number)).photo_file_id


async def ticket_view(svc: Services, viewer: Viewer, number: int) -> dict[str, Any]:
    """One ticket: its card as the group reads it, the photo, the ledger, and the actions this
    viewer may take on it now."""
    async with svc.db.transaction() as conn:
        ticket = await _visible_ticket(conn, viewer, number)
        staff = viewer.staff
        show_contact = may_see_contact(staff, ticket.centre_id)
        card = svc.texts.render(viewer.lang, "staff.card", **await views.card_context(conn, svc, viewer.lang, ticket, show_contact))
        events = [{"at": e.at, "name": svc.texts.render(viewer.lang, "staff.event_name", kind=e.kind), "actor": e.actor or "",
                   "via_board": e.detail.get("via") == "board"} for e in await tickets.list_events(conn, ticket.id)]
        actions: dict[str, Any] = {}
        if viewer.may_act and ticket.status != Status.CLOSED:
            if may_decide_request(staff):
                pending = [r for kind in ("delay", "return") for r in await requests.open_of(conn, ticket.id, kind)
                           if r.status == "pending"]
                actions["requests"] = [{"id": r.id, "kind": r.kind, "reason": r.reason or "", "new_due": r.new_due_at,
                                        "limit": svc.texts.label(viewer.lang, f"limit_{r.deadline_kind}") if r.deadline_kind else ""}
                                       for r in pending]
            if may_assign(staff, ticket.centre_id):
                actions["assign"] = True
            if may_override(staff):
                actions["override"] = {"levels": ["major", "general"],
                                       "categories": [(code, svc.policy.category(code).label(viewer.lang))
                                                      for code in svc.policy.categories]}
            if may_acknowledge(staff, ticket.centre_id):
                actions["alerts"] = [{"id": a, "kind": k} for a, k in await board.open_alerts(conn, ticket.id)]
        centres = [(c.id, c.name(viewer.lang)) for c in await org.list_centres(conn) if c.id != ticket.centre_id]
    return {
        "ticket": ticket, "number": ticket.number, "card": card, "events": events, "actions": actions,
        "centres": centres, "has_photo": ticket.photo_file_id is not None,
    }


ACTIONS = ("approve", "reject", "transfer", "scope", "refuse_return", "assign", "level", "category", "ack")


async def act(svc: Services, viewer: Viewer, number: int, action: str, form: dict[str, str]) -> str:
    """One board action on ticket ``number``: the Telegram button's own function, pressed on the
    message that carries the button, recorded "via board". Returns what the button's answer
    would have said."""
    if action not in ACTIONS or not viewer.may_act:
        raise Refused(403, "action")
    async with svc.db.transaction() as conn:
        ticket = await tickets.get_ticket(conn, number)
        if ticket is None or not _visible(viewer, ticket.centre_id):
            raise Refused(404, "ticket")
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        press: tuple[int, int] | None = None
        data: Any = None
        if action in ("approve", "reject", "transfer", "scope", "refuse_return"):
            request_id = _int(form.get("request"))
            choice = {"approve": Choice.OK, "reject": Choice.NO, "refuse_return": Choice.NO, "scope": Choice.SCOPE,
                      "transfer": Choice.TRANSFER}[action]
            centre = form.get("centre") if action == "transfer" else None
            explanation = clip(form.get("explanation") or "")
            if request_id is None or (action == "transfer" and not centre) or (action == "scope" and not explanation):
                raise Refused(400, "form")
            try:
                data = Decision(request_id, choice, centre)
            except ValueError:
                raise Refused(400, "form") from None
            # The very button on dispatch's decision message: a centre it does not offer is no press.
            press = await board.message_with_button(conn, ticket.id, data.pack())
        elif action == "assign":
            data = CardRequest(ticket.id, RequestVerb.ASSIGN)
            # A card is drawn when it is sent, so its buttons are not in the outbox: the live card is the ticket's.
            if ticket.card_chat_id is not None and ticket.card_message_id is not None:
                press = (ticket.card_chat_id, ticket.card_message_id)
        elif action == "ack":
            alert_id = _int(form.get("alert"))
            if alert_id is None:
                raise Refused(400, "form")
            data = Acknowledge(alert_id)
            press = await board.message_with_button(conn, ticket.id, data.pack())
        elif dispatch is not None:       # level, category: the /level and /category commands, in dispatch's group
            press = (dispatch, 0)
    if press is None:
        return svc.texts.label(viewer.lang, "alert_stale")
    who = Who(user_id=viewer.staff.user_id, chat_id=press[0], name=viewer.staff.name, telegram_lang=viewer.lang)
    token = tickets.ACTING_VIA.set("board")
    try:
        if action in ("level", "category"):
            value = (form.get("value") or "").strip().lower()
            await clockwork.override(svc, who, press[0], ticket.id, ticket.number, action, value)
            return svc.texts.label(viewer.lang, "alert_ok")
        if action == "assign":
            return await on_button(svc, who, data, *press)
        if action == "ack":
            return await clockwork.acknowledge(svc, who, data, *press)
        answer = await on_decision(svc, who, data, *press)
        if action == "scope":
            # Art. 6: the explanation the group prompt asks for, given on the board at once.
            return await _explain_out_of_scope(svc, viewer, data.request_id, press[0], clip(form["explanation"])) or answer
        return answer
    finally:
        tickets.ACTING_VIA.reset(token)


async def _explain_out_of_scope(svc: Services, viewer: Viewer, request_id: int, chat_id: int, explanation: str) -> str | None:
    """What a dispatcher's reply to the explanation prompt does (bot.workflows.crew.answer_prompt):
    the ticket closes as out of scope and the resident is told why."""
    async with svc.db.transaction() as conn:
        req = await requests.get(conn, request_id)
        staff = await org.get_staff(conn, viewer.staff.user_id)
        if req is None or req.status != "approved" or req.outcome != "out_of_scope" or not may_decide_request(staff):
            return None
        ticket = await tickets.get_ticket(conn, req.ticket_id)
        await close_out_of_scope(conn, svc, staff, req, ticket, chat_id, explanation, svc.clock.now())
    svc.wake_sender()
    return svc.texts.label(viewer.lang, "wf_what_out_of_scope")


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 12 else None


class BoardChanges:
    """One watcher per web server: while a page is connected, it waits for this process's next
    commit (or a second, for a change made by another process on the same file), reads the
    cheap change marker and, when it moved, wakes every connected page (:meth:`changed` is set,
    then replaced). With no page connected it reads nothing, so the board costs the desk
    nothing when nobody looks; reads are at least ``spacing`` apart, so a burst of commits (a
    surge of reports) costs one read per ``spacing``, not one per commit."""

    def __init__(self, svc_of: Callable[[], Services | None], spacing: float = 0.05, fallback: float = 1.0) -> None:
        self._svc_of = svc_of          # the bot's services once started
        self._spacing, self._fallback = spacing, fallback
        self.version = 0
        self._changed = asyncio.Event()
        self._marker: tuple[int, ...] | None = None
        self._pages = 0
        self._someone = asyncio.Event()

    def changed(self) -> asyncio.Event:
        return self._changed

    def page_opened(self) -> None:
        self._pages += 1
        self._someone.set()

    def page_closed(self) -> None:
        self._pages -= 1
        if self._pages == 0:
            self._someone.clear()
            self._marker = None        # read afresh when the next page connects

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        commit: asyncio.Event | None = None
        last_read = float("-inf")
        while True:
            await self._someone.wait()
            svc = self._svc_of()
            if svc is None:
                await asyncio.sleep(0.2)
                continue
            if commit is not None:
                try:
                    await asyncio.wait_for(commit.wait(), self._fallback)
                except TimeoutError:
                    pass
                # A lone change is read at once; a burst of commits waits out the spacing and is read once.
                await asyncio.sleep(max(0.0, last_read + self._spacing - loop.time()))
            try:
                async with svc.db.transaction() as conn:
                    marker = await board.change_marker(conn)
            except Exception:
                # A busy or failing database must not end the board's updates for good.
                log.exception("the board could not read what changed; trying again")
                await asyncio.sleep(1.0)
                continue
            last_read = loop.time()
            # Taken after our own read committed, so that commit does not wake us again.
            commit = svc.db.next_commit()
            if self._marker is not None and marker != self._marker:
                self.version += 1
                done, self._changed = self._changed, asyncio.Event()
                done.set()
            self._marker = marker
