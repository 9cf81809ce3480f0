"""Run a standalone emulator: ``python -m tgemu --port 8081``.

The emulator accepts exactly one bot token: ``--token``, else the ``EMULATOR_TOKEN``
environment variable, else ``123456:TEST-TOKEN``; any other token is answered
``401 Unauthorized``, as Telegram answers a wrong token. The token is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from .core import DEFAULT_TOKEN
from .server import run_standalone


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tgemu", description="Local strict Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("EMULATOR_TOKEN", DEFAULT_TOKEN),
                        help=f"the one bot token it accepts (default $EMULATOR_TOKEN or {DEFAULT_TOKEN}); "
                             "any other is answered 401 Unauthorized, as Telegram answers a wrong token")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_standalone(args.host, args.port, args.token))


if __name__ == "__main__":
    main()
