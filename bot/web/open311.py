"""The Open311 GeoReport v2 API over HTTP (the desk's side is bot/georeport.py).

    GET  /open311/v2/services.json
    POST /open311/v2/requests.json           form-encoded, as the standard says
    GET  /open311/v2/requests.json           ?service_request_id=a,b | start_date, end_date, status
    GET  /open311/v2/requests/{id}.json

Every answer is JSON; every refusal is the standard's ``[{"code": <status>, "description":
"..."}]`` with that HTTP status, in the requested ``locale``. Only JSON is served: a ``.xml``
path is not found. Route handlers stay thin: read the request, call one function, answer.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot import georeport
from bot.services import Services
from bot.web.common import LIMITER_KEY, services
from rules.desk import RateLimiter
from rules.open311 import BODY_MAX, ApiRefusal, parse_form, parse_ids, parse_request, parse_request_id
from rules.policy import parse_local_time

__all__ = ["add_routes", "new_limiter", "BODY_MAX", "PREFIX", "BURST", "PER_SECOND"]

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
# Per key: a platform catching up after an outage may send a burst; a steady stream of more
# than two a second is not a hotline's pace but a loop gone wrong.
BURST = 20
PER_SECOND = 2.0
_FORM = "application/x-www-form-urlencoded"


def new_limiter() -> RateLimiter:
    return RateLimiter(BURST, PER_SECOND)


def _refusal(svc: Services | None, lang: str, refusal: ApiRefusal) -> web.Response:
    if svc is not None:
        description = svc.texts.label(lang, f"api_error_{refusal.reason}", **refusal.params)
    else:
        description = refusal.reason
    headers = {"Retry-After": str(refusal.params["seconds"])} if refusal.status == 429 else None
    return web.json_response([{"code": refusal.status, "description": description}], status=refusal.status, headers=headers)


Route = Callable[[web.Request, Services, str], Awaitable[Any]]


def _api(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        svc = services(request)
        lang = georeport.api_lang(svc, request.query.get("locale")) if svc is not None else "zh"
        try:
            if svc is None:
                raise ApiRefusal(503, "not_ready")
            return web.json_response(await route(request, svc, lang))
        except ApiRefusal as refusal:
            if refusal.status >= 500 or refusal.status in (403, 429):
                log.info("Open311 %s %s refused: %s %s", request.method, request.path, refusal.status, refusal.reason)
            # A POST's locale comes in its body: the refusal then carries it.
            return _refusal(svc, getattr(refusal, "lang", lang), refusal)
    return handle


def _limiter(request: web.Request) -> RateLimiter:
    return request.app[LIMITER_KEY]


async def _channel(request: web.Request, svc: Services, api_key: str | None):
    channel = await georeport.authenticate(svc, api_key)
    georeport.throttle(svc, _limiter(request), channel)
    return channel


async def get_services(request: web.Request, svc: Services, lang: str) -> Any:
    return georeport.list_services(svc, lang)


async def _body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > BODY_MAX:
        raise ApiRefusal(413, "too_large", limit=BODY_MAX)
    # Read at most one byte past the limit: a body sent without a Content-Length (or with a
    # lying one) is cut off there, never held in memory whole.
    body = bytearray()
    while len(body) <= BODY_MAX:
        chunk = await request.content.read(BODY_MAX + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
    raise ApiRefusal(413, "too_large", limit=BODY_MAX)


async def post_request(request: web.Request, svc: Services, lang: str) -> Any:
    body = await _body(request)
    if request.content_type != _FORM:
        raise ApiRefusal(400, "malformed")
    form = parse_form(body)
    if "locale" in form:
        lang = georeport.api_lang(svc, form["locale"])
    try:
        channel = await _channel(request, svc, form.get("api_key"))
        return await georeport.file_request(svc, channel, parse_request(form, frozenset(svc.policy.categories)), lang)
    except ApiRefusal as refusal:
        refusal.lang = lang          # the locale came in the body: answer in it
        raise


def _date(svc: Services, query, key: str):
    text = query.get(key)
    if not text:
        return None
    try:
        return parse_local_time(text, svc.tz)
    except ValueError:
        raise ApiRefusal(400, "bad_date", field=key) from None


async def get_requests(request: web.Request, svc: Services, lang: str) -> Any:
    query = request.query
    channel = await _channel(request, svc, query.get("api_key"))
    ids = parse_ids(query["service_request_id"]) if "service_request_id" in query else None
    status = query.get("status") or None
    if status not in (None, "open", "closed"):
        raise ApiRefusal(400, "bad_status")
    return await georeport.find_requests(svc, channel, lang, ids=ids, start=_date(svc, query, "start_date"),
                                         end=_date(svc, query, "end_date"), status=status)


async def get_one_request(request: web.Request, svc: Services, lang: str) -> Any:
    channel = await _channel(request, svc, request.query.get("api_key"))
    typed = request.match_info["id"]
    ticket_id = parse_request_id(typed)
    if ticket_id is None:
        raise ApiRefusal(400, "bad_id", id=typed[:40])
    return await georeport.get_request(svc, channel, ticket_id, lang, typed)


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/services.json", _api(get_services))
    app.router.add_post(f"{PREFIX}/requests.json", _api(post_request))
    app.router.add_get(f"{PREFIX}/requests.json", _api(get_requests))
    app.router.add_get(PREFIX + "/requests/{id}.json", _api(get_one_request))
