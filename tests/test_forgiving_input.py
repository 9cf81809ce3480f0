"""Forgiving input: what residents type as they would type it (community names with 小区,
full-width digits, Chinese numerals, separators). Pure tables, then the search end to end."""
from __future__ import annotations

import pytest

from rules.intake import InvalidInput, community_queries, parse_address, parse_phone
from tests.story import report_to_address


@pytest.mark.parametrize("typed, first, last", [
    ("和平苑小区", "和平苑小区", "和平"),
    ("和平 苑", "和平苑", "和平"),
    ("阳光花园小区", "阳光花园小区", "阳光"),
    ("ＨＰＹ", "hpy", "hpy"),
    ("Heping Garden", "hepinggarden", "hepinggarden"),
    ("苑", "苑", "苑"),
])
def test_a_community_is_looked_for_without_spaces_case_or_the_suffixes_people_add(typed, first, last):
    queries = community_queries(typed)
    assert queries[0] == first and queries[-1] == last


@pytest.mark.parametrize("typed", ["3-2-501", "３－２－５０１", "3号楼2单元501", "三号楼二单元501室", "3栋2单元501室",
                                   "十二号楼三单元502", "３号楼２单元５０１室", "3 - 2 - 501", "二十号楼501"])
def test_an_address_is_accepted_in_the_forms_residents_type(typed):
    assert parse_address(typed) == " ".join(typed.split())


@pytest.mark.parametrize("typed", ["五百号楼", "一百号楼二单元", "楼", "三号楼"])
def test_an_address_without_a_flat_number_is_still_refused(typed):
    with pytest.raises(InvalidInput):
        parse_address(typed)


@pytest.mark.parametrize("typed", ["13912345678", "１３９１２３４５６７８", "139 1234 5678", "139-1234-5678",
                                   "＋８６ １３９１２３４５６７８", "一三九一二三四五六七八", "一三九 一二三四 五六七八"])
def test_a_phone_is_accepted_with_full_width_or_chinese_digits_and_separators(typed):
    assert parse_phone(typed) == "13912345678"


@pytest.mark.parametrize("typed", ["和平苑小区", "和平 苑", "HPY", "hepinggarden", "ｈｅｐｉｎｇ"])
async def test_typing_the_community_as_residents_do_finds_it(bot, tg, typed):
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/report")
    await resident.press(await resident.next_message(), "家中不热")
    await resident.next_message()
    await resident.send(typed)
    choices = await resident.next_message()
    assert "和平苑" in choices.button_texts()


async def test_a_voice_note_at_the_photo_and_description_step_is_kept_and_the_crew_can_play_it(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_to_address(resident)
    await resident.send("3-2-501")
    await resident.next_message()
    await resident.send("13912345678")
    await resident.next_message()
    await resident.press(await resident.next_message(), "跳过")     # temperature
    assert "语音" in (await resident.next_message()).text          # photo, a sentence or a voice note
    await resident.send_voice(duration=4)
    summary = await resident.next_message()
    assert "语音说明：已附" in summary.text
    await resident.press(summary, "确认提交")
    north = world.groups["repair-north"]
    card = await north.next_message()
    assert "语音说明" in card.text
    voice = await north.next_message()
    assert voice.kind == "voice" and voice.reply_to_message_id == card.message_id
