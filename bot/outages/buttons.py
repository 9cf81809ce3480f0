"""Every ``o:`` button: the wizard's, a head's approval, a centre's "posted", dispatch's
update and restore, a resident's choice of community."""
from __future__ import annotations

from bot import views
from bot.callbacks import ControlVerb, NoticePosted, OutageButton, OutageControl, OutageDecision, Subscribe, WizardStep, new_nonce
from bot.outages.publishing import decide, posted, restore
from bot.outages.residents import subscribe_to
from bot.outages.wizard import enter, on_wizard_button
from bot.services import Services, Who
from rules.outages import shuts_heat
from rules.roles import may_control_outage
from storage import org
from storage import outages as store
from storage.outages import Wizard

__all__ = ["on_button"]


async def on_button(svc: Services, who: Who, data: OutageButton | None, chat_id: int, message_id: int) -> str | None:
    """Every ``o:`` button: wizard, approval, posting, control, subscription choice (``data`` is
    None when it did not parse)."""
    async with svc.db.transaction() as conn:
        lang = await views.user_lang(conn, svc, who.user_id, who.telegram_lang)
        match data:
            case WizardStep():
                alert = await on_wizard_button(conn, svc, who, chat_id, data)
            case OutageDecision(outage_id=outage_id, approve=approve):
                alert = await decide(conn, svc, who, lang, outage_id, approve)
            case NoticePosted(posting_id=posting_id):
                alert = await posted(conn, svc, who, lang, posting_id, chat_id)
            case OutageControl(outage_id=outage_id, verb=verb):
                alert = await _control(conn, svc, who, lang, outage_id, verb, chat_id)
            case Subscribe(community_id=community_id):
                alert = await subscribe_to(conn, svc, who, lang, community_id)
            case _:
                alert = svc.texts.label(lang, "alert_unknown_button")
    svc.wake_sender()
    return alert


async def _control(conn, svc: Services, who: Who, lang: str, outage_id: int, verb: ControlVerb, chat_id: int) -> str | None:
    t = svc.texts
    staff = await org.get_staff(conn, who.user_id)
    o = await store.get_outage(conn, outage_id)
    if o is None:
        return t.label(lang, "alert_unknown_button")
    if not may_control_outage(staff):
        return t.label(lang, "outage_alert_dispatch_only")
    if o.restored_at is not None:
        return t.label(lang, "outage_alert_restored_already", at=svc.texts.render(lang, "workflow.when", value=o.restored_at))
    if o.status != "published" or not shuts_heat(o.kind):
        return t.label(lang, "outage_alert_over")
    if verb == ControlVerb.RESTORE:
        await restore(conn, svc, o, who.user_id, staff.name)
        return t.label(lang, "outage_alert_restored")
    wz = Wizard(who.user_id, chat_id, new_nonce(), "new_end", {"outage_id": o.id})
    await enter(conn, svc, wz, "new_end")
    return t.label(lang, "outage_alert_reply")
