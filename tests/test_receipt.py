"""A receipt a resident can act on: the centre's hotline on the receipt and status messages,
the accepting crew member's name and (policy switch) work phone at Accept (Art. 4, 12)."""
from __future__ import annotations

from dataclasses import replace

from tests.story import report_cold_flat


async def test_the_receipt_gives_the_centres_hotline_to_quote_the_number_to(bot, tg):
    receipt = await report_cold_flat(await tg.user("张三", language_code="zh"))
    assert "0001" in receipt.text and "0471-6960101" in receipt.text


async def test_accept_tells_the_resident_who_is_coming_their_work_phone_and_the_hotline(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    await world.crew(5001).press(card, "受理")
    told = await resident.next_message()
    assert "王师傅" in told.text and "13800000001" in told.text and "0471-6960101" in told.text    # org.example.toml


async def test_with_the_switch_off_the_crews_phone_is_not_given(bot, tg, world):
    svc = bot.bot_data["svc"]
    svc.policy = replace(svc.policy, followup=replace(svc.policy.followup, show_crew_phone=False))
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await world.groups["repair-north"].next_message()
    await world.crew(5001).press(card, "受理")
    told = await resident.next_message()
    assert "王师傅" in told.text and "工作电话" not in told.text
