"""How fast the Open311 API answers against the running bot: POST requests.json (each files a
ticket: routing, ledger, clocks, card in the outbox), GET requests/{id}.json and a GET of the
whole list, over real HTTP on localhost, with the emulator as Telegram.

    .venv/bin/python -m bench.open311 [--requests 200]

The fake clock moves one second between POSTs so the per-key rate limit (20 at once, 2 a second)
does not refuse them; what is timed is the server's work, not the limit.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import ROOT, TOKEN, config_for, peak_rss_mb
from bot import app as heatbot_app
from bot.clock import FakeClock
from bot.web import Listen
from demo.world import build_world
from tgemu import Emulator, EmulatorClient

KEY = "demo-key-city-12345-0f3b9c"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _ms(samples: list[float]) -> str:
    return (f"median {statistics.median(samples) * 1000:.1f} ms, p95 {_p95(samples) * 1000:.1f} ms, "
            f"max {max(samples) * 1000:.1f} ms")


async def main(n: int) -> None:
    clock = FakeClock()
    emulator = Emulator(token=TOKEN, clock=lambda: clock.now().timestamp())
    await emulator.start()
    tg = EmulatorClient.for_emulator(emulator)
    try:
        await build_world(tg, ROOT / "org.example.toml")
        with tempfile.TemporaryDirectory() as tmp:
            port = _port()
            app = heatbot_app.build_application(config_for(emulator, Path(tmp) / "bench.db"), clock=clock)
            await heatbot_app.start(app, http=Listen("127.0.0.1", port))
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/open311/v2", timeout=30) as http:
                    posts, gets = [], []
                    ids = []
                    for i in range(n):
                        clock.advance(seconds=1)
                        started = time.perf_counter()
                        r = await http.post("/requests.json", data={
                            "api_key": KEY, "service_code": "not_warm", "address_string": f"和平苑 {i % 9 + 1}-1-{100 + i}",
                            "description": "家中暖气不热", "phone": "13600002222", "external_id": f"B-{i}"})
                        posts.append(time.perf_counter() - started)
                        assert r.status_code == 200, r.text
                        ids.append(r.json()[0]["service_request_id"])
                    for number in ids:
                        clock.advance(seconds=1)
                        started = time.perf_counter()
                        r = await http.get(f"/requests/{number}.json", params={"api_key": KEY})
                        gets.append(time.perf_counter() - started)
                        assert r.status_code == 200, r.text
                    clock.advance(seconds=1)
                    started = time.perf_counter()
                    listed = await http.get("/requests.json", params={"api_key": KEY})
                    whole = time.perf_counter() - started
                    assert len(listed.json()) == n
                print(f"POST requests.json ({n}, one at a time): {_ms(posts)}")
                print(f"GET requests/{{id}}.json ({n}): {_ms(gets)}")
                print(f"GET requests.json, all {n}: {whole * 1000:.0f} ms")
                print(f"peak RSS {peak_rss_mb()} MB (bot, emulator and client in one process)")
                print(json.dumps({"requests": n, "post_median_ms": round(statistics.median(posts) * 1000, 1),
                                  "post_p95_ms": round(_p95(posts) * 1000, 1), "get_median_ms": round(statistics.median(gets) * 1000, 1),
                                  "get_p95_ms": round(_p95(gets) * 1000, 1), "list_ms": round(whole * 1000),
                                  "peak_rss_mb": peak_rss_mb()}))
            finally:
                await heatbot_app.stop(app)
    finally:
        await tg.aclose()
        await emulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(main(parser.parse_args().requests))
