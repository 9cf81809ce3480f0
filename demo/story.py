"""``make demo``: the whole story through the built-in emulator. No token, no network.

A resident reports a cold flat; the card reaches the right centre's group; a stranger's press
is refused; a crew member accepts, arrives and closes with a note; the resident is told at
each step. The clock is a fake one moved forward between steps, so the times look real.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import app as heatbot_app
from bot.clock import FakeClock
from bot.config import Config
from tgemu import Emulator, EmulatorClient, Msg, User
from demo.outages import outage_story
from demo.world import build_world

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:DEMO-TOKEN"


def _title(text: str) -> None:
    print(f"\n{'═' * 8} {text} {'═' * max(0, 60 - len(text))}")


async def _step(resident: User, text: str | None = None, press: tuple[Msg, str] | None = None) -> Msg:
    if press is not None:
        await resident.press(*press)
    elif text is not None:
        await resident.send(text)
    return await resident.next_message()


async def main() -> int:
    os.environ["TZ"] = "Asia/Shanghai"      # transcript time stamps in the company's time zone
    time.tzset()
    logging.basicConfig(level=logging.WARNING)
    clock = FakeClock(datetime(2026, 1, 15, 1, 0, tzinfo=UTC))   # 09:00 in Shanghai
    emulator = Emulator(token=TOKEN, clock=lambda: clock.now().timestamp())
    await emulator.start()
    tg = EmulatorClient.for_emulator(emulator)
    world = await build_world(tg, ROOT / "org.example.toml")
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            token=TOKEN, api_base_url=emulator.api_base_url, file_base_url=emulator.file_base_url,
            webhook_url=None, webhook_listen="127.0.0.1", webhook_port=0, webhook_secret=None,
            db_path=Path(tmp) / "demo.db", org_path=ROOT / "org.example.toml", policy_path=None,
            lang="zh", tz=ZoneInfo("Asia/Shanghai"), log_level="WARNING",
        )
        app = heatbot_app.build_application(config, clock=clock)
        await heatbot_app.start(app)
        try:
            await _story(world, tg, clock)
            await _clock_story(world, tg, clock, app.bot_data["svc"])
            await outage_story(world, tg, clock, app.bot_data["svc"])
        finally:
            await heatbot_app.stop(app)
    await tg.aclose()
    await emulator.stop()
    return 0


async def _story(world, tg: EmulatorClient, clock: FakeClock) -> None:
    resident = await tg.user("张大爷", language_code="zh")
    group = world.groups["repair-north"]

    msg = await _step(resident, "/start")
    msg = await _step(resident, press=(msg, "我要报修"))
    msg = await _step(resident, press=(msg, "家中不热"))
    msg = await _step(resident, "和平")
    msg = await _step(resident, press=(msg, "和平苑"))
    msg = await _step(resident, "3号楼2单元501")
    await resident.send_contact("8613912345678")
    await resident.next_message()
    msg = await resident.next_message()
    msg = await _step(resident, "14")
    msg = await _step(resident, press=(msg, "跳过"))
    msg = await _step(resident, "暖气片冰凉，从昨晚开始")
    msg = await _step(resident, press=(msg, "确认提交"))

    card = await group.next_message()
    stranger = await tg.user("路人甲", language_code="zh")
    await group.add_member(stranger)
    refused = await stranger.press(card, "受理")

    crew = world.crew(5001)
    clock.advance(minutes=12)
    await crew.press(card, "受理")
    card = await group.wait_edited(card)
    await resident.next_message()
    clock.advance(minutes=31)
    await crew.press(card, "已到场")
    card = await group.wait_edited(card)
    await resident.next_message()
    clock.advance(minutes=75)
    await crew.press(card, "处理完成")
    card = await group.wait_edited(card)
    await resident.next_message()
    await crew.send("户内阀门堵塞，已清洗，室温回升到 18℃", chat=group, reply_to=card)
    await group.wait_edited(card)
    await group.next_message()

    _title("居民 张大爷 与机器人的私聊 / the resident's private chat")
    print(await resident.render_transcript())
    _title("北区维修服务中心 工作群 / the centre's group")
    print(await group.render_transcript())
    _title("按钮权限 / a stranger presses Accept")
    print(f"路人甲 pressed [受理] → alert: {refused.text}")
    print("\ndemo finished: report → card → accept → arrived → done, resident told at each step")


async def _clock_story(world, tg: EmulatorClient, clock: FakeClock, svc) -> None:
    """The deadline clock on an accelerated clock: a leak nobody accepts is reminded at 10 min
    before its accept limit, escalated to the centre lead and dispatch when it passes, and a
    dispatcher takes the alert."""
    from bot import clockwork

    clock.set(datetime(2026, 1, 15, 6, 0, tzinfo=UTC))            # 14:00
    resident = await tg.user("李阿姨", language_code="zh")
    lead = world.crew(5013)
    await lead.send("/start")
    await lead.next_message()
    south, dispatch = world.groups["repair-south"], world.groups["dispatch"]
    msg = await _step(resident, "/report")
    msg = await _step(resident, press=(msg, "户内或楼内漏水"))
    msg = await _step(resident, "阳光")
    msg = await _step(resident, press=(msg, "阳光花园"))
    msg = await _step(resident, "5-1-302")
    await resident.send("13700001111")
    await resident.next_message()
    msg = await resident.next_message()
    msg = await _step(resident, press=(msg, "跳过"))
    msg = await _step(resident, "楼上漏水到我家厨房")
    await _step(resident, press=(msg, "确认提交"))
    card = await south.next_message()

    clock.advance(minutes=20)                                     # 14:20: 10 minutes to the accept limit
    await clockwork.sweep(svc)
    await south.next_message()
    clock.advance(minutes=11)                                     # 14:31: the limit has passed
    await clockwork.sweep(svc)
    alert = await dispatch.next_message()
    await lead.next_message()
    card = await south.wait_edited(card)                          # the card turns visibly overdue
    overdue_card = card.text
    await world.crew(6001).press(alert, "已知悉")
    await dispatch.next_message()
    card = await south.wait_edited(card)
    clock.advance(minutes=4)
    crew = world.crew(5011)
    await crew.press(card, "受理")
    card = await south.wait_edited(card)
    await resident.next_message()

    # The crew cannot make the on-site limit (15:00): they say why before it runs out (Art. 13).
    clock.advance(minutes=5)                                      # 14:40
    await crew.press(card, "申请延时")
    prompt = await south.next_message()
    await crew.send("楼上住户不在家，约好 16:00 入户", chat=south, reply_to=prompt)
    await south.next_message()
    request = await dispatch.next_message_where(lambda m: bool(m.buttons))
    await world.crew(6002).press(request, "批准延时")
    card = await south.wait_edited(card)
    await resident.next_message()
    clock.advance(minutes=30)                                     # 15:10: past the old limit, no alarm
    assert await clockwork.sweep(svc) == 0

    _title("南区维修服务中心 工作群 / the card as it turned overdue at 14:31")
    print(overdue_card)
    _title("南区维修服务中心 工作群 / reminder; the card now (accepted late)")
    print(await south.render_transcript())
    _title("调度中心 / dispatch: the escalation and who took it")
    print(await dispatch.render_transcript())
    _title("南区中心负责人 陈志强 / the centre lead's private chat")
    print(await lead.render_transcript())
    _title("居民 李阿姨 / the resident hears of the approved delay")
    print(await resident.render_transcript())
    print("\ndeadline clock: reminder at the lead time, escalation at the limit, acknowledged by dispatch,")
    print("a delay asked before the limit and approved by dispatch moves the limit (no alarm at the old one)")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
