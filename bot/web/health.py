"""``GET /healthz``: 200 while this instance serves, 503 otherwise (for a load balancer, a
container's health check or systemd).

Healthy means: the application runs, the database answers within two seconds, the outbox
sender's loop runs, and the deadline sweeper finished a pass recently. The body says which part
failed and how far behind the two loops are, so an operator can tell "down" from "slow".
"""
from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from bot.vitals import vitals_of
from bot.web.common import APP_KEY, services
from storage import outbox

__all__ = ["add_routes", "SWEEP_STALE_AFTER"]

log = logging.getLogger(__name__)

# A sweep pass over a surge can take a while; one not finished for this long (plus three
# intervals) means the job queue has stopped or a pass hangs.
SWEEP_STALE_AFTER = 60.0
DB_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    svc = services(request)
    if svc is None or not app.running:
        return web.json_response({"ok": False, "running": False}, status=503)
    body: dict = {"running": True}
    try:
        async def probe() -> tuple[int, float | None]:
            pending = await outbox.pending_count(svc.db.conn)
            oldest = await outbox.oldest_pending_at(svc.db.conn)
            return pending, (svc.clock.now() - oldest).total_seconds() if oldest else None
        pending, oldest_age = await asyncio.wait_for(probe(), DB_TIMEOUT)
        body["database"] = {"ok": True}
    except Exception as e:      # a locked, gone or slow database: say so, do not raise
        log.warning("health check: database did not answer: %s", type(e).__name__)
        body["database"] = {"ok": False, "error": type(e).__name__}
        pending, oldest_age = None, None
    sender = app.bot_data.get("sender")
    body["sender"] = {"ok": bool(sender is not None and sender.alive), "pending": pending,
                      "oldest_waiting_s": None if oldest_age is None else round(max(0.0, oldest_age), 1)}
    vitals = vitals_of(app.bot_data)
    age = vitals.sweep_age(time.monotonic())
    body["sweeper"] = {"ok": age <= SWEEP_STALE_AFTER + 3 * vitals.sweep_interval, "since_last_sweep_s": round(age, 1),
                       "last_sweep_s": None if vitals.last_sweep_seconds is None else round(vitals.last_sweep_seconds, 3)}
    body["ok"] = all(body[part]["ok"] for part in ("database", "sender", "sweeper"))
    return web.json_response(body, status=200 if body["ok"] else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
