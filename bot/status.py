"""The outbox at a glance, for ``/queue`` in the dispatch group and ``heatbot status``.

Depth by priority, how long the oldest waiting message has waited, and the permanent
failures: what an operator needs to see whether the bot keeps up during a surge.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from bot import views
from bot.payload import message
from bot.services import Services, Who
from rules.roles import may_see_queue
from storage import org, outbox
from storage.outbox import Failure, Priority

__all__ = ["OutboxReport", "outbox_report", "format_report", "report_json", "queue_command"]



@dataclass(frozen=True)
class OutboxReport:
    urgent: int
    status: int
    bulk: int
    oldest_at: datetime | None
    oldest_age_s: float | None
    failed: int
    recent_failures: list[Failure] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.urgent + self.status + self.bulk


async def outbox_report(conn: aiosqlite.Connection, now: datetime) -> OutboxReport:
    depth = await outbox.depth_by_priority(conn)
    oldest = await outbox.oldest_pending_at(conn)
    return OutboxReport(
        urgent=depth.get(int(Priority.URGENT), 0), status=depth.get(int(Priority.STATUS), 0), bulk=depth.get(int(Priority.BULK), 0),
        oldest_at=oldest, oldest_age_s=max(0.0, (now - oldest).total_seconds()) if oldest else None,
        failed=await outbox.failed_count(conn), recent_failures=await outbox.recent_failures(conn),
    )


def report_json(r: OutboxReport) -> dict[str, Any]:
    return {
        "pending": r.pending, "urgent": r.urgent, "status": r.status, "bulk": r.bulk,
        "oldest_waiting_seconds": None if r.oldest_age_s is None else round(r.oldest_age_s, 1),
        "failed": r.failed,
        "recent_failures": [{"chat_id": f.chat_id, "ticket": f.ticket_id, "purpose": f.purpose, "error": f.error} for f in r.recent_failures],
    }


def format_report(r: OutboxReport) -> str:
    """Plain text for the operator's terminal (``heatbot status``)."""
    oldest = "none waiting" if r.oldest_age_s is None else f"{r.oldest_age_s:.0f} s"
    lines = [
        f"outbox pending: {r.pending} (urgent {r.urgent}, status {r.status}, bulk {r.bulk})",
        f"oldest waiting: {oldest}",
        f"permanent failures: {r.failed}",
    ]
    for f in r.recent_failures:
        ticket = f" ticket {f.ticket_id:04d}" if f.ticket_id is not None else ""
        lines.append(f"  chat {f.chat_id}{ticket} {f.purpose}: {f.error}")
    return "\n".join(lines)


async def queue_command(svc: Services, who: Who) -> None:
    """``/queue``: only in the dispatch group and only for dispatchers and department heads;
    decided here from the database, never from the update."""
    async with svc.db.transaction() as conn:
        lang = svc.default_lang
        if who.chat_id > 0:
            lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        staff = await org.get_staff(conn, who.user_id)
        if who.chat_id != dispatch or not may_see_queue(staff):
            text = svc.texts.render(lang, "queue.refused")
        else:
            report = await outbox_report(conn, svc.clock.now())
            text = svc.texts.render(lang, "queue.report", r=report, minutes=None if report.oldest_age_s is None else int(report.oldest_age_s // 60),
                                    seconds=None if report.oldest_age_s is None else int(report.oldest_age_s % 60))
        await outbox.enqueue_message(conn, who.chat_id, message(text), priority=Priority.URGENT, purpose="reply", now=svc.clock.now())
    svc.wake_sender()
