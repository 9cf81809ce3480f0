"""``python -m demo [--lang zh|en] [--serve]``: the demo transcript, Chinese by default; the dispatch
board's address and a login link on stderr; ``--serve`` keeps the board running afterwards."""
from __future__ import annotations

import argparse
import asyncio
import sys

from .lines import LINES
from .story import main

parser = argparse.ArgumentParser(prog="python -m demo", description="heatbot's story, played in the built-in emulator")
parser.add_argument("--lang", choices=sorted(LINES), default="zh", help="the transcript's language (default zh)")
parser.add_argument("--serve", action="store_true",
                    help="after the story, keep the bot and its dispatch board running for a person to look (Ctrl-C stops)")
args = parser.parse_args()
try:
    sys.exit(asyncio.run(main(args.lang, args.serve)))
except KeyboardInterrupt:
    sys.exit(0)
