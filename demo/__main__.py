"""``python -m demo``: see :mod:`demo.story`."""
import asyncio
import sys

from demo.story import main

sys.exit(asyncio.run(main()))
