"""Every ``o:`` button: the wizard's, a head's approval, a centre's "posted", dispatch's
update and restore, a resident's choice of community."""
from __future__ import annotations

import secrets

from bot import views
from bot.outages.common import CONTROLLERS
from bot.outages.publishing import decide, posted, restore
from bot.outages.residents import subscribe_to
from bot.outages.wizard import enter, on_wizard_button
from bot.services import Services, Who
from rules.outages import shuts_heat
from storage import org
from storage import outages as store
from storage.outages import Wizard

__all__ = ["on_button"]


async def on_button(svc: Services, who: Who, data: str, chat_id: int, message_id: int) -> str | None:
    """Every ``o:`` button: wizard, approval, posting, control, subscription choice."""
    parts = data.split(":")
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        t = svc.texts
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "w" and len(parts) >= 4:
            alert = await on_wizard_button(conn, svc, who, chat_id, parts[2], ":".join(parts[3:]))
        elif kind == "a" and len(parts) == 4 and parts[2].isdigit():
            alert = await decide(conn, svc, who, lang, int(parts[2]), parts[3] == "yes")
        elif kind == "p" and len(parts) == 3 and parts[2].isdigit():
            alert = await posted(conn, svc, who, lang, int(parts[2]), chat_id)
        elif kind == "c" and len(parts) == 4 and parts[2].isdigit():
            alert = await _control(conn, svc, who, lang, int(parts[2]), parts[3], chat_id)
        elif kind == "s" and len(parts) == 3:
            alert = await subscribe_to(conn, svc, who, lang, parts[2])
        else:
            alert = t.label(lang, "alert_unknown_button")
    svc.wake_sender()
    return alert


async def _control(conn, svc: Services, who: Who, lang: str, outage_id: int, action: str, chat_id: int) -> str | None:
    t = svc.texts
    staff = await org.get_staff(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if o is None or action not in ("end", "restore"):
        return t.label(lang, "alert_unknown_button")
    if staff is None or staff.role not in CONTROLLERS:
        return t.label(lang, "outage_alert_dispatch_only")
    if o.restored_at is not None:
        return t.label(lang, "outage_alert_restored_already", at=svc.texts.render(lang, "workflow.when", value=o.restored_at))
    if o.status != "published" or not shuts_heat(o.kind):
        return t.label(lang, "outage_alert_over")
    if action == "restore":
        await restore(conn, svc, o, who.user_id, staff.name)
        return t.label(lang, "outage_alert_restored")
    wz = Wizard(who.user_id, chat_id, secrets.token_hex(3), "new_end", {"outage_id": o.id})
    await enter(conn, svc, wz, "new_end")
    return t.label(lang, "outage_alert_reply")
