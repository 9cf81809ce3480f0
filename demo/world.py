"""The company as the emulator sees it: staff accounts and group chats from the org file.

Used by the demo, the tests and the benchmarks, so all three play in the same world.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tgemu import EmulatorClient, Group, User
from bot.orgfile import load_org
from rules.roles import Role, is_dispatch

__all__ = ["World", "build_world"]


@dataclass
class World:
    tg: EmulatorClient
    staff: dict[int, User]
    groups: dict[str, Group]      # by centre id, plus "dispatch", "customer_service", "leadership"

    def crew(self, user_id: int) -> User:
        return self.staff[user_id]


async def build_world(tg: EmulatorClient, org_path: Path) -> World:
    org = load_org(org_path)
    staff = {s.user_id: await tg.user(s.name, user_id=s.user_id, language_code="zh") for s in org.staff}
    groups: dict[str, Group] = {}
    for c in org.centres:
        members = [staff[s.user_id] for s in org.staff if s.centre_id == c.id]
        groups[c.id] = await tg.group(c.name_zh, members, chat_id=c.chat_id)
    office = [staff[s.user_id] for s in org.staff if is_dispatch(s)]
    groups["dispatch"] = await tg.group("调度中心", office, chat_id=org.dispatch_chat_id)
    if org.customer_service_chat_id is not None:
        groups["customer_service"] = await tg.group("客服中心", office, chat_id=org.customer_service_chat_id)
    if org.leadership_chat_id is not None:
        heads = [staff[s.user_id] for s in org.staff if s.role == Role.DEPARTMENT_HEAD]
        groups["leadership"] = await tg.group("领导", heads, chat_id=org.leadership_chat_id)
    return World(tg, staff, groups)
