"""The heatbot Application for bench.surge, in its own process (its own CPU), on the scaled
clock the parent passes in (BENCH_SCALE, BENCH_WALL0). Stops on SIGTERM and prints the
sender's counters as one JSON line."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal

from bench.common import ScaledClock, peak_rss_mb
from bot import app as heatbot_app
from bot.app import build_application, webhook_for
from bot.config import load_config


async def main() -> None:
    clock = ScaledClock(float(os.environ["BENCH_SCALE"]), wall0=float(os.environ["BENCH_WALL0"]))
    config = load_config(env_file=None)
    app = build_application(config, clock=clock)
    await heatbot_app.start(app, webhook=webhook_for(config))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    stats = dict(app.bot_data["sender"].stats, peak_rss_mb=peak_rss_mb())
    await heatbot_app.stop(app)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main())
