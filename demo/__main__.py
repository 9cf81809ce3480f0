"""``python -m demo [--lang zh|en]``: the demo transcript, Chinese by default."""
from __future__ import annotations

import argparse
import asyncio
import sys

from .lines import LINES
from .story import main

parser = argparse.ArgumentParser(prog="python -m demo", description="heatbot's story, played in the built-in emulator")
parser.add_argument("--lang", choices=sorted(LINES), default="zh", help="the transcript's language (default zh)")
sys.exit(asyncio.run(main(parser.parse_args().lang)))
