"""Digests under pressure, and the outbox at a glance (/queue, ``heatbot status``) (issue 5)."""
from __future__ import annotations

import json
import subprocess
import sys

from bot import clockwork, desk
from bot.services import Who
from storage import outbox, tickets
from tests.conftest import ROOT
from tests.test_sender_faults import (  # noqa: F401  (fixtures)
    SharedClock, emu, hb, new_tickets, pending, settle, shared, started_resident, texts_in, tgc, until, w,
)


async def _pending_is(app, n: int) -> bool:
    return await pending(app) == n


def _utf16(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


async def test_new_tickets_beyond_a_groups_budget_arrive_as_one_digest_that_is_their_card(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    numbers = await new_tickets(hb, resident, 25)
    group = w.groups["repair-north"]
    digest = await group.next_message()
    assert "新工单 25 张" in digest.text
    assert all(f"{n:04d}" in digest.text for n in numbers)
    assert len(digest.button_texts()) == 25 and digest.button_texts()[0] == "✅ 受理 0001"
    await until(lambda: _pending_is(hb, 0), shared, step=0.2, timeout=10)
    conn = hb.bot_data["svc"].db.conn
    for n in numbers:
        t = await tickets.get_ticket(conn, n)
        assert (t.card_chat_id, t.card_message_id) == (group.id, digest.message_id)
    assert len(await texts_in(group)) == 1


async def test_accept_on_a_digest_is_authorised_like_a_card_and_posts_the_full_card(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    await new_tickets(hb, resident, 22)
    group = w.groups["repair-north"]
    digest = await group.next_message()
    stranger = w.crew(5011)                                  # a crew of the south centre
    await group.add_member(stranger)
    assert "不是负责" in (await stranger.press(digest, "受理 0003")).text
    crew = w.crew(5001)
    assert "已受理" in (await crew.press(digest, "受理 0003")).text
    card = await group.next_message()
    assert "工单 0003" in card.text and "已受理" in card.text and "王师傅" in card.text
    assert card.button_texts()[0] == "📍 已到场"
    await until(lambda: _card_is(hb, 3, card.message_id), shared, step=0.1)
    # The digest's button for 0003 is stale now; the other tickets still go through it.
    again = await w.crew(5002).press(digest, "受理 0003")
    assert "失效" in again.text
    assert "已受理" in (await w.crew(5002).press(digest, "受理 0004")).text
    await until(lambda: _told(resident, "0003"), shared, step=0.2)
    await until(lambda: _told(resident, "0004"), shared, step=0.2)
    assert len([t for t in await texts_in(resident) if "0003" in t and "王师傅" in t]) == 1


async def _told(resident, number: str) -> bool:
    return any(number in t and "受理" in t and "师傅" in t for t in await texts_in(resident))


async def _card_is(app, number: int, message_id: int) -> bool:
    return (await tickets.get_ticket(app.bot_data["svc"].db.conn, number)).card_message_id == message_id


async def test_a_digest_keeps_within_telegrams_size_and_button_limits(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    numbers = await new_tickets(hb, resident, 160)
    group = w.groups["repair-north"]
    await until(lambda: _pending_is(hb, 0), shared, step=0.5, timeout=20)
    posted = [m for m in await group.transcript() if m.from_bot]
    assert 2 <= len(posted) <= 4
    listed = []
    for m in posted:
        assert _utf16(m.text) <= 4096 and len(m.button_texts()) <= 100
        assert m.text.startswith("📥")
        listed += [b.split()[-1] for b in m.button_texts()]
    assert listed == [f"{n:04d}" for n in numbers]                # every ticket once, in order
    assert await outbox.failed_count(hb.bot_data["svc"].db.conn) == 0


async def test_a_few_new_tickets_get_their_own_cards_not_a_digest(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    await new_tickets(hb, resident, 3)
    group = w.groups["repair-north"]
    await until(lambda: _pending_is(hb, 0), shared, step=0.2)
    assert [t.split("\n")[0].split("工单 ")[1][:4] for t in await texts_in(group)] == ["0001", "0002", "0003"]


async def test_queue_in_the_dispatch_group_shows_depth_by_priority_oldest_wait_and_failures(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    await w.groups["repair-south"].remove_bot()
    await new_tickets(hb, resident, 1, community="yangguang")      # its card cannot be delivered
    dispatch = w.groups["dispatch"]
    await dispatch.next_message()                                   # "cannot post to the group"
    await tgc.force_429(w.groups["repair-north"], 120)
    await new_tickets(hb, resident, 2)
    await until(lambda: _pending_is(hb, 2), shared, step=0.2)
    shared.advance(seconds=75)
    dispatcher = w.crew(6001)
    await dispatcher.send("/queue", chat=dispatch)
    report = await dispatch.next_message()
    assert "待发消息</b>：2" not in report.text                     # rendered, not raw HTML
    assert "待发消息：2 条" in report.text and "紧急（工单卡片、升级提醒）：2" in report.text
    assert "最早一条已等待：1 分 15 秒" in report.text
    assert "无法送达（已停止重试）：1 条" in report.text and "工单 0001" in report.text


async def test_queue_outside_the_dispatch_group_or_from_crew_is_refused_in_the_users_language(hb, tgc, w, shared):
    crew = w.crew(5001)
    await crew.send("/queue", chat=w.groups["repair-north"])
    assert "只能由调度人员" in (await w.groups["repair-north"].next_message()).text
    resident = await tgc.user("Ann", language_code="en")
    await resident.send("/queue")
    assert "for dispatchers" in (await resident.next_message()).text


async def test_heatbot_status_reads_the_database_file_without_telegram(hb, tgc, w, shared, db_path, tmp_path):
    resident = await started_resident(tgc)
    await resident.block()
    await new_tickets(hb, resident, 1)
    await until(lambda: _pending_is(hb, 0), shared, step=0.2)
    env = {"HEATBOT_DB": str(db_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "bot.cli", "status", "--json"], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["pending"], data["failed"]) == (0, 1) and "blocked" in data["recent_failures"][0]["error"]
    text = subprocess.run([sys.executable, "-m", "bot.cli", "status"], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=30).stdout
    assert "outbox pending: 0 (urgent 0, status 0, bulk 0)" in text and "permanent failures: 1" in text
    missing = subprocess.run([sys.executable, "-m", "bot.cli", "status"], cwd=tmp_path, env={"HEATBOT_DB": str(tmp_path / "nope.db"), "PYTHONPATH": str(ROOT)},
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and missing.stderr.startswith("heatbot: no database at") and "Traceback" not in missing.stderr


async def test_a_ticket_still_shown_in_a_digest_gets_its_alerts_at_its_limit_but_no_card_of_its_own(hb, tgc, w, shared):
    resident = await started_resident(tgc)
    numbers = await new_tickets(hb, resident, 22)
    group, dispatch = w.groups["repair-north"], w.groups["dispatch"]
    digest = await group.next_message()
    assert "新工单 22 张" in digest.text
    await until(lambda: _pending_is(hb, 0), shared, step=0.2, timeout=10)
    svc = hb.bot_data["svc"]
    shared.advance(minutes=20)                       # the reminders, then the accept limit
    assert await clockwork.sweep(svc) == 22
    shared.advance(minutes=12)
    assert await clockwork.sweep(svc) == 22
    await until(lambda: _pending_is(hb, 0), shared, step=1.0, timeout=20)
    # Every required alert went out: dispatch was told of each ticket, with a button for each.
    told = " ".join(await texts_in(dispatch))
    assert all(f"{n:04d}" in told for n in numbers)
    buttons = [b for m in await dispatch.transcript() if m.from_bot for b in m.button_texts()]
    assert sorted(buttons) == sorted(f"👀 {n:04d} 已知悉" for n in numbers)
    # The group: the digest and the gathered reminder, and no full card per overdue ticket.
    posted = await texts_in(group)
    assert len(posted) == 2 and all(f"工单 {n:04d}" in posted[1] for n in numbers)
