"""Who is told when a clock runs out — one fan-out for tickets' limits and outage postings.

Art. 13 (and Art. 23 (3)(4) for posting notices): before the limit the group doing the work is
reminded; at the limit the centre's lead and dispatch are told; when it stays unmet the
department head is. Art. 7: events of wide impact go to the leadership at once. Art. 11, 12:
with a roster, the crew on duty is also told privately at the reminder and at the limit, first,
so a muted group at 3 a.m. still wakes someone.
"""
from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from rules.deadlines import Stage
from rules.roles import Role
from storage import org

__all__ = ["reopen_recipients", "Recipient", "fan_out", "leadership"]


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    role: str       # "group", "crew", "centre_lead", "dispatch" or "department_head": picks the message's wording


async def fan_out(conn: aiosqlite.Connection, stage: Stage, *, group_chat: int | None, centre_id: str | None,
                  on_duty: tuple[int, ...] = ()) -> list[Recipient]:
    """The recipients of one stage, in the order they are told. ``group_chat`` holds the work (a
    centre's group, or dispatch for a ticket it holds); ``centre_id`` is the centre answerable
    for it, if any; ``on_duty`` its crew on duty now (privately: the on-duty crew, then the lead,
    then dispatch)."""
    crew = [Recipient(u, "crew") for u in on_duty]
    if stage == Stage.REMINDED:
        return ([Recipient(group_chat, "group")] if group_chat is not None else []) + crew
    if stage == Stage.ESCALATED:
        leads = await org.staff_ids_with_role(conn, Role.CENTRE_LEAD, centre_id) if centre_id is not None else []
        dispatch = await org.get_setting(conn, "dispatch_chat_id")
        return crew + [Recipient(u, "centre_lead") for u in leads if u not in on_duty] + (
            [Recipient(dispatch, "dispatch")] if dispatch is not None else [])
    return [Recipient(u, "department_head") for u in await org.staff_ids_with_role(conn, Role.DEPARTMENT_HEAD)]


async def leadership(conn: aiosqlite.Connection) -> list[int]:
    """Art. 7: the leadership group, or each department head when there is none."""
    chat = await org.get_setting(conn, "leadership_chat_id")
    return [chat] if chat is not None else await org.staff_ids_with_role(conn, Role.DEPARTMENT_HEAD)


async def reopen_recipients(conn: aiosqlite.Connection, centre_id: str | None, to_dispatch: bool) -> list[Recipient]:
    """A reopened ticket (Art. 8): the centre's leads are told, privately; from the policy's
    number of reopens, dispatch too (Art. 10 (1): it supervises and assesses the centres)."""
    leads = await org.staff_ids_with_role(conn, Role.CENTRE_LEAD, centre_id) if centre_id is not None else []
    dispatch = await org.get_setting(conn, "dispatch_chat_id") if to_dispatch or centre_id is None else None
    return [Recipient(u, "centre_lead") for u in leads] + ([Recipient(dispatch, "dispatch")] if dispatch is not None else [])
