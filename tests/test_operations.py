"""Operations: /healthz says which part of the bot is down and how far behind it is; /metrics
gives the figures a monitoring system scrapes, read from the database at scrape time."""
from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram.ext import Application
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from bot.vitals import Vitals
from bot.web.health import SWEEP_STALE_AFTER
from demo.world import World
from tests.story import report_cold_flat
from tgemu import EmulatorClient



@pytest.fixture
async def web(web_bot: Application) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client pointed at the running bot's web server."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_bot.bot_data['web'].port}", timeout=10) as client:
        client.bot = web_bot    # type: ignore[attr-defined]
        yield client


async def samples(web: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    page = await web.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(page.text) for s in family.samples}


async def test_the_health_check_names_each_part_and_its_lag(web: httpx.AsyncClient):
    health = await web.get("/healthz")
    body = health.json()
    assert health.status_code == 200 and body["ok"] is True
    assert body["database"]["ok"] and body["sender"]["ok"] and body["sweeper"]["ok"]
    assert body["sender"]["pending"] == 0 and body["sender"]["oldest_waiting_s"] is None
    assert body["sweeper"]["since_last_sweep_s"] >= 0


async def test_a_stopped_sender_makes_the_instance_unhealthy(web: httpx.AsyncClient):
    await web.bot.bot_data["sender"].stop()             # type: ignore[attr-defined]
    health = await web.get("/healthz")
    assert health.status_code == 503
    assert health.json()["sender"]["ok"] is False and health.json()["database"]["ok"] is True


@pytest.mark.parametrize(
    ("last_sweep_ago", "healthy"),
    [(None, True), (1.0, True), (SWEEP_STALE_AFTER + 3 * 5.0, True), (SWEEP_STALE_AFTER + 3 * 5.0 + 1, False)],
    ids=["none-yet-just-started", "one-second-ago", "exactly-at-the-limit", "past-the-limit"],
)
def test_the_sweeper_counts_as_stalled_once_no_pass_ended_for_a_minute_and_three_intervals(last_sweep_ago, healthy):
    vitals = Vitals(started_at=1000.0, sweep_interval=5.0)
    if last_sweep_ago is not None:
        vitals.last_sweep_at = 2000.0 - last_sweep_ago
    now = 1000.0 if last_sweep_ago is None else 2000.0
    assert (vitals.sweep_age(now) <= SWEEP_STALE_AFTER + 3 * vitals.sweep_interval) is healthy


async def test_metrics_count_tickets_sends_updates_and_overdue_limits_from_the_database(
        web: httpx.AsyncClient, tg: EmulatorClient, world: World, clock: FakeClock):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    await world.groups["repair-north"].next_message()          # the card is out
    before = await samples(web)
    assert before[("heatbot_tickets", (("level", "major"), ("status", "new")))] == 1
    assert before[("heatbot_up", ())] == 1
    assert before[("heatbot_sends_total", (("result", "sent"),))] >= 2     # the receipt and the card at least
    assert before[("heatbot_updates_total", ())] >= 8                     # every step of the intake
    assert ("heatbot_overdue_deadlines", (("limit", "accept"),)) not in before
    assert before[("heatbot_outbox_pending", (("priority", "urgent"),))] >= 0
    assert ("process_resident_memory_bytes", ()) in before

    clock.advance(minutes=31)                                            # Art. 12: accept within 30 minutes
    after = await samples(web)
    assert after[("heatbot_overdue_deadlines", (("limit", "accept"),))] == 1


async def test_metrics_carry_no_phone_number_or_chat_id(web: httpx.AsyncClient, tg: EmulatorClient, world: World):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident, phone="13912345678")
    page = (await web.get("/metrics")).text
    assert "13912345678" not in page and str(resident.id) not in page
    assert str(world.groups["repair-north"].id) not in page
