"""``make demo``'s outage story (issue 6): an emergency shutdown — the notice, a resident's
cold-home report answered by it, restoration — printed as transcripts.

Called from bot/demo.py with the running bot's world, emulator client, fake clock and services.
"""
from __future__ import annotations

from collections.abc import Callable

from tgemu import EmulatorClient, Msg

__all__ = ["outage_story"]


async def _until(chat, match: Callable[[Msg], bool], timeout: float = 10.0) -> Msg:
    return await chat.next_message_where(match, timeout)


def _has(*words: str) -> Callable[[Msg], bool]:
    return lambda m: all(w in (m.text or m.caption or "") for w in words)


async def _since(chat, after: int) -> str:
    msgs = [m for m in await chat.transcript() if m.message_id > after]
    return EmulatorClient.render(msgs)


async def _last_id(chat) -> int:
    msgs = await chat.transcript()
    return msgs[-1].message_id if msgs else 0


def _title(text: str) -> None:
    print(f"\n{'═' * 8} {text} {'═' * max(0, 60 - len(text))}")


async def outage_story(world, tg: EmulatorClient, clock, svc) -> None:
    dispatch, cs, north = world.groups["dispatch"], world.groups["customer_service"], world.groups["repair-north"]
    marks = {name: await _last_id(g) for name, g in (("dispatch", dispatch), ("cs", cs), ("north", north))}
    dispatcher = world.crew(6001)

    # A resident of 和平苑 subscribes to outage notices (reporting a problem would do it too).
    subscriber = await tg.user("陈阿姨", language_code="zh")
    await subscriber.send("/subscribe 和平苑")
    await subscriber.next_message()

    # A burst on the main: the dispatcher publishes an emergency shutdown (Art. 15).
    async def answer(prompt: str, text: str) -> None:
        await dispatcher.send(text, chat=dispatch, reply_to=await _until(dispatch, _has(prompt)))

    await dispatcher.send("/outage", chat=dispatch)
    await dispatcher.press(await _until(dispatch, _has("发布哪一种通知")), "紧急停热")
    await dispatcher.press(await _until(dispatch, _has("影响哪些小区")), "和平苑")
    await dispatcher.press(await _until(dispatch, _has("已选：和平苑")), "选好了")
    await answer("管径", "DN300")
    await answer("关闭阀门", "2 个 DN200")
    await answer("影响范围", "和平苑 1-6 号楼")
    await answer("停热原因", "一次网主管道爆管，正在抢修")
    await answer("停热开始时间", "现在")
    await answer("预计恢复时间", "6小时")
    await dispatcher.press(await _until(dispatch, _has("请核对")), "提交")
    await _until(subscriber, _has("紧急停热通知"))

    # Another resident's home goes cold: the bot answers with the notice before filing.
    neighbour = await tg.user("刘大爷", language_code="zh")
    await neighbour.send("/report")
    await neighbour.press(await neighbour.next_message(), "家中不热")
    await neighbour.next_message()
    await neighbour.send("和平")
    await neighbour.press(await neighbour.next_message(), "和平苑")
    answered = await neighbour.next_message()
    await neighbour.press(answered, "不报修了")
    await neighbour.next_message()

    # The crew posts the notice; four hours later heat is back.
    notice = await _until(north, _has("紧急停热通知"))
    await world.crew(5001).press(notice, "已张贴")
    await _until(north, _has("张贴"))
    clock.advance(hours=4)
    panel = await _until(dispatch, _has("紧急停热", "T"))
    await dispatcher.press(panel, "已恢复供热")
    await _until(subscriber, _has("已恢复供热"))
    await _until(cs, _has("恢复供热报告"))
    await _until(dispatch, _has("恢复供热报告"))

    _title("订阅居民 陈阿姨 / a subscribed resident")
    print(await subscriber.render_transcript())
    _title("居民 刘大爷 报修“家中不热” / a cold-home report during the outage")
    print(await neighbour.render_transcript())
    _title("调度中心 / dispatch: /outage, progress, restoration report")
    print(await _since(dispatch, marks["dispatch"]))
    _title("客服中心 / customer service (Art. 15)")
    print(await _since(cs, marks["cs"]))
    _title("北区维修服务中心 / the centre posting the notice (Art. 23)")
    print(await _since(north, marks["north"]))
    print("\noutage demo finished: emergency notice → cold-home report answered by it → notice posted → heat restored")
