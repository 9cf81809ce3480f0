"""bench.effort measures what a report costs a resident; the issue's goal is held here."""
from __future__ import annotations

from bench.effort import measure


async def test_a_returning_resident_reports_in_six_taps_and_thirty_seconds_at_most():
    first, returning = await measure()
    assert returning.taps <= 6 and returning.typed == 0 and returning.seconds <= 30
    assert first.taps <= 10 and first.seconds < 54        # the issue measured 10 taps, 2 messages, ~54 s before
