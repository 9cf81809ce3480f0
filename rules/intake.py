"""Validation of what a resident types during a report. Pure; returns values or raises."""
from __future__ import annotations

import re

from rules.errors import RulesError

__all__ = [
    "InvalidInput", "parse_phone", "parse_temperature", "parse_address", "check_description",
    "DESCRIPTION_MAX", "FREE_TEXT_MAX",
]

DESCRIPTION_MAX = 500
FREE_TEXT_MAX = 60


class InvalidInput(RulesError):
    """``code`` names the template key that explains the problem to the resident."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


def parse_phone(text: str) -> str:
    """A mainland mobile (11 digits) or a landline with area code; +86 and separators allowed."""
    digits = re.sub(r"[\s\-()（）]", "", text.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    raise InvalidInput("bad_phone")


def parse_temperature(text: str) -> float:
    """A room temperature in °C as measured with a thermometer; 0–35 is plausible indoors."""
    cleaned = text.strip().replace("℃", "").replace("°C", "").replace("°", "").replace("度", "").replace("，", ".").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInput("bad_temperature") from None
    if not 0 <= value <= 35:
        raise InvalidInput("temperature_out_of_range")
    return round(value, 1)


_PART = re.compile(r"[0-9A-Za-z]+")


def parse_address(text: str) -> str:
    """Building, unit and flat, e.g. ``3-2-501`` or ``3号楼2单元501``; returned as ``3-2-501``.

    Some compounds have no units, so building and flat alone (``3-501``) are accepted.
    """
    parts = _PART.findall(text)
    if not 2 <= len(parts) <= 3 or any(len(p) > 6 for p in parts) or len(text) > FREE_TEXT_MAX:
        raise InvalidInput("bad_address")
    return "-".join(p.upper() for p in parts)


def check_description(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("empty_text")
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput("description_too_long", limit=DESCRIPTION_MAX, length=len(text))
    return text
