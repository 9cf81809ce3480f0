"""The dispatch desk's rules: where a ticket entered on someone's behalf comes from, and which
community an address names (Art. 4, 5, 10 (1), 13).

Pure: no Telegram, no database, no clock.
"""
from __future__ import annotations

from collections.abc import Iterable

from rules.policy import Source

__all__ = ["DESK_SOURCES", "EXTERNAL_REF_MAX", "NAME_MAX", "REGISTER_KINDS", "REGISTER_SOURCES", "REGISTER_TEXT_MAX",
           "match_community", "RateLimiter"]

# The channels Art. 4 names, in the order the /new wizard offers them: the company's hotline,
# the mayor's hotline 12345, the housing bureau, the press, online opinion, the company's
# leaders. A resident's own report never goes through /new.
DESK_SOURCES: tuple[Source, ...] = (
    Source.HOTLINE, Source.MAYOR_HOTLINE, Source.HOUSING_BUREAU, Source.PRESS, Source.ONLINE, Source.COMPANY_URGENT,
)
# The register's kinds of entry (Art. 10 (1), Art. 18-24): praise and criticism of a centre or
# a named staff member, a press report, a matter a higher authority supervises (督办).
REGISTER_KINDS: tuple[str, ...] = ("praise", "criticism", "press", "supervision")
# Where an entry came from: a resident in person or by letter, or one of the desk's channels.
REGISTER_SOURCES: tuple[Source, ...] = (Source.RESIDENT, *DESK_SOURCES)
REGISTER_TEXT_MAX = 1000
# A 12345 work-order number or an API client's id; long enough for any platform's ids.
EXTERNAL_REF_MAX = 64
NAME_MAX = 40


def match_community(address: str, communities: Iterable[tuple[str, Iterable[str]]]) -> str | None:
    """The community whose name or alias the address contains (case-insensitive), or None.

    ``communities`` is (id, names and aliases). The longest name found wins, so "阳光花园" beats
    an alias "阳光" of another community; a tie between two communities is no match: the
    ticket then goes to dispatch rather than to a guessed centre (Art. 5).
    """
    text = address.casefold()
    best: tuple[int, set[str]] = (0, set())
    for community_id, names in communities:
        for name in names:
            folded = name.strip().casefold()
            # One letter or character matches too much to route on.
            if len(folded) < 2 or folded not in text:
                continue
            if len(folded) > best[0]:
                best = (len(folded), {community_id})
            elif len(folded) == best[0]:
                best[1].add(community_id)
    return next(iter(best[1])) if len(best[1]) == 1 else None


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, then ``per_second`` on average.

    Time is passed in (seconds on any steady scale), so the tests drive it with the fake clock.
    """

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[str, tuple[float, float]] = {}     # key -> (tokens, at)

    def take(self, key: str, now: float) -> float:
        """0 when the request may go ahead; otherwise the seconds until it may."""
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.per_second
