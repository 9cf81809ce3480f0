"""What a resident types, from any keyboard: digits of any script, HTML-looking text, invisible characters."""
from __future__ import annotations

import pytest

from rules.intake import InvalidInput, check_description, is_visible, parse_address, parse_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("13912345678", "13912345678"), ("+86 139-1234-5678", "13912345678"), ("010 12345678", "01012345678"),
     ("١٣٩١٢٣٤٥٦٧٨", "13912345678"), ("１３９１２３４５６７８", "13912345678"), ("＋８６ １３９１２３４５６７８", "13912345678"),
     ("۱۳۹۱۲۳۴۵۶۷۸", "13912345678")],
    ids=["ascii", "country code and dashes", "landline", "arabic-indic digits", "full-width digits (Chinese IME)",
         "full-width plus", "extended arabic-indic digits"],
)
def test_a_phone_in_any_scripts_digits_is_stored_in_ascii_digits_a_crew_can_dial(typed, stored):
    assert parse_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["¹³⁹¹²³⁴⁵⁶⁷⁸", "①③⑨①②③④⑤⑥⑦⑧", "1391234567", "139123456789", "12345678901", "电话13912345678"],
    ids=["superscripts", "circled numbers", "ten digits", "twelve digits", "not a mobile prefix", "words around it"],
)
def test_what_is_not_a_phone_is_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        parse_phone(typed)
    assert refused.value.code == "bad_phone"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("3-2-501", "3-2-501"), ("3号楼2单元501", "3号楼2单元501"), ("  3 - 501 ", "3 - 501"), ("B3-2-501a", "B3-2-501a"),
     ("３-２-５０１", "３-２-５０１")],
    ids=["dashes", "chinese words kept as typed", "spaces trimmed", "letters kept in their case", "full-width digits read"],
)
def test_an_address_is_kept_as_typed(typed, stored):
    assert parse_address(typed) == stored


@pytest.mark.parametrize(
    "typed", ["&amp; &lt;", "A-B", "<b>3</b>-501", "3", "1-2-3-4", "3-2-5011111"],
    ids=["html entities are not building and flat", "no flat number", "markup", "building only", "four parts", "part too long"],
)
def test_text_that_is_no_address_is_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        parse_address(typed)
    assert refused.value.code == "bad_address"


@pytest.mark.parametrize(
    "typed",
    ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u200b \u3000 ", "\u3164\u3164", "\u2800", "\u0301\u0301", "\u202e\u202d"],
    ids=["zero-width space", "zero-width joiners and bom", "mixed with spaces", "hangul filler", "blank braille",
         "combining marks alone", "direction overrides"],
)
def test_a_required_description_of_invisible_characters_is_refused(typed):
    assert not is_visible(typed)
    with pytest.raises(InvalidInput) as refused:
        check_description(typed)
    assert refused.value.code == "empty_text"


@pytest.mark.parametrize("typed", ["暖气不热", "a", "\u200b暖气\u200b", "é", "😀", "<b>&amp;</b>"],
                         ids=["chinese", "one letter", "words among zero-width", "accented", "emoji", "markup is text"])
def test_a_description_with_anything_visible_is_kept_as_typed(typed):
    assert check_description(typed) == typed.strip()
