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
    "is_visible", "DESCRIPTION_MAX", "FREE_TEXT_MAX", "chinese_number", "arabic_numbers", "community_queries", "community_search_forms",
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


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# A run of numerals that is part of a larger number (一百, 三千) is left alone, not read as 1 or 3.
_CN_NUMBER = re.compile(r"(?<![百千万])[零〇一二两三四五六七八九十]+(?![百千万])")


def chinese_number(text: str) -> int | None:
    """A Chinese numeral up to 99 (``三``, ``十二``, ``二十``, ``九十九``); None otherwise.
    Buildings and units are counted this way (三号楼二单元); flats are written in digits."""
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return None
    value = (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return value if value <= 99 else None


def arabic_numbers(text: str) -> str:
    """``text`` with Chinese numerals up to 99 and every script's digits as ASCII numbers."""
    def swap(m: re.Match[str]) -> str:
        value = chinese_number(m.group(0))
        return str(value) if value is not None else m.group(0)
    return _CN_NUMBER.sub(swap, ascii_digits(text))


def is_visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, zero-width or other invisible characters."""
    return any(unicodedata.category(c) not in _INVISIBLE_CATEGORIES and c not in _BLANK_LETTERS for c in text)


def parse_phone(text: str) -> str:
    """A mainland mobile (11 digits) or a landline with area code; +86 and separators allowed.
    Returned in ASCII digits whatever digits were typed."""
    typed = text.strip()
    if typed and all(c in _CN_DIGITS or c in " -－" for c in typed):
        typed = "".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS else c for c in typed)    # 一三九…, read digit by digit
    digits = re.sub(r"[\s\-()（）－]", "", ascii_digits(typed).replace("＋", "+"))
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
    """Building, unit and flat, e.g. ``3-2-501``, ``3号楼2单元501`` or ``三号楼二单元501室``
    (full-width digits, Chinese numerals up to 99); returned as typed (spaces
    trimmed): the crew reads what the resident wrote, and the templates escape it.

    Some compounds have no units, so building and flat alone (``3-501``) are accepted. The
    shape is checked on the ASCII letters and digits, and a flat has a number: text such as
    ``&amp; &lt;`` has two letter runs but is no address.
    """
    parts = _PART.findall(arabic_numbers(text))
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


# What residents add to a community's name that the organisation file may not have: 和平苑小区
# for 和平苑, 阳光花园小区 for 阳光花园. Longest first, so 小区 goes before a bare 区.
_COMMUNITY_SUFFIXES = ("小区", "社区", "家园", "花园", "公寓", "苑", "园", "里", "湾")


def community_queries(text: str) -> list[str]:
    """What to look for when a resident types a community's name, most specific first: the
    text without spaces, lower-cased and NFKC-folded (full-width letters), then with the
    suffixes people add or drop taken off one at a time (``和平苑小区`` → ``和平苑`` → ``和平``).
    Pinyin initials (``HPY``) match the organisation file's aliases."""
    needle = unicodedata.normalize("NFKC", "".join(text.split())).lower()
    queries: list[str] = []
    while needle and needle not in queries:
        queries.append(needle)
        for suffix in _COMMUNITY_SUFFIXES:
            if needle.endswith(suffix) and len(needle) > len(suffix) + 1:
                needle = needle[: -len(suffix)]
                break
    return queries


def community_search_forms(names: list[str]) -> list[str]:
    """The forms a community's names and aliases are searched in: lower-cased as written, and
    folded the way :func:`community_queries` folds what a resident types."""
    forms: list[str] = []
    for name in names:
        if not name:
            continue
        for form in (name.lower(), unicodedata.normalize("NFKC", "".join(name.split())).lower()):
            if form not in forms:
                forms.append(form)
    return forms
