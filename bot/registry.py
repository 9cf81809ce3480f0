"""The hotline staff registry as people see it (Art. 12): ``/staff`` and ``/staff log``, the
staff greeting at ``/start``, and a person's registration in ``/whoami``.

Everything is read from the database, the organisation's source of truth while the bot runs,
so a change applied with ``heatbot org apply`` shows at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import views
from bot.payload import message
from bot.services import Services, Who
from rules.org import Staff
from rules.roles import commands_for, may_see_registry, may_see_registry_log
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
            text = svc.texts.render(lang, "registry.staff_log", entries=entries, limit=LOG_LIMIT)
        elif not wants_log and may_see_registry(staff, in_dispatch_group=in_dispatch,
                                                 group_centre=group_centre.id if group_centre else None):
            groups = await _groups(conn, svc, lang, None if in_dispatch else group_centre.id)
            text = svc.texts.render(lang, "registry.staff_list", groups=groups, today=now.astimezone(svc.tz).date(),
                                    show_phone=in_dispatch)
        else:
            text = svc.texts.render(lang, "registry.refused")
        await enqueue_message(conn, who.chat_id, message(text), priority=Priority.STATUS, purpose="reply", now=now)
    svc.wake_sender()


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
