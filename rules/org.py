"""The organisation: service centres, communities and staff (Art. 9–12).

One model for the organisation file (bot/orgfile.py parses it) and the database
(storage/org.py reads it back). Dispatch is the single coordinator; the service network is the
repair centres, the network station, the metering centre and the automation centre; each centre
registers its hotline staff with dispatch (Art. 12).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

__all__ = ["Centre", "Community", "Staff", "ApiChannel", "hash_key"]


@dataclass(frozen=True)
class Centre:
    id: str
    name_zh: str
    name_en: str
    kind: str                   # a rules.policy.CentreKind value
    chat_id: int                # the centre's group
    hotline: str | None = None  # the number residents phone (Art. 12: registered with dispatch)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Community:
    id: str
    name_zh: str
    name_en: str
    # As the organisation file gives them; a community read back for a place name leaves them
    # empty (the database keeps them for search and routing).
    aliases: tuple[str, ...] = ()
    centres: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # centre kind -> centre id
    households: int | None = None       # optional; complaints per 1,000 households (Art. 8)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Staff:
    user_id: int
    name: str
    phone: str
    centre_id: str | None       # crews and centre leads act for one centre; dispatch and heads for all
    role: str
    # The registration's dates (Art. 12), both inclusive; None: open on that side.
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ApiChannel:
    """An outside platform that files tickets through the Open311 API (Art. 4: the city's 12345
    hotline, the company's call centre). Its key identifies it and so its tickets' source."""
    id: str
    name: str
    source: str                 # a rules.policy.Source value
    key_hash: str               # hash_key() of the key; the key itself is never stored
    revoked: bool = False


def hash_key(key: str) -> str:
    """SHA-256 hex of an API key. Keys are long random strings, so a plain hash is enough to
    make a leaked organisation file or database useless for calling the API."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
