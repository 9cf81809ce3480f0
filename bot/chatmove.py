"""A group upgraded to a supergroup (Telegram's ``migrate_to_chat_id``): its chat id changes
and the old one refuses every message from then on. The stored id is updated, what failed
because of the move is sent again (to the new id), open tickets' cards are posted afresh in the
new group, and dispatch is told so the organisation file can be corrected.

It is learnt either from the service message in the group or from the sender's ChatMigrated
error (a message sent to the old id before the bot saw the service message); both come here,
and the second one changes nothing.
"""
from __future__ import annotations

import logging

from bot.payload import message
from bot.services import Services
from storage import org, registry
from storage.outbox import Priority, enqueue_card, enqueue_message

__all__ = ["group_moved", "record_move"]

log = logging.getLogger(__name__)


async def record_move(conn, svc: Services, old: int, new: int) -> bool:
    """Inside the caller's transaction. False (and nothing changed) for a group that is not one
    of the organisation's: a group we do not serve may upgrade as it likes."""
    if old == new:
        return False
    now = svc.clock.now()
    roles = await registry.move_chat(conn, old, new)
    if not roles:
        log.info("chat %s moved to %s: not a group of the organisation; ignored", old, new)
        return False
    await registry.record_chat_move(conn, old, new, now)
    for ticket_id in await registry.move_chat_messages(conn, old, new):
        await enqueue_card(conn, new, ticket_id, now=now)
    lang = svc.default_lang
    names = []
    for role in roles:
        centre = await org.get_centre(conn, role.removeprefix("centre:")) if role.startswith("centre:") else None
        names.append(svc.texts.render(lang, "registry.chat_role", role=role, centre=centre.name(lang) if centre else ""))
    dispatch = await org.get_setting(conn, "dispatch_chat_id")
    if dispatch is not None:
        text = svc.texts.render(lang, "registry.moved", what="、".join(names) if lang == "zh" else ", ".join(names),
                                old=old, new=new)
        await enqueue_message(conn, dispatch, message(text), priority=Priority.URGENT, purpose="alert", now=now)
    log.warning("group %s (%s) was upgraded to supergroup %s: stored chat id updated; change it in HEATBOT_ORG",
                old, ", ".join(roles), new)
    return True


async def group_moved(svc: Services, old: int, new: int) -> None:
    """The service message of an upgrade, in the old group or the new one."""
    async with svc.db.transaction() as conn:
        await record_move(conn, svc, old, new)
    svc.wake_sender()
