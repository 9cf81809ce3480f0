"""The hotline staff registry as people see it (Art. 12): ``/staff`` and ``/staff log``, the
staff greeting at ``/start``, and a person's registration in ``/whoami``.

Everything is read from the database, the organisation's source of truth while the bot runs,
so a change applied with ``heatbot org apply`` shows at once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import views
from bot.payload import message
from bot.services import Services, Who
from rules.org import Staff
from rules.roles import commands_for, may_see_registry, may_see_registry_log
from rules.text import MAX_TEXT, telegram_length
from storage import org, registry
from storage.outbox import Priority, enqueue_message

__all__ = ["LOG_LIMIT", "staff_command", "greet_staff", "registration_lines"]

LOG_LIMIT = 30


@dataclass
class _Group:
    name: str
    hotline: str | None = None
    people: list[Staff] = field(default_factory=list)


async def staff_command(svc: Services, who: Who, args: list[str]) -> None:
    """``/staff`` lists the registry by centre; ``/staff log`` the latest changes."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        lang = svc.default_lang if who.chat_id < 0 else await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        staff = await org.get_staff(conn, who.user_id)
        in_dispatch = who.chat_id == await org.get_setting(conn, "dispatch_chat_id")
        group_centre = await org.centre_by_chat(conn, who.chat_id) if who.chat_id < 0 else None
        wants_log = bool(args) and args[0].lower() == "log"
        if wants_log and in_dispatch and may_see_registry_log(staff):
            entries = await registry.recent_changes(conn, LOG_LIMIT)
            texts = [_fewer(lambda n: svc.texts.render(lang, "registry.staff_log", entries=entries[:n], limit=n), len(entries))]
        elif not wants_log and may_see_registry(staff, in_dispatch_group=in_dispatch,
                                                 group_centre=group_centre.id if group_centre else None):
            groups = await _groups(conn, svc, lang, None if in_dispatch else group_centre.id)
            today = now.astimezone(svc.tz).date()
            texts = _pages(lambda part: svc.texts.render(lang, "registry.staff_list", groups=part, today=today,
                                                         show_phone=in_dispatch), groups)
        else:
            texts = [svc.texts.render(lang, "registry.refused")]
        for text in texts:
            await enqueue_message(conn, who.chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=now)
    svc.wake_sender()


def _fewer(render: Callable[[int], str], n: int) -> str:
    """``render(n)``, with fewer entries until it fits one message."""
    text = render(n)
    while telegram_length(text) > MAX_TEXT and n > 1:
        n = max(1, n - 5)
        text = render(n)
    return text


def _pages(render: Callable[[list[_Group]], str], groups: list[_Group]) -> list[str]:
    """The registry in as few messages as fit, whole centres per message; a centre too big for
    one message is split by people."""
    pages: list[str] = []
    part: list[_Group] = []
    for group in groups:
        if telegram_length(render(part + [group])) <= MAX_TEXT:
            part.append(group)
            continue
        if part:
            pages.append(render(part))
            part = []
        while telegram_length(render([group])) > MAX_TEXT and len(group.people) > 1:
            keep = len(group.people) // 2
            while keep > 1 and telegram_length(render([_Group(group.name, group.hotline, group.people[:keep])])) > MAX_TEXT:
                keep //= 2
            pages.append(render([_Group(group.name, group.hotline, group.people[:keep])]))
            group = _Group(group.name, group.hotline, group.people[keep:])
        part = [group]
    if part or not pages:
        pages.append(render(part))
    return pages


async def _groups(conn, svc: Services, lang: str, only_centre: str | None) -> list[_Group]:
    """The registry by centre, in the file's order; dispatch and the department last."""
    centres = await org.list_centres(conn)
    groups: dict[str | None, _Group] = {c.id: _Group(c.name(lang), c.hotline) for c in centres
                                        if only_centre is None or c.id == only_centre}
    if only_centre is None:
        groups[None] = _Group(svc.texts.label(lang, "registry_dispatch"))
    for person in await registry.all_staff(conn):
        group = groups.get(person.centre_id)
        if group is not None:
            group.people.append(person)
    return list(groups.values())


async def greet_staff(svc: Services, who: Who) -> bool:
    """``/start`` from a registered staff member: their role, centre and commands instead of
    the resident's greeting. False for anyone else."""
    async with svc.db.transaction() as conn:
        person = await org.get_staff(conn, who.user_id)
        if person is None:
            return False
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        centre = await org.get_centre(conn, person.centre_id)
        text = svc.texts.render(lang, "registry.staff_greeting", name=person.name, role=person.role,
                                centre=centre.name(lang) if centre else None, commands=commands_for(person.role))
        # The resident's menu stays: staff may report a fault at home too.
        await enqueue_message(conn, who.chat_id, message(text, buttons=views.main_menu(svc, lang)),
                              priority=Priority.STATUS, purpose="reply", now=svc.clock.now())
    svc.wake_sender()
    return True


async def registration_lines(conn, svc: Services, lang: str, user_id: int) -> str:
    """The person's registered role and centre, for ``/whoami``."""
    person = await org.get_staff(conn, user_id)
    if person is None:
        return svc.texts.render(lang, "registry.whoami_unregistered")
    centre = await org.get_centre(conn, person.centre_id)
    ctx: dict[str, Any] = {"role": person.role, "centre": centre.name(lang) if centre else None}
    return svc.texts.render(lang, "registry.whoami_role", **ctx)
