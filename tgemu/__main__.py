"""Run a standalone emulator: ``python -m tgemu --port 8081``.

The token is taken from ``--token`` or the ``EMULATOR_TOKEN`` environment
variable; it is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from .server import run_standalone


def main() -> None:
    parser = argparse.ArgumentParser(description="Local strict Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("EMULATOR_TOKEN", "123456:TEST-TOKEN"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_standalone(args.host, args.port, args.token))


if __name__ == "__main__":
    main()
