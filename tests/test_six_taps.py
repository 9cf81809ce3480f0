"""Six taps for a returning resident (issue: a report in six taps): the 🥶 button, one
confirmation of the remembered address and phone, one optional step for photo and words, and
buttons bound to their step."""
from __future__ import annotations

from tests.story import report_cold_flat


async def test_a_returning_resident_reports_a_cold_home_in_five_taps(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    receipt = await report_cold_flat(resident)
    taps = 0
    menu = receipt
    await resident.press(menu, "🥶 家中不热"); taps += 1
    same = await resident.next_message()
    assert "地址和电话" in same.text
    await resident.press(same, "是，就是这里"); taps += 1
    temperature = await resident.next_message()
    assert "多少度" in temperature.text
    await resident.press(temperature, "跳过"); taps += 1
    details = await resident.next_message()
    await resident.press(details, "跳过"); taps += 1
    summary = await resident.next_message()
    assert "家中不热" in summary.text and "13912345678" in summary.text and "3-2-501" in summary.text
    await resident.press(summary, "确认提交"); taps += 1
    second = await resident.next_message()
    # The same flat's first ticket is still open: the report is recorded on it (Art. 24).
    assert "0001" in second.text
    assert taps == 5


async def test_every_status_message_carries_the_cold_home_and_my_reports_buttons(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    await world.crew(5001).press(card, "受理")
    told = await resident.next_message()
    assert told.button_texts() == ["🥶 家中不热", "📋 我的报修"]
    await resident.press(told, "我的报修")
    assert "0001" in (await resident.next_message()).text


async def test_a_double_tap_on_skip_skips_one_step_only(bot, tg):
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/start")
    await resident.press(await resident.next_message(), "🥶 家中不热")
    await resident.send("和平")
    await resident.press(await resident.next_message_where(lambda m: "和平苑" in m.button_texts()), "和平苑")
    await resident.next_message()
    await resident.send("3-2-501")
    await resident.next_message()
    await resident.send("13912345678")
    await resident.next_message()
    temperature = await resident.next_message()
    await resident.press(temperature, "跳过")
    details = await resident.next_message()
    again = await resident.press(temperature, "跳过")          # the second tap of a double tap
    assert again.text == "这是之前的问题，请回答最新的问题。"
    assert "照片" in (await resident.next_message()).text      # the photo question is asked again, not skipped
    await resident.press(details, "跳过")
    assert "请核对" in (await resident.next_message()).text
