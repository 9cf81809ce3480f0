"""A hand-built ledger: tickets written row by row through the storage functions the bot uses,
each step recording what the bot records (the ledger event, the deadline's clock, the ``late``
and ``overdue`` events), so a test can set every moment to the minute and work out each figure
by hand. Times are local (Asia/Shanghai) ``"2026-01-10 09:00"`` strings.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rules.policy import Level, Policy, assess, load_policy
from storage import deadlines, desk, followups, outages, tickets
from storage.tickets import NewTicket

TZ = ZoneInfo("Asia/Shanghai")
_ACTION_LIMIT = {"accept": "accept", "arrive": "onsite", "close": "close"}
_STATUS = {"accept": "accepted", "arrive": "on_site", "close": "closed"}
_FROM = {"accept": "new", "arrive": "accepted", "close": "on_site"}


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


class Ledger:
    def __init__(self, conn, policy: Policy | None = None) -> None:
        self.conn = conn
        self.policy = policy or load_policy()

    async def ticket(self, centre: str | None, category: str, community: str, received: str, *, source: str = "resident",
                     address: str = "1-1-101", resident: int | None = 9001) -> int:
        at = local(received)
        a = assess(self.policy, category, source, at)
        tid = await tickets.insert_ticket(self.conn, NewTicket(
            category=category, source=str(a.source), level=str(a.level), centre_id=centre, route_note=None if centre else "no_centre",
            resident_user_id=resident, resident_chat_id=resident, resident_lang="zh", resident_name="居民", phone=None,
            community_id=community, community_text=None, address=address, temperature=None, photo_file_id=None, description=None,
            received_at=at, accept_by=a.deadlines.accept_by, onsite_by=a.deadlines.onsite_by, close_by=a.deadlines.close_by))
        await tickets.add_event(self.conn, tid, at, "created", resident, "居民", {"source": str(a.source), "level": str(a.level)})
        if centre:
            await tickets.add_event(self.conn, tid, at, "routed", detail={"centre": centre})
        else:
            await tickets.add_event(self.conn, tid, at, "routed_to_dispatch", detail={"reason": "no_centre"})
        for kind, due in (("accept", a.deadlines.accept_by), ("onsite", a.deadlines.onsite_by), ("close", a.deadlines.close_by)):
            await deadlines.create(self.conn, tid, kind, due, due)
        return tid

    async def step(self, tid: int, action: str, when: str, actor: int, name: str = "师傅") -> None:
        """Accept / arrive / close as bot.desk.press and bot.clockwork.meet record them."""
        at = local(when)
        t = await tickets.get_ticket(self.conn, tid)
        assert await tickets.transition(self.conn, tid, from_status=t.status, to_status=_STATUS[action], at=at, by=actor)
        await tickets.add_event(self.conn, tid, at, action, actor, name)
        limit = _ACTION_LIMIT[action]
        met = await deadlines.meet(self.conn, tid, limit, at)
        if met is not None and at > met.due_at:
            minutes = int((at - met.due_at).total_seconds() // 60)
            await tickets.add_event(self.conn, tid, at, "late", detail={"limit": limit, "minutes": minutes})
        if action == "close":
            await deadlines.cancel_open(self.conn, tid)
            await tickets.set_outcome(self.conn, tid, "done")
            t = await tickets.get_ticket(self.conn, tid)
            await followups.ask(self.conn, tid, t.reopen_count, at, at + timedelta(hours=24))
            await tickets.add_event(self.conn, tid, at, "followup_asked", detail={"round": t.reopen_count})
        elif action == "arrive":
            await deadlines.meet(self.conn, tid, "accept", at)

    async def overdue(self, tid: int, limit: str, when: str) -> None:
        """The sweeper's escalation when a limit passes unmet."""
        at = local(when)
        d = await deadlines.get(self.conn, tid, limit)
        alert = await deadlines.add_alert(self.conn, tid, d.id, "overdue", at)
        await tickets.add_event(self.conn, tid, at, "overdue", detail={"limit": limit, "late_by_minutes": 0, "alert": alert})

    async def delay(self, tid: int, limit: str, asked: str, to: str, decided: str, approved: bool) -> None:
        d = await deadlines.get(self.conn, tid, limit)
        await tickets.add_event(self.conn, tid, local(asked), "delay_requested", 5011, "张师傅",
                                {"limit": limit, "reason": "等配件", "from": d.due_at, "to": local(to)})
        if approved:
            await deadlines.move(self.conn, d.id, due_at=local(to), stage=0, next_at=local(to), delayed=True)
            await tickets.set_ticket_limit(self.conn, tid, limit, local(to))
            await tickets.add_event(self.conn, tid, local(decided), "delay_approved", 6001, "孙丽",
                                    {"limit": limit, "from": d.due_at, "to": local(to)})
        else:
            await tickets.add_event(self.conn, tid, local(decided), "delay_rejected", 6001, "孙丽", {"limit": limit})

    async def transfer(self, tid: int, asked: str, when: str, to: str) -> None:
        """A return asked by the centre, then dispatch's transfer (bot.workflows.decisions._transfer):
        the accept limit restarts; an open on-site limit keeps running."""
        t = await tickets.get_ticket(self.conn, tid)
        await tickets.add_event(self.conn, tid, local(asked), "return_requested", 5002, "李师傅", {"reason": "不归我们", "centre": t.centre_id})
        at = local(when)
        t = await tickets.get_ticket(self.conn, tid)
        assert await tickets.transfer_ticket(self.conn, tid, from_status=t.status, centre_id=to)
        accept_by = at + timedelta(minutes=self.policy.category(t.category).accept_minutes)
        await deadlines.create(self.conn, tid, "accept", accept_by, accept_by)
        await tickets.set_ticket_limit(self.conn, tid, "accept", accept_by)
        await tickets.add_event(self.conn, tid, at, "transferred", 6001, "孙丽", {"from": t.centre_id, "to": to, "reason": "不归我们"})

    async def coordination(self, tid: int, when: str) -> None:
        """Art. 13 limits (4): a written report due within 8 hours."""
        at = local(when)
        due = at + self.policy.report_limit
        await deadlines.create(self.conn, tid, "report", due, due)
        await tickets.add_event(self.conn, tid, at, "coordination", 5021, "杨师傅", {"report_by": due})

    async def report(self, tid: int, when: str) -> None:
        at = local(when)
        met = await deadlines.meet(self.conn, tid, "report", at)
        late = met is not None and at > met.due_at
        if late:
            await tickets.add_event(self.conn, tid, at, "late", detail={"limit": "report", "minutes": int((at - met.due_at).total_seconds() // 60)})
        await tickets.add_event(self.conn, tid, at, "report_submitted", 5021, "杨师傅", {"report": "已协调", "late": late})

    async def solved(self, tid: int, when: str, rating: int | None) -> None:
        fu = await followups.get(self.conn, tid)
        await followups.answer(self.conn, tid, local(when), 9001, solved=True)
        await tickets.add_event(self.conn, tid, local(when), "followup_solved", 9001, "居民", {"round": fu.round})
        await followups.answer(self.conn, tid, local(when) + timedelta(minutes=1), 9001, rating=rating)
        await tickets.add_event(self.conn, tid, local(when) + timedelta(minutes=1), "followup_rating", 9001, "居民", {"rating": rating})

    async def reopen(self, tid: int, when: str) -> None:
        """"Not solved" (bot.followup._reopen): back to the centre, fresh on-site and close limits."""
        at = local(when)
        t = await tickets.get_ticket(self.conn, tid)
        assert await tickets.reopen(self.conn, tid)
        await followups.answer(self.conn, tid, at, 9001, solved=False)
        a = assess(self.policy, t.category, t.source, at, level_override=Level(t.level))
        for kind, due in (("onsite", a.deadlines.onsite_by), ("close", a.deadlines.close_by)):
            await deadlines.create(self.conn, tid, kind, due, due)
            await tickets.set_ticket_limit(self.conn, tid, kind, due)
        await tickets.add_event(self.conn, tid, at, "reopened", 9001, "居民", {"centre": t.centre_id, "round": t.reopen_count + 1})

    async def phoned(self, tid: int, listed: str, when: str, result: str) -> None:
        await followups.set_state(self.conn, tid, from_states=("asked",), to_state="listed")
        await tickets.add_event(self.conn, tid, local(listed), "followup_listed")
        await followups.record_phone(self.conn, tid, result, local(when), 6001)
        await tickets.add_event(self.conn, tid, local(when), "followup_phoned", 6001, "孙丽", {"result": result})

    async def repeat_of(self, tid: int, earlier: int, when: str) -> None:
        e = await tickets.get_ticket(self.conn, earlier)
        await followups.mark_repeat(self.conn, tid, earlier)
        await tickets.add_event(self.conn, tid, local(when), "repeat_fault", detail={"of": earlier, "centre": e.centre_id})

    async def complaint(self, tid: int, when: str) -> None:
        t = await tickets.get_ticket(self.conn, tid)
        count = await followups.add_complaint(self.conn, tid)
        await tickets.add_event(self.conn, tid, local(when), "complaint", 9002, "邻居", {"centre": t.centre_id, "count": count})

    async def register(self, kind: str, centre: str, when: str, *, staff: int | None = None, ticket: int | None = None) -> int:
        return await desk.insert_entry(self.conn, desk.NewEntry(kind, centre, staff, None, "press" if kind == "press" else "leadership",
                                                                 "记录", ticket, 6001, "孙丽", local(when)))

    async def notice(self, centre: str, due: str, posted: str | None) -> None:
        """One outage notice posting (Art. 23 (4)) due at ``due``, posted at ``posted`` (or not)."""
        o = await outages.insert_outage(self.conn, outages.NewOutage(
            kind="planned", reason="检修", starts_at=local(due) + timedelta(days=2), ends_at=local(due) + timedelta(days=3),
            communities=("heping",), chat_id=-100, created_by=6001, created_name="孙丽", created_at=local(due) - timedelta(days=1)),
            "published")
        p = await outages.create_posting(self.conn, o, centre, -100, ["heping"], local(due), None)
        if posted is not None:
            late = local(posted) > local(due)
            await outages.mark_posted(self.conn, p, 5003, "赵建国", local(posted), late)
