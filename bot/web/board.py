"""The dispatch board over HTTP, under ``/board/`` (the domain side is bot/board.py).

    GET  /board/                 the live list (or, without a session, the page that logs a Mini App in)
    GET  /board/login?t=...      a one-time link from ``/board`` in the bot: sets the session cookie
    POST /board/webapp           Telegram's Mini App ``initData``: sets the session cookie
    GET  /board/rows.json        the list's rows alone (the page fetches them when told of a change)
    GET  /board/events           server-sent events: ``change`` whenever what the board shows changed
    GET  /board/t/{number}       one ticket: card, photo, ledger, actions
    POST /board/t/{number}/{action}   an action (CSRF token in the form)
    GET  /board/t/{number}/photo the resident's photo, fetched from Telegram by the bot
    GET  /board/figures          the second tab: today's and this week's per-centre figures
    GET  /board/figures/{period}.png   that period's on-time chart (drawn off the loop, kept a minute)
    GET  /board/outages          the third tab: outages in progress with their progress
    GET  /board/static/{name}    the page's CSS and JavaScript (served here: no CDN)

Pages are Jinja2 templates in templates/board/ with their words in templates/<lang>/board.toml.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot import board, board_tabs
from bot.board import BoardChanges, Refused, Viewer
from bot.config import LANGUAGES
from bot.texts import TEMPLATES_DIR
from bot.web.common import APP_KEY, services
from rules.board import SESSION_LIFE

__all__ = ["add_routes", "COOKIE", "CHANGES_KEY", "PUBLIC_URL_KEY", "FIGURES_KEY"]

log = logging.getLogger(__name__)

COOKIE = "heatbot_board"
STATIC_DIR = Path(__file__).resolve().parent / "static"
CHANGES_KEY = web.AppKey("board_changes", BoardChanges)
PUBLIC_URL_KEY = web.AppKey("public_url", object)
FIGURES_KEY = web.AppKey("board_figures", board_tabs.Figures)
_CLOSING_KEY = web.AppKey("board_closing", asyncio.Event)
_TASK_KEY = web.AppKey("board_task", object)
_STATIC = {"board.js": "text/javascript", "board.css": "text/css"}
# The page may be shown inside Telegram's web client; everything else it loads is our own.
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org; form-action 'self'; base-uri 'none'")
_KEEPALIVE = 15.0


class _Pages:
    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES_DIR / "board"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.words = {lang: tomllib.loads((TEMPLATES_DIR / lang / "board.toml").read_text(encoding="utf-8"))
                      for lang in LANGUAGES}

    def render(self, name: str, lang: str, tz, **ctx: Any) -> str:
        def when(value: datetime | date | None) -> str:
            if isinstance(value, date) and not isinstance(value, datetime):
                return f"{value.month}月{value.day}日" if lang == "zh" else f"{value.day}/{value.month}"
            if value is None:
                return ""
            local = value.astimezone(tz)
            return f"{local.month}月{local.day}日 {local:%H:%M}" if lang == "zh" else f"{local.day}/{local.month} {local:%H:%M}"

        return self.env.get_template(name).render(L=self.words[lang], lang=lang, when=when, **ctx)


_PAGES = _Pages()


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


def _refusal(request: web.Request, refused: Refused) -> web.Response:
    svc = services(request)
    lang = svc.default_lang if svc else "zh"
    tz = svc.tz if svc else None
    return _html(_PAGES.render("refused.html", lang, tz, status=refused.status, reason=refused.reason), refused.status)


def _set_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    public = request.app[PUBLIC_URL_KEY]
    secure = request.secure or (isinstance(public, str) and public.startswith("https://"))
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFE.total_seconds()), path="/board", httponly=True,
                        samesite="Strict", secure=secure)


async def _viewer(request: web.Request) -> Viewer:
    svc = services(request)
    if svc is None:
        raise Refused(503, "not_ready")
    return await board.viewer_of(svc, request.cookies.get(COOKIE))


async def index(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
    except Refused as refused:
        if refused.status != 401:
            return _refusal(request, refused)
        # No session: the page logs a Mini App in with Telegram's data, or says how to get a link.
        lang = svc.default_lang if svc else "zh"
        return _html(_PAGES.render("welcome.html", lang, svc.tz if svc else None), 200)
    return _html(await _list_page(request, viewer))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_in_html(value: Any) -> Markup:
    """JSON inside a ``<script type="application/json">``: nothing in it can close the element."""
    return Markup(_json(value).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


async def _list_page(request: web.Request, viewer: Viewer) -> str:
    svc = services(request)
    view = await board.list_view(svc, viewer, dict(request.query))
    return _PAGES.render("list.html", viewer.lang, svc.tz, viewer=viewer, tab="list", query=urlencode(view["filters"].query()),
                         data_json=_json_in_html(view["data"]), centres=view["centres"], filters=view["filters"])


async def figures_page(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
    except Refused as refused:
        return _refusal(request, refused)
    view = await request.app[FIGURES_KEY].view(svc, viewer)
    return _html(_PAGES.render("figures.html", viewer.lang, svc.tz, viewer=viewer, tab="figures",
                               pct=_percent, **view))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


async def chart(request: web.Request) -> web.Response:
    try:
        viewer = await _viewer(request)
        png = await request.app[FIGURES_KEY].png(services(request), viewer, request.match_info["period"])
    except Refused as refused:
        return web.Response(status=refused.status)
    except KeyError:
        return web.Response(status=404)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": f"private, max-age={int(board_tabs.CHART_LIFE.total_seconds())}",
                                 "X-Content-Type-Options": "nosniff"})


async def outages_page(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
    except Refused as refused:
        return _refusal(request, refused)
    view = await board_tabs.outages_view(svc, viewer)
    return _html(_PAGES.render("outages.html", viewer.lang, svc.tz, viewer=viewer, tab="outages", **view))


async def rows(request: web.Request) -> web.Response:
    try:
        viewer = await _viewer(request)
    except Refused as refused:
        return web.Response(status=refused.status)
    view = await board.list_view(services(request), viewer, dict(request.query))
    return web.Response(text=_json(view["data"]), content_type="application/json", headers={"Cache-Control": "no-store"})


async def login(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    if svc is None:
        return _refusal(request, Refused(503, "not_ready"))
    try:
        token = await board.redeem_link(svc, request.query.get("t", "")[:100])
    except Refused as refused:
        return _refusal(request, refused)
    response = web.Response(status=303, headers={"Location": "/board/", "Cache-Control": "no-store"})
    _set_session(request, response, token)
    return response


async def webapp(request: web.Request) -> web.Response:
    svc = services(request)
    if svc is None:
        return web.json_response({"ok": False}, status=503)
    if request.content_length is not None and request.content_length > 8192:
        return web.json_response({"ok": False}, status=413)
    form = await request.post()
    try:
        token = await board.webapp_login(svc, str(form.get("init_data", "")), request.app[APP_KEY].bot.token)
    except Refused as refused:
        return web.json_response({"ok": False, "reason": refused.reason}, status=refused.status)
    response = web.json_response({"ok": True})
    _set_session(request, response, token)
    return response


async def events(request: web.Request) -> web.StreamResponse:
    try:
        await _viewer(request)
    except Refused as refused:
        return web.Response(status=refused.status)
    changes = request.app[CHANGES_KEY]
    closing = request.app[_CLOSING_KEY]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    changes.page_opened()
    try:
        await _stream(response, changes, closing)
    finally:
        changes.page_closed()
    return response


async def _stream(response: web.StreamResponse, changes: BoardChanges, closing: asyncio.Event) -> None:
    while not closing.is_set():
        changed = changes.changed()
        waiters = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(closing.wait())]
        try:
            await asyncio.wait(waiters, timeout=_KEEPALIVE, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if closing.is_set():
            break
        line = f"event: change\ndata: {changes.version}\n\n" if changed.is_set() else ": still here\n\n"
        try:
            await response.write(line.encode())
        except (ConnectionResetError, RuntimeError):
            break


def _number(request: web.Request) -> int:
    text = request.match_info["number"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise Refused(404, "ticket")
    return int(text)


async def ticket(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
        view = await board.ticket_view(svc, viewer, _number(request))
    except Refused as refused:
        return _refusal(request, refused)
    return _html(_PAGES.render("ticket.html", viewer.lang, svc.tz, viewer=viewer, answer=None, **view))


async def action(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
        if request.content_length is not None and request.content_length > 8192:
            raise Refused(413, "form")
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not hmac.compare_digest(form.get("csrf", ""), viewer.csrf):
            raise Refused(403, "csrf")
        number = _number(request)
        answer = await board.act(svc, viewer, number, request.match_info["action"], form)
        view = await board.ticket_view(svc, viewer, number)
    except Refused as refused:
        return _refusal(request, refused)
    return _html(_PAGES.render("ticket.html", viewer.lang, svc.tz, viewer=viewer, answer=answer, **view))


async def photo(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        viewer = await _viewer(request)
        file_id = await board.photo_of(svc, viewer, _number(request))
    except Refused as refused:
        return web.Response(status=refused.status)
    if file_id is None:
        return web.Response(status=404)
    bot = request.app[APP_KEY].bot
    data = await (await bot.get_file(file_id)).download_as_bytearray()
    return web.Response(body=bytes(data), content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _STATIC:
        return web.Response(status=404)
    return web.Response(body=(STATIC_DIR / name).read_bytes(), content_type=_STATIC[name],
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def _start_watcher(app: web.Application) -> None:
    app[_TASK_KEY] = asyncio.ensure_future(app[CHANGES_KEY].run())


async def _closing(app: web.Application) -> None:
    app[_CLOSING_KEY].set()        # open event streams end, so the server stops at once


async def _stop_watcher(app: web.Application) -> None:
    task = app[_TASK_KEY]
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("the board's change watcher had failed")


async def _to_board(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "/board/"})


def add_routes(app: web.Application, public_url: str | None) -> None:
    app[CHANGES_KEY] = BoardChanges(lambda: app[APP_KEY].bot_data.get("svc"))
    app[_CLOSING_KEY] = asyncio.Event()
    app[FIGURES_KEY] = board_tabs.Figures()
    app[PUBLIC_URL_KEY] = public_url
    app.on_startup.append(_start_watcher)
    app.on_shutdown.append(_closing)
    app.on_cleanup.append(_stop_watcher)
    app.router.add_get("/board", _to_board)
    app.router.add_get("/board/", index)
    app.router.add_get("/board/login", login)
    app.router.add_post("/board/webapp", webapp)
    app.router.add_get("/board/rows.json", rows)
    app.router.add_get("/board/events", events)
    app.router.add_get("/board/t/{number}", ticket)
    app.router.add_post("/board/t/{number}/{action}", action)
    app.router.add_get("/board/t/{number}/photo", photo)
    app.router.add_get("/board/figures", figures_page)
    app.router.add_get("/board/figures/{period}.png", chart)
    app.router.add_get("/board/outages", outages_page)
    app.router.add_get("/board/static/{name}", static)
