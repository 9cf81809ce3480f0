"""The company as the emulator sees it: staff accounts and group chats from the org file.

Used by the demo, the tests and the benchmarks, so all three play in the same world.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.orgfile import load_org
from rules.roles import Role, is_dispatch
from tgemu import EmulatorClient, Group, User

__all__ = ["World", "build_world"]

# Titles of the office groups in each language (a centre's group is titled with its name).
_OFFICE_TITLES = {
    "zh": {"dispatch": "调度中心", "customer_service": "客服中心", "leadership": "领导"},
    "en": {"dispatch": "Dispatch", "customer_service": "Customer service", "leadership": "Leadership"},
}


@dataclass
class World:
    tg: EmulatorClient
    staff: dict[int, User]
    groups: dict[str, Group]      # by centre id, plus "dispatch", "customer_service", "leadership"

    def crew(self, user_id: int) -> User:
        return self.staff[user_id]


async def build_world(tg: EmulatorClient, org_path: Path, lang: str = "zh") -> World:
    """Staff use ``lang`` as their Telegram app's language; groups are titled in it."""
    org = load_org(org_path)
    titles = _OFFICE_TITLES[lang]
    staff = {s.user_id: await tg.user(s.name, user_id=s.user_id, language_code=lang) for s in org.staff}
    groups: dict[str, Group] = {}
    for c in org.centres:
        members = [staff[s.user_id] for s in org.staff if s.centre_id == c.id]
        groups[c.id] = await tg.group(c.name_en if lang == "en" else c.name_zh, members, chat_id=c.chat_id)
    office = [staff[s.user_id] for s in org.staff if is_dispatch(s)]
    groups["dispatch"] = await tg.group(titles["dispatch"], office, chat_id=org.dispatch_chat_id)
    if org.customer_service_chat_id is not None:
        groups["customer_service"] = await tg.group(titles["customer_service"], office,
                                                    chat_id=org.customer_service_chat_id)
    if org.leadership_chat_id is not None:
        heads = [staff[s.user_id] for s in org.staff if s.role == Role.DEPARTMENT_HEAD]
        groups["leadership"] = await tg.group(titles["leadership"], heads, chat_id=org.leadership_chat_id)
    return World(tg, staff, groups)
