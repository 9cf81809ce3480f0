"""Outage notices end to end (issue 6; Art. 10 (2), 14, 15, 23 (3)–(5)).

The real Application against the emulator, a real SQLite file and the fake clock. Residents
subscribe by reporting (和平苑 is served by the North Repair Centre, 阳光花园 by the South one);
the sweeper is run by hand after the clock moves, never waited for.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot import outages
from tgemu import Group, Msg, User
from storage import outages as store
from tests.story import report_cold_flat, report_to_address

# The clock starts at 09:00 on 15 January (Shanghai).


async def until(chat, match: Callable[[Msg], bool], timeout: float = 5.0) -> Msg:
    """The next bot message in ``chat`` that matches, skipping others."""
    return await chat.next_message_where(match, timeout)


def has(*words: str) -> Callable[[Msg], bool]:
    return lambda m: all(w in (m.text or m.caption or "") for w in words)


async def bot_texts(chat) -> list[str]:
    return [m.text or m.caption or "" for m in await chat.transcript() if m.from_bot]


async def latest_panel(s, words: str) -> str:
    """Dispatch's progress message as it reads now (the sender edits it in place)."""
    for _ in range(100):
        panels = [t for t in await bot_texts(s.dispatch) if "紧急停热 T001" in t]
        if panels and words in panels[-1]:
            return panels[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no progress message saying {words!r}: {panels[-1:]}")


@dataclass
class Scene:
    app: object
    world: object
    near: User          # subscribed to 和平苑 (reported from there)
    far: User           # subscribed to 阳光花园

    @property
    def svc(self):
        return self.app.bot_data["svc"]

    @property
    def dispatch(self) -> Group:
        return self.world.groups["dispatch"]

    @property
    def dispatcher(self) -> User:
        return self.world.crew(6001)

    async def answer(self, prompt_words: str, text: str) -> None:
        prompt = await until(self.dispatch, has(prompt_words))
        await self.dispatcher.send(text, chat=self.dispatch, reply_to=prompt)

    async def press(self, words: str, button: str, who: User | None = None):
        msg = await until(self.dispatch, has(words))
        return await (who or self.dispatcher).press(msg, button)

    async def outage(self, outage_id: int = 1):
        return await store.get_outage(self.svc.db.conn, outage_id)

    async def settle(self, outage_id: int = 1) -> store.Progress:
        """Wait until the residents' messages of the outage have left the outbox."""
        for _ in range(200):
            p = await store.progress(self.svc.db.conn, outage_id)
            if p.done:
                return p
            await asyncio.sleep(0.02)
        raise AssertionError("broadcast did not finish")


@pytest.fixture
async def scene(bot, tg, world) -> Scene:
    near = await tg.user("张三", language_code="zh")
    await report_cold_flat(near)
    far = await tg.user("李四", language_code="zh")
    await report_cold_flat(far, community="阳光", pick="阳光花园")
    await world.groups["repair-north"].next_message()
    await world.groups["repair-south"].next_message()
    return Scene(bot, world, near, far)


async def start_emergency(s: Scene, *, reason: str = "主管道爆管，正在抢修", end: str = "18:00") -> None:
    await s.dispatcher.send("/outage", chat=s.dispatch)
    await s.press("发布哪一种通知", "紧急停热")
    await s.press("影响哪些小区", "和平苑")
    await s.press("已选：和平苑", "选好了")
    await s.answer("管径", "DN300")
    await s.answer("关闭阀门", "2 个 DN200")
    await s.answer("影响范围", "和平苑 1-6 号楼")
    await s.answer("停热原因", reason)
    await s.answer("停热开始时间", "现在")
    await s.answer("预计恢复时间", end)
    await s.press("请核对", "提交")


async def start_planned(s: Scene, *, start: str = "2026-01-20 08:00", end: str = "2026-01-20 20:00",
                        reason: str = "换热站年度检修") -> Msg:
    await s.dispatcher.send("/outage", chat=s.dispatch)
    await s.press("发布哪一种通知", "计划停热")
    await s.press("影响哪些小区", "和平苑")
    await s.press("已选：和平苑", "幸福里")
    await s.press("已选：和平苑、幸福里", "选好了")
    await s.press("部分楼栋", "全部楼栋")
    await s.answer("停热原因", reason)
    await s.answer("停热开始时间", start)
    await s.answer("预计恢复时间", end)
    return await until(s.dispatch, has("请核对"))


# ------------------------------------------------------------------------------ emergency


async def test_an_emergency_shutdown_reaches_subscribers_customer_service_and_centres_at_once_art_15(scene):
    await start_emergency(scene)
    notice = await until(scene.near, has("紧急停热通知"))
    assert "和平苑" in notice.text and "1月15日 18:00" in notice.text and "主管道" in notice.text
    assert "DN300" not in notice.text and "T001" not in notice.text          # residents read words, not codes
    cs = await until(scene.world.groups["customer_service"], has("紧急停热通知"))
    assert "2 个 DN200" in cs.text and "和平苑 1-6 号楼" in cs.text and "第十五条" in cs.text
    north = await until(scene.world.groups["repair-north"], has("紧急停热通知"))
    assert north.button_texts() == ["📌 已张贴"] and "1月15日 11:00" in north.text     # post within 2 h
    network = await until(scene.world.groups["network-station"], has("紧急停热通知"))
    assert "无需张贴" in network.text
    panel = await until(scene.dispatch, has("紧急停热 T001"))
    assert panel.button_texts() == ["⏱ 更新预计恢复时间", "✅ 已恢复供热"]
    await scene.settle()
    assert not any("停热" in t for t in await bot_texts(scene.far))           # 阳光花园 is not affected
    assert not any("停热" in t for t in await bot_texts(scene.world.groups["repair-south"]))


async def test_updating_the_expected_end_sends_a_short_update_to_subscribers(scene):
    await start_emergency(scene)
    await until(scene.near, has("紧急停热通知"))
    answer = await scene.press("紧急停热 T001", "更新预计恢复时间")
    assert "回复" in answer.text
    await scene.answer("当前预计恢复时间", "20:00")
    update = await until(scene.near, has("恢复时间更新"))
    assert "1月15日 20:00" in update.text and "原为 1月15日 18:00" in update.text and "T001" not in update.text
    assert "T001" in (await until(scene.world.groups["customer_service"], has("恢复时间更新"))).text   # staff keep the code
    assert "已改为 1月15日 20:00" in (await until(scene.dispatch, has("预计恢复时间已改为"))).text
    assert (await scene.outage()).ends_at.hour == 12          # 20:00 Shanghai in UTC


async def test_an_update_to_a_time_before_now_is_refused_and_asked_again(scene, clock):
    await start_emergency(scene)
    clock.advance(hours=2)                        # 11:00
    await scene.press("紧急停热 T001", "更新预计恢复时间")
    await scene.answer("当前预计恢复时间", "10:00")
    assert "已经过去" in (await until(scene.dispatch, has("恢复（结束）时间"))).text
    await until(scene.dispatch, has("当前预计恢复时间"))


async def test_marking_restored_tells_subscribers_and_reports_to_customer_service_and_dispatch(scene, clock):
    await start_emergency(scene)
    await until(scene.near, has("紧急停热通知"))
    clock.advance(hours=5)
    answer = await scene.press("紧急停热 T001", "已恢复供热")
    assert "已记录恢复供热" in answer.text
    back = await until(scene.near, has("已恢复供热"))
    assert "1月15日 14:00" in back.text and "T001" not in back.text
    for group in ("customer_service", "dispatch"):
        report = await until(scene.world.groups[group], has("恢复供热报告"))
        assert "约 5.0 小时" in report.text and "孙丽" in report.text and "DN300" in report.text
    await scene.settle()
    assert not any("恢复" in t for t in await bot_texts(scene.far))


async def test_restoring_an_outage_twice_changes_nothing(scene):
    await start_emergency(scene)
    panel = await until(scene.dispatch, has("紧急停热 T001"))
    await scene.dispatcher.press(panel, "已恢复供热")
    await until(scene.near, has("已恢复供热"))
    # The button may already be gone from an updated panel: a second press raced the first.
    again = await scene.world.crew(6002).press_data(panel, "o:c:1:restore")
    assert "已经恢复过了" in again.text
    events = [e[1] for e in await store.list_events(scene.svc.db.conn, 1)]
    assert events.count("restored") == 1
    await scene.settle()
    assert sum("已恢复供热" in t for t in await bot_texts(scene.near)) == 1


async def test_a_crew_member_cannot_restore_or_update_an_outage(scene, world):
    await start_emergency(scene)
    panel = await until(scene.dispatch, has("紧急停热 T001"))
    crew = world.crew(5001)
    await scene.dispatch.add_member(crew)
    assert "只有调度人员" in (await crew.press(panel, "已恢复供热")).text
    assert (await scene.outage()).restored_at is None


# ------------------------------------------------------------------------------ outage-aware intake


async def _report_until_community(resident: User) -> Msg:
    return await report_to_address(resident)


async def test_a_cold_home_report_during_an_outage_is_answered_with_the_notice_first(scene, tg):
    await start_emergency(scene)
    await until(scene.near, has("紧急停热通知"))
    neighbour = await tg.user("王五", language_code="zh")
    answer = await _report_until_community(neighbour)
    assert "您的小区正在停热" in answer.text and "预计恢复：1月15日 18:00" in answer.text
    assert answer.button_texts() == ["📝 仍然报修", "不报修了"]
    await neighbour.press(answer, "不报修了")
    assert "这次不报修" in (await neighbour.next_message()).text
    assert await store.subscriptions_of(scene.svc.db.conn, neighbour.id) == ["heping"]
    async with scene.svc.db.conn.execute("SELECT COUNT(*) FROM tickets") as cur:
        assert (await cur.fetchone())[0] == 2


async def test_a_report_filed_anyway_is_linked_to_the_outage_and_shown_to_dispatch(scene, tg, world):
    await start_emergency(scene)
    await until(scene.near, has("紧急停热通知"))
    neighbour = await tg.user("王五", language_code="zh")
    answer = await _report_until_community(neighbour)
    await neighbour.press(answer, "仍然报修")
    assert "楼" in (await neighbour.next_message()).text          # carries on: the address
    await neighbour.send("5-1-101")
    await neighbour.next_message()
    await neighbour.send("13911112222")
    await neighbour.next_message()
    await neighbour.send("12", )
    await neighbour.next_message()
    msg = await neighbour.next_message()
    await neighbour.press(msg, "跳过")       # photo and description: one step
    summary = await neighbour.next_message()
    await neighbour.press(summary, "确认提交")
    assert "0003" in (await neighbour.next_message()).text
    assert await store.linked_tickets(scene.svc.db.conn, 1) == [3]
    await scene.settle()
    panel = await until(scene.dispatch, has("紧急停热 T001"))
    await scene.dispatcher.press(panel, "已恢复供热")
    report = await until(scene.dispatch, has("恢复供热报告"))
    assert "停热期间报修：0003" in report.text


async def test_a_cold_home_report_from_an_unaffected_community_goes_on_as_usual(scene, tg):
    await start_emergency(scene)
    other = await tg.user("赵六", language_code="zh")
    receipt = await report_cold_flat(other, community="阳光", pick="阳光花园", address="5-1-101")
    assert "0003" in receipt.text


# ------------------------------------------------------------------------------ planned


async def test_a_planned_shutdown_waits_for_a_department_heads_approval_art_14(scene, world):
    summary = await start_planned(scene)
    assert "⚠️" not in summary.text and "部门负责人审批" in summary.text
    await scene.dispatcher.press(summary, "提交")
    request = await until(scene.dispatch, has("计划停热待审批"))
    assert request.button_texts() == ["✅ 批准", "❌ 驳回"]
    refused = await world.crew(6002).press(request, "批准")
    assert "只有部门负责人" in refused.text
    assert (await scene.outage()).status == "pending"
    ok = await world.crew(7001).press(request, "批准")
    assert "已批准" in ok.text
    assert "林国栋 批准" in (await until(scene.dispatch, has("已由 林国栋 批准"))).text
    notice = await until(scene.near, has("计划停热通知"))
    assert "和平苑、幸福里" in notice.text and "1月20日 08:00" in notice.text and "1月20日 20:00" in notice.text
    await until(scene.world.groups["customer_service"], has("计划停热通知"))
    north = await until(world.groups["repair-north"], has("计划停热通知"))
    assert "1月18日 08:00" in north.text and north.button_texts() == ["📌 已张贴"]     # 48 h before the start
    again = await world.crew(7001).press(request, "驳回")
    assert "已经处理过了" in again.text
    await scene.settle()
    assert not any("停热" in t for t in await bot_texts(scene.far))


async def test_a_rejected_planned_shutdown_sends_no_notice(scene, world):
    summary = await start_planned(scene)
    await scene.dispatcher.press(summary, "提交")
    request = await until(scene.dispatch, has("计划停热待审批"))
    await world.crew(7001).press(request, "驳回")
    await until(scene.dispatch, has("未获批准"))
    assert (await scene.outage()).status == "rejected"
    assert not any("停热通知" in t for t in await bot_texts(scene.near))


async def _approved_planned(s: Scene, **kw) -> Msg:
    summary = await start_planned(s, **kw)
    await s.dispatcher.press(summary, "提交" if "⚠️" not in summary.text else "仍然提交")
    request = await until(s.dispatch, has("计划停热待审批"))
    await s.world.crew(7001).press(request, "批准")
    return await until(s.world.groups["repair-north"], has("计划停热通知"))


async def test_the_centre_confirms_posting_once_and_only_its_own_staff_may(scene, world):
    north = world.groups["repair-north"]
    notice = await _approved_planned(scene)
    south_crew = world.crew(5011)
    await north.add_member(south_crew)
    assert "只有负责张贴" in (await south_crew.press(notice, "已张贴")).text
    assert "已记录张贴" in (await world.crew(5001).press(notice, "已张贴")).text
    assert "王师傅 已于 1月15日 09:00 张贴 T001 的通知" in (await until(north, has("张贴 T001"))).text
    assert "已由 王师傅 确认张贴" in (await world.crew(5002).press(notice, "已张贴")).text
    posting = (await store.postings_of(scene.svc.db.conn, 1))[0]
    assert posting.posted_by == 5001 and posting.late is False and posting.next_at is None


async def test_a_photo_replied_to_the_notice_is_filed_and_confirms_the_posting(scene, world):
    north = world.groups["repair-north"]
    notice = await _approved_planned(scene)
    await world.crew(5002).send_photo(b"\x89PNG fake photo of the notice", chat=north, reply_to=notice)
    assert "已存档" in (await until(north, has("照片"))).text
    posting = (await store.postings_of(scene.svc.db.conn, 1))[0]
    assert posting.photo_file_id and posting.posted_by == 5002


async def test_an_unposted_notice_is_reminded_then_escalated_like_any_deadline_art_23(scene, world, clock):
    for uid in (5003, 7001):                      # the centre lead and the head have private chats with the bot
        await world.crew(uid).send("/start")
        await world.crew(uid).next_message()
    north = world.groups["repair-north"]
    await _approved_planned(scene)                # posting due 18 Jan 08:00
    svc = scene.svc
    clock.advance(hours=64)                       # 18 Jan 01:00: nothing yet
    assert await outages.sweep(svc) == 0
    clock.advance(hours=1)                        # 02:00: 6 h before the deadline
    assert await outages.sweep(svc) == 1
    assert "1月18日 08:00" in (await until(north, has("请在"))).text
    assert await outages.sweep(svc) == 0
    clock.advance(hours=6, minutes=5)             # 08:05: past the deadline
    assert await outages.sweep(svc) == 1
    alert = await until(scene.dispatch, has("通知张贴超时"))
    assert "北区维修服务中心" in alert.text and "超时 5 分钟" in alert.text
    assert "通知张贴超时" in (await until(world.crew(5003), has("通知张贴超时"))).text
    clock.advance(minutes=30)
    assert await outages.sweep(svc) == 1
    assert "超时升级" in (await until(world.crew(7001), has("超时升级"))).text
    clock.advance(hours=1)
    assert await outages.sweep(svc) == 0


async def test_subscribers_are_reminded_12_hours_before_a_planned_start(scene, clock):
    await _approved_planned(scene)
    await until(scene.near, has("计划停热通知"))
    clock.advance(hours=106, minutes=59)          # 19 Jan 19:59
    await outages.sweep(scene.svc)
    clock.advance(minutes=1)                      # 19 Jan 20:00: 12 h before 08:00
    await outages.sweep(scene.svc)
    reminder = await until(scene.near, has("停热提醒"))
    assert "1月20日 08:00" in reminder.text
    await outages.sweep(scene.svc)
    await scene.settle()
    assert sum("停热提醒" in t for t in await bot_texts(scene.near)) == 1
    assert not any("停热提醒" in t for t in await bot_texts(scene.far))


async def test_subscribers_list_current_and_upcoming_outages_and_can_unsubscribe(scene):
    await _approved_planned(scene)
    await scene.near.send("/outages")
    listing = await until(scene.near, has("停热信息"))
    assert "即将停热" in listing.text and "T001" in listing.text
    await scene.far.send("/outages")
    assert "目前没有停热" in (await until(scene.far, has("目前没有"))).text
    await scene.near.send("/unsubscribe")
    assert "已取消订阅：和平苑" in (await until(scene.near, has("取消订阅"))).text
    await scene.near.send("/outages")
    assert "还没有订阅" in (await until(scene.near, has("还没有订阅"))).text
    await scene.near.send("/subscribe 和平")
    assert "已订阅 和平苑" in (await until(scene.near, has("已订阅"))).text


async def test_subscribe_to_an_unknown_community_is_answered(scene, tg):
    stranger = await tg.user("Tom", language_code="en")
    await stranger.send("/subscribe Atlantis")
    assert 'No community called "Atlantis"' in (await stranger.next_message()).text
    await stranger.send("/subscribe")
    assert "/subscribe" in (await stranger.next_message()).text


# ------------------------------------------------------------------------------ progress


async def test_dispatch_sees_how_many_residents_were_reached_failed_or_blocked(scene, tg):
    blocker = await tg.user("钱七", language_code="zh")
    await report_cold_flat(blocker, address="4-1-101")
    await blocker.block()
    await start_emergency(scene)
    first = await until(scene.dispatch, has("紧急停热 T001"))
    assert "共 2" in first.text
    p = await scene.settle()
    assert (p.total, p.sent, p.blocked, p.failed) == (2, 1, 1, 0)
    await outages.sweep(scene.svc)
    latest = await latest_panel(scene, "已发完")
    assert "已送达 1" in latest and "已屏蔽机器人 1" in latest


async def test_broadcasts_wait_behind_escalations_in_the_outbox(scene):
    await start_emergency(scene)
    async with scene.svc.db.conn.execute(
        "SELECT DISTINCT o.priority FROM outbox o JOIN outage_messages m ON m.outbox_id = o.id WHERE m.audience = 'resident'",
    ) as cur:
        assert [r[0] for r in await cur.fetchall()] == [2]          # Priority.BULK


# ------------------------------------------------------------------------------ bad input


async def test_a_non_dispatcher_running_outage_is_refused(scene, world):
    north = world.groups["repair-north"]
    await world.crew(5001).send("/outage", chat=north)
    assert "只有调度人员" in (await until(north, has("/outage"))).text
    crew = world.crew(5003)
    await scene.dispatch.add_member(crew)
    await crew.send("/outage", chat=scene.dispatch)
    assert "只有调度人员" in (await until(scene.dispatch, has("只有调度人员"))).text
    async with scene.svc.db.conn.execute("SELECT COUNT(*) FROM outage_wizards") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_another_person_cannot_press_a_dispatchers_wizard_buttons(scene, world):
    await scene.dispatcher.send("/outage", chat=scene.dispatch)
    ask = await until(scene.dispatch, has("发布哪一种通知"))
    assert "不是您的操作" in (await world.crew(6002).press(ask, "紧急停热")).text


async def test_an_unknown_community_is_named_and_asked_again(scene):
    await scene.dispatcher.send("/outage", chat=scene.dispatch)
    await scene.press("发布哪一种通知", "紧急停热")
    await scene.answer("影响哪些小区", "和平, 火星小区")
    assert "没有找到小区：火星小区" in (await until(scene.dispatch, has("没有找到"))).text
    again = await until(scene.dispatch, has("影响哪些小区"))
    assert "已选：和平苑" in again.text


async def test_an_end_before_the_start_is_refused_and_asked_again(scene):
    await scene.dispatcher.send("/outage", chat=scene.dispatch)
    await scene.press("发布哪一种通知", "紧急停热")
    await scene.answer("影响哪些小区", "和平苑")
    for prompt, answer in (("管径", "DN300"), ("关闭阀门", "1 个 DN150"), ("影响范围", "和平苑"), ("停热原因", "爆管"),
                           ("停热开始时间", "现在")):
        await scene.answer(prompt, answer)
    await scene.answer("预计恢复时间", "08:00")
    assert "必须晚于开始时间" in (await until(scene.dispatch, has("恢复（结束）时间"))).text
    await scene.answer("预计恢复时间", "soon")
    assert "看不懂“soon”" in (await until(scene.dispatch, has("看不懂"))).text
    await scene.answer("预计恢复时间", "3小时")
    assert "1月15日 12:00" in (await until(scene.dispatch, has("请核对"))).text


@pytest.mark.parametrize(("start", "warning"), [("2026-01-15 08:00", "开始时间已经过去"), ("明天 08:00", "不足 48 小时")],
                         ids=["start-in-the-past", "inside-the-notice-period"])
async def test_a_planned_start_in_the_past_or_too_soon_warns_and_needs_explicit_confirmation(scene, world, start, warning):
    summary = await start_planned(scene, start=start, end="2026-01-16 20:00")
    assert warning in summary.text and summary.button_texts() == ["⚠️ 仍然提交", "❌ 取消"]
    await scene.dispatcher.press(summary, "仍然提交")
    request = await until(scene.dispatch, has("计划停热待审批"))
    assert "⚠️" in request.text
    assert (await scene.outage()).short_notice is True
    await world.crew(7001).press(request, "批准")
    north = await until(world.groups["repair-north"], has("计划停热通知"))
    assert "请在" in north.text


@pytest.mark.parametrize("length", [3000, 4000], ids=["3000-chars", "4000-chars"])
async def test_a_very_long_reason_still_reaches_everyone_within_telegrams_limit(scene, world, length):
    reason = ("因主管网腐蚀严重需更换阀门" * 400)[:length]
    await start_emergency(scene, reason=reason)
    notice = await until(scene.near, has("紧急停热通知"))
    cs = await until(world.groups["customer_service"], has("紧急停热通知"))
    north = await until(world.groups["repair-north"], has("紧急停热通知"))
    for msg in (notice, cs, north):
        assert len(msg.text) <= 4096
    assert north.button_texts() == ["📌 已张贴"]
    if length == 4000:
        assert "节选" in notice.text
    o = await scene.outage()
    assert len(o.reason) == length            # the record and the printable page keep it whole
    async with scene.svc.db.conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_cancel_in_the_middle_sends_nothing(scene):
    await scene.dispatcher.send("/outage", chat=scene.dispatch)
    await scene.press("发布哪一种通知", "紧急停热")
    await scene.answer("影响哪些小区", "和平苑")
    await scene.answer("管径", "取消")
    assert "已取消" in (await until(scene.dispatch, has("已取消"))).text
    async with scene.svc.db.conn.execute("SELECT COUNT(*) FROM outages") as cur:
        assert (await cur.fetchone())[0] == 0


# ------------------------------------------------------------------------------ printable pages


@pytest.mark.parametrize("notice", outages.PRINT_NOTICES)
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_printable_a4_page_renders_for_every_notice_kind(scene, notice, lang):
    await start_emergency(scene, reason="<script>alert(1)</script> 爆管 & 抢修")
    await until(scene.near, has("紧急停热通知"))
    async with scene.svc.db.transaction() as conn:
        name, data = await outages.render_document(conn, scene.svc, {"outage_id": 1, "notice": notice, "lang": lang})
    html = data.decode("utf-8")
    assert name == f"T001-{notice}.html"
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "@page { size: A4 portrait" in html and "@media print" in html
    assert "T001" in html and ("和平苑" if lang == "zh" else "Heping Garden") in html
    assert "<script>" not in html
    if notice in ("planned", "emergency", "calibration"):
        assert "&lt;script&gt;" in html
    if notice == "emergency":
        assert "DN300" in html


async def test_a_calibration_notice_needs_no_approval_and_does_not_stop_intake(scene, tg, world):
    await scene.dispatcher.send("/outage", chat=scene.dispatch)
    await scene.press("发布哪一种通知", "热量表检定")
    await scene.press("影响哪些小区", "和平苑")
    await scene.press("已选：和平苑", "选好了")
    await scene.answer("部分楼栋", "3号楼")
    await scene.answer("检定说明", "户用热量表周期检定")
    await scene.answer("检定开始时间", "2026-01-22 09:00")
    await scene.answer("检定结束时间", "2026-01-22 17:00")
    await scene.press("请核对", "提交")
    notice = await until(scene.near, has("热量表检定通知"))
    assert "（3号楼）" in notice.text and "第十六条" in notice.text
    north = await until(world.groups["repair-north"], has("热量表检定通知"))
    assert "1月20日 09:00" in north.text
    neighbour = await tg.user("王五", language_code="zh")
    assert "0003" in (await report_cold_flat(neighbour, address="6-1-101")).text


async def test_an_english_subscriber_gets_the_notice_in_english(scene, tg):
    tom = await tg.user("Tom", language_code="en")
    await tom.send("/subscribe heping")
    assert "Heping Garden" in (await tom.next_message()).text
    await start_emergency(scene)
    notice = await until(tom, has("Emergency shutdown"))
    assert "15 Jan 18:00" in notice.text and "停" not in notice.text
