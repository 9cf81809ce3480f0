"""The figures of a ledger the real bot wrote: a ticket reported, accepted, left past its
on-site limit (the real sweeper's escalation), returned and transferred by dispatch, and
finished by the other centre — through the emulator, with the fake clock."""
from __future__ import annotations

from datetime import date

from bot import clockwork
from bot.report import build_report
from rules.assessment import period_between
from tests import story


async def test_the_ledger_the_bot_writes_counts_a_late_arrival_against_the_centre_that_let_it_pass(bot, tg, world, clock):
    scene = await story.cold_flat_scene(bot, tg, world)             # 09:00 Shanghai; on site by 10:00
    svc = scene.svc
    clock.advance(minutes=10)
    await scene.step(world.crew(5001), "受理")                      # north accepts at 09:10
    clock.advance(minutes=50)                                       # 10:00: the on-site limit passes at north
    await clockwork.sweep(svc)
    clock.advance(minutes=5)
    await world.crew(5001).press(scene.card, "退单")
    prompt = await scene.north.next_message_where(lambda m: "退单原因" in m.text)
    await world.crew(5001).send("这户属于南区", chat=scene.north, reply_to=prompt)
    decision = await scene.dispatch.next_message_where(lambda m: any("南区" in b for b in m.button_texts()))
    clock.advance(minutes=5)                                        # 10:10: transferred to south
    await world.crew(6001).press(decision, "南区维修服务中心")
    south = world.groups["repair-south"]
    card = await south.next_message_where(lambda m: bool(m.buttons))
    clock.advance(minutes=10)
    await world.crew(5011).press(card, "受理")                      # 10:20, within south's fresh 30 minutes
    card = await south.wait_edited(card)
    clock.advance(minutes=10)
    await world.crew(5011).press(card, "到场")                      # 10:30: 30 minutes after the limit
    card = await south.wait_edited(card)
    clock.advance(minutes=30)
    await world.crew(5011).press(card, "处理完成")                      # 11:00

    day = period_between(date(2026, 1, 15), date(2026, 1, 15), svc.tz)
    report = await build_report(svc.db.conn, day, tz=svc.tz, rules=svc.policy.assessment, made_at=clock.now())
    by = {c.centre_id: c for c in report.centres}
    north, southf = by["repair-north"], by["repair-south"]
    assert (north.received, north.limits["accept"].judged, north.limits["accept"].late) == (1, 1, 0)
    assert (north.limits["onsite"].judged, north.limits["onsite"].late) == (1, 1)
    assert (north.returns_asked, north.transfers_out, southf.transfers_in) == (1, 1, 1)
    assert (southf.received, southf.limits["accept"].judged, southf.limits["accept"].late) == (0, 1, 0)
    assert southf.limits["onsite"].judged == 0                      # south's late arrival is north's late limit
    assert (southf.limits["close"].judged, southf.limits["close"].late, southf.closed_done) == (1, 0, 1)
    assert (southf.to_accept.median, southf.to_arrive.median, southf.to_close.median) == (80.0, 90.0, 120.0)
    assert [(e.centre_id, e.kind, e.number) for e in report.events] == [("repair-north", "late_onsite", "0001")]
    assert southf.followups_asked == 1
    crew = {m.user_id: m for m in report.crew}
    assert (crew[5011].accepted, crew[5011].arrived, crew[5011].closed, crew[5011].late) == (1, 1, 1, 1)
