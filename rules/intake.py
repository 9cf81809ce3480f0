"""Validation of what a resident types during a report. Pure; returns values or raises.

Text arrives from any keyboard: full-width digits from a Chinese IME, Arabic-Indic digits,
zero-width characters pasted from elsewhere, HTML-looking text. Digits of any script are read
as the digits they are (and stored as ASCII, so a crew can dial them); text is stored as typed
(the templates escape it), and a field that needs words needs something visible.
"""
from __future__ import annotations

import re
import unicodedata

from rules.errors import RulesError

__all__ = [
    "InvalidInput", "parse_phone", "parse_temperature", "parse_address", "check_description", "ascii_digits",
    "is_visible", "DESCRIPTION_MAX", "FREE_TEXT_MAX",
]

DESCRIPTION_MAX = 500
FREE_TEXT_MAX = 60


class InvalidInput(RulesError):
    """``code`` names the template key that explains the problem to the resident."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# [0-9], not \d: \d matches every script's digits, and a phone stored as "١٣٨..." cannot be dialled.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}[0-9]{7,8}$")
# Letters that draw nothing (Hangul fillers, the blank Braille cell) although Unicode calls
# them letters or symbols; with format, control, separator and combining characters they make
# text that looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def ascii_digits(text: str) -> str:
    """Every decimal digit of any script (full-width ３, Arabic-Indic ٣, …) as its ASCII digit;
    other characters unchanged. Superscripts and circled numbers are not decimal digits and stay."""
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and unicodedata.category(c) == "Nd" else c for c in text)


def is_visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, zero-width or other invisible characters."""
    return any(unicodedata.category(c) not in _INVISIBLE_CATEGORIES and c not in _BLANK_LETTERS for c in text)


def parse_phone(text: str) -> str:
    """A mainland mobile (11 digits) or a landline with area code; +86 and separators allowed.
    Returned in ASCII digits whatever digits were typed."""
    digits = re.sub(r"[\s\-()（）－]", "", ascii_digits(text.strip()).replace("＋", "+"))
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
    """Building, unit and flat, e.g. ``3-2-501`` or ``3号楼2单元501``; returned as typed (spaces
    trimmed): the crew reads what the resident wrote, and the templates escape it.

    Some compounds have no units, so building and flat alone (``3-501``) are accepted. The
    shape is checked on the ASCII letters and digits, and a flat has a number: text such as
    ``&amp; &lt;`` has two letter runs but is no address.
    """
    parts = _PART.findall(ascii_digits(text))
    if (not 2 <= len(parts) <= 3 or any(len(p) > 6 for p in parts) or len(text) > FREE_TEXT_MAX
            or not any(c.isdigit() for c in parts[-1])):
        raise InvalidInput("bad_address")
    return " ".join(text.split())


def check_description(text: str) -> str:
    text = text.strip()
    if not is_visible(text):
        raise InvalidInput("empty_text")
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput("description_too_long", limit=DESCRIPTION_MAX, length=len(text))
    return text
