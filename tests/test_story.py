"""The heart of the product (Art. 5, 10, 12, 13): report → card → Accept → Arrived → Done."""
from __future__ import annotations

from tgemu import EmulatorClient
from tests.story import report_cold_flat


async def test_greeting_offers_a_big_report_button_in_chinese(bot, tg: EmulatorClient):
    resident = await tg.user("张三", language_code="zh-hans")
    await resident.send("/start")
    msg = await resident.next_message()
    assert "张三" in msg.text
    assert "📝 我要报修" in msg.button_texts()


async def test_cold_flat_goes_from_report_to_done_and_the_resident_hears_each_step(bot, tg, world):
    resident = await tg.user("张三", language_code="zh")
    receipt = await report_cold_flat(resident)
    assert "报修已提交" in receipt.text and "0001" in receipt.text
    assert "北区维修服务中心" in receipt.text and "10:00" in receipt.text   # on site by 09:00 + 60 min (Art. 13)

    group = world.groups["repair-north"]
    card = await group.next_message()
    assert "工单 0001" in card.text and "家中不热" in card.text and "重大" in card.text
    assert "和平苑 3-2-501" in card.text and "13912345678" in card.text and "14℃" in card.text
    assert card.button_texts()[0] == "✅ 受理"

    crew = world.crew(5001)
    answer = await crew.press(card, "受理")
    assert "已受理" in answer.text
    card = await group.wait_edited(card)
    assert "已受理" in card.text and "王师傅" in card.text and card.button_texts()[:2] == ["📍 已到场", "⏳ 申请延时"]
    told = await resident.next_message()
    assert "0001" in told.text and "王师傅" in told.text

    await crew.press(card, "已到场")
    card = await group.wait_edited(card)
    assert card.button_texts()[0] == "🏁 处理完成"
    assert "已到达" in (await resident.next_message()).text

    await crew.press(card, "处理完成")
    card = await group.wait_edited(card)
    assert "已完成" in card.text and "请回复这条消息" in card.text
    done = await resident.next_message()      # told, and asked at once (Art. 8)
    assert "已完成" in done.text and done.button_texts() == ["👍 解决了", "👎 还没解决"]

    await crew.send("更换了堵塞的阀门", chat=group, reply_to=card)
    card = await group.wait_edited(card)
    assert "处理说明：更换了堵塞的阀门" in card.text and card.button_texts() == []
