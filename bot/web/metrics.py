"""``GET /metrics``: the bot's figures in Prometheus' text format (the official
``prometheus-client`` writes it).

Gauges are read from the database at scrape time, so they cannot drift from it; counters are
this process's own (sends, 429s, sweeps, updates) and start at zero with the process, as
Prometheus expects of counters. Nothing here names a person: no chat ids, no phones.
"""
from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.vitals import vitals_of
from bot.web.common import APP_KEY, services
from storage import metrics, outbox
from storage.outbox import Priority

__all__ = ["add_routes"]


class _Snapshot:
    """A collector over values gathered once per scrape (the database is async; collectors are not)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def _families(request: web.Request) -> list[Metric]:
    app = request.app[APP_KEY]
    svc = services(request)
    families: list[Metric] = []
    up = GaugeMetricFamily("heatbot_up", "1 while the bot serves")
    up.add_metric([], 1 if svc is not None and app.running else 0)
    families.append(up)
    if svc is None:
        return families
    conn, now = svc.db.conn, svc.clock.now()

    depth = await outbox.depth_by_priority(conn)
    pending = GaugeMetricFamily("heatbot_outbox_pending", "Messages waiting to be sent, by priority", labels=["priority"])
    for priority in Priority:
        pending.add_metric([priority.name.lower()], depth.get(int(priority), 0))
    failed = GaugeMetricFamily("heatbot_outbox_failed", "Messages Telegram refused for good")
    failed.add_metric([], await outbox.failed_count(conn))
    oldest = await outbox.oldest_pending_at(conn)
    waiting = GaugeMetricFamily("heatbot_outbox_oldest_waiting_seconds", "How long the oldest waiting message has waited")
    waiting.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

    tickets = GaugeMetricFamily("heatbot_tickets", "Tickets by status and level", labels=["status", "level"])
    for (status, level), count in sorted((await metrics.tickets_by_status_and_level(conn)).items()):
        tickets.add_metric([status, level], count)
    overdue = GaugeMetricFamily("heatbot_overdue_deadlines", "Open limits past their deadline, by limit", labels=["limit"])
    for kind, count in sorted((await metrics.overdue_deadlines(conn, now)).items()):
        overdue.add_metric([kind], count)
    families += [pending, failed, waiting, tickets, overdue]

    sender = app.bot_data.get("sender")
    if sender is not None:
        stats = sender.stats
        sends = CounterMetricFamily("heatbot_sends", "Telegram calls by result", labels=["result"])
        for result, key in (("sent", "sent"), ("edited", "edited"), ("digest", "digests"), ("retry", "retries"), ("failed", "failed")):
            sends.add_metric([result], stats.get(key, 0))
        flood = CounterMetricFamily("heatbot_telegram_429", "Flood-limit answers (429 Too Many Requests) from Telegram")
        flood.add_metric([], stats.get("http_429", 0))
        held = GaugeMetricFamily("heatbot_sender_lease_held", "1 while this instance holds the sender lease (it sends); 0 on a standby")
        held.add_metric([], 1 if sender.lease.held else 0)
        taken = CounterMetricFamily("heatbot_sender_lease_taken", "Times this instance became the sender")
        taken.add_metric([], sender.lease.taken)
        families += [sends, flood, held, taken]

    vitals = vitals_of(app.bot_data)
    sweeps = CounterMetricFamily("heatbot_sweeps", "Deadline sweeper passes")
    sweeps.add_metric([], vitals.sweeps)
    sweep_failures = CounterMetricFamily("heatbot_sweep_failures", "Sweeper passes that raised")
    sweep_failures.add_metric([], vitals.sweep_failures)
    sweep_seconds = CounterMetricFamily("heatbot_sweep_seconds", "Time spent sweeping")
    sweep_seconds.add_metric([], vitals.sweep_seconds_total)
    last_sweep = GaugeMetricFamily("heatbot_last_sweep_duration_seconds", "Duration of the last sweeper pass")
    last_sweep.add_metric([], vitals.last_sweep_seconds or 0.0)
    updates = CounterMetricFamily("heatbot_updates", "Telegram updates handled")
    updates.add_metric([], vitals.updates)
    families += [sweeps, sweep_failures, sweep_seconds, last_sweep, updates]
    return families


async def metrics_page(request: web.Request) -> web.Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await _families(request)))
    ProcessCollector(registry=registry)     # memory, CPU, open files of this process
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics_page)
