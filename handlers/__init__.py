"""Handler registration: the one place that maps updates to handlers."""
from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.callbacks import (
    Acknowledge, CardPress, CardRequest, Decision, FollowupAnswer, IntakeStep, LanguageChoice, Menu, NewStep, PhoneRecord,
    RegisterStep,
)
from bot.callbacks.roster import HandoverAck
from handlers import board, clock, desk, fallback, followup, registry, resident, roster, staff, vitals, whoami, workflows
from handlers import outages as outage_handlers
from handlers import queue
from handlers import stats as stats_handlers
from handlers.patience import patient

__all__ = ["register"]


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    # Group -1 runs before the others and lets every update on to them.
    app.add_handler(TypeHandler(Update, vitals.count_update), group=-1)
    # First: channel posts have no sender, which every other handler needs; a group's upgrade
    # to a supergroup changes its chat id.
    app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POST, registry.channel_post))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, registry.migrated))
    app.add_handler(CommandHandler("start", resident.start, filters=private))
    app.add_handler(CommandHandler("help", resident.help_cmd, filters=private))
    app.add_handler(CommandHandler("report", resident.report, filters=private))
    app.add_handler(CommandHandler("cancel", resident.cancel, filters=private))
    app.add_handler(CommandHandler("language", resident.language, filters=private))
    app.add_handler(CommandHandler("my", resident.my, filters=private))
    app.add_handler(CommandHandler("board", board.board_cmd, filters=private))  # authorised in bot/board.py
    app.add_handler(CommandHandler("ticket", staff.ticket))
    app.add_handler(CommandHandler("overdue", clock.overdue))
    app.add_handler(CommandHandler("followups", followup.followups))     # authorised in bot/followup.py
    app.add_handler(CommandHandler("level", clock.set_level))
    app.add_handler(CommandHandler("category", clock.set_category))
    app.add_handler(CommandHandler("whoami", whoami.whoami))  # any chat: ids for the organisation file
    app.add_handler(CommandHandler("queue", queue.queue))  # authorised in bot/status.py
    app.add_handler(CommandHandler("staff", registry.staff))  # authorised in bot/registry.py
    app.add_handler(CommandHandler("stats", stats_handlers.stats_cmd))  # authorised in bot/stats.py
    app.add_handler(CommandHandler("outage", outage_handlers.outage))
    app.add_handler(CommandHandler("new", desk.new))  # authorised in bot/newticket.py
    app.add_handler(CommandHandler("register", desk.register_cmd))  # authorised in bot/register.py
    app.add_handler(CommandHandler("subscribe", outage_handlers.subscribe, filters=private))
    app.add_handler(CommandHandler("unsubscribe", outage_handlers.unsubscribe, filters=private))
    app.add_handler(CommandHandler("outages", outage_handlers.list_outages, filters=private))
    app.add_handler(MessageHandler(filters.COMMAND, fallback.unknown_command))
    app.add_handler(MessageHandler(private & ~filters.COMMAND, resident.message))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.REPLY & ~filters.COMMAND, staff.group_reply))
    # Routed by prefix; each handler parses its data with its codec (bot/callbacks.py) and
    # answers data that does not parse, so a forged press gets an answer, never a traceback.
    for codec, callback in ((IntakeStep, resident.intake_button), (Menu, resident.menu_button),
                            (LanguageChoice, resident.language_button), (CardPress, staff.card_button),
                            (Acknowledge, clock.acknowledge), (CardRequest, workflows.card_request),
                            (Decision, workflows.decision), (NewStep, desk.button),
                            (RegisterStep, desk.register_button), (FollowupAnswer, followup.answer),
                            (PhoneRecord, followup.record), (HandoverAck, roster.handover_ack)):
        app.add_handler(CallbackQueryHandler(callback, pattern="^" + re.escape(codec.PREFIX)))
    app.add_handler(CallbackQueryHandler(outage_handlers.button, pattern=r"^o:"))
    app.add_handler(CallbackQueryHandler(fallback.unknown_button))
    app.add_error_handler(fallback.on_error)
    # A busy or full database is waited out rather than the person's input dropped.
    for handlers_in_group in app.handlers.values():
        for handler in handlers_in_group:
            handler.callback = patient(handler.callback)
