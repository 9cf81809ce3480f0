"""``GET /healthz``: 200 while this instance serves, 503 otherwise (for a load balancer, a
container's health check or systemd).

Healthy means: the application runs, the database answers within two seconds, the outbox
sender's loop runs and some instance holds the sender lease (this one, or another on the same
PostgreSQL database: a standby that does not send is healthy), and the deadline sweeper
finished a pass recently. The body says which part failed and how far behind the two loops
are, so an operator can tell "down" from "slow".
"""
from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from bot.lease import LeaseState
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
    sender = app.bot_data.get("sender")
    try:
        async def probe() -> tuple[int, float | None, LeaseState | None]:
            pending = await outbox.pending_count(svc.db.conn)
            oldest = await outbox.oldest_pending_at(svc.db.conn)
            lease = await sender.lease.state(svc.db.conn) if sender is not None else None
            return pending, (svc.clock.now() - oldest).total_seconds() if oldest else None, lease
        pending, oldest_age, lease = await asyncio.wait_for(probe(), DB_TIMEOUT)
        body["database"] = {"ok": True}
    except Exception as e:      # a locked, gone or slow database: say so, do not raise
        log.warning("health check: database did not answer: %s", type(e).__name__)
        body["database"] = {"ok": False, "error": type(e).__name__}
        pending, oldest_age, lease = None, None, None
    # Several instances on one database: one sends (the lease's holder), the others stand by and
    # are healthy while some instance holds the lease; nobody holding it is a fault.
    body["sender"] = {"ok": bool(sender is not None and sender.alive and (lease is None or lease.held or lease.holder)),
                      "lease": None if lease is None else ("held" if lease.held else "standby"),
                      "lease_holder": None if lease is None else (sender.claimer if lease.held else lease.holder),
                      "pending": pending,
                      "oldest_waiting_s": None if oldest_age is None else round(max(0.0, oldest_age), 1)}
    vitals = vitals_of(app.bot_data)
    age = vitals.sweep_age(time.monotonic())
    body["sweeper"] = {"ok": age <= SWEEP_STALE_AFTER + 3 * vitals.sweep_interval, "since_last_sweep_s": round(age, 1),
                       "last_sweep_s": None if vitals.last_sweep_seconds is None else round(vitals.last_sweep_seconds, 3)}
    body["ok"] = all(body[part]["ok"] for part in ("database", "sender", "sweeper"))
    return web.json_response(body, status=200 if body["ok"] else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
