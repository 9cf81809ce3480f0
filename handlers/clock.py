"""Dispatch's side of the deadline clock: acknowledging alerts, /overdue, /level, /category."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import clockwork, daily, followup, handover, outages, stats
from bot.callbacks import Acknowledge, parse_number
from bot.vitals import vitals_of
from handlers.common import pressed_on, services, who

__all__ = ["acknowledge", "overdue", "set_level", "set_category", "sweep_job"]


async def acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    text = await clockwork.acknowledge(services(context), who(update), Acknowledge.parse(query.data), *pressed_on(update))
    await query.answer(text, show_alert=True)


async def overdue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await clockwork.overdue_report(services(context), who(update), update.effective_chat.id)


async def _override(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str) -> None:
    args = (context.args or []) + ["", ""]
    await clockwork.override(services(context), who(update), update.effective_chat.id, parse_number(args[0]), args[0], field,
                             args[1].lower())


async def set_level(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _override(update, context, "level")


async def set_category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _override(update, context, "category")


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = context.bot_data.get("svc")
    if svc is None:
        return
    with vitals_of(context.bot_data).sweeping():
        await clockwork.sweep(svc)
        await outages.sweep(svc)  # posting deadlines and residents' reminders
        await daily.post_daily_count(svc)  # 08:00: yesterday's tickets by source and level
        await followup.sweep(svc)  # unanswered follow-ups onto dispatch's phone list (Art. 8)
        await handover.sweep(svc)  # shift handovers (交接班) and unacknowledged ones to the lead
        await stats.send_due_reports(svc)  # Monday 08:00 / the 1st: the report to leadership (Art. 8, 10 (1))
