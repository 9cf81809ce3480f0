"""Residents in a private chat: greeting, language, the report conversation, their tickets."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import desk, intake, outages
from handlers.common import services, who

__all__ = ["start", "help_cmd", "report", "cancel", "language", "my", "message", "menu_button", "language_button", "intake_button"]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk.greet(services(context), who(update))


async def help_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk.help_text(services(context), who(update))


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await intake.start_report(services(context), who(update))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await intake.cancel(services(context), who(update))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk.ask_language(services(context), who(update))


async def my(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await desk.my_tickets(services(context), who(update))


def _input(update: Update) -> intake.Input:
    msg = update.effective_message
    if msg.contact is not None:
        return intake.Input("contact", text=msg.contact.phone_number)
    if msg.photo:
        return intake.Input("photo", photo=msg.photo[-1].file_id)
    if msg.text is not None:
        return intake.Input("text", text=msg.text)
    return intake.Input("other")


async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await intake.handle(services(context), who(update), _input(update))


async def intake_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    alert = await intake.handle(services(context), who(update), intake.Input("button", data=query.data.removeprefix("i:")))
    await query.answer(alert)


async def menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = query.data.removeprefix("menu:")
    svc, person = services(context), who(update)
    if action == "report":
        await intake.start_report(svc, person)
    elif action == "my":
        await desk.my_tickets(svc, person)
    elif action == "outages":
        await outages.list_outages(svc, person)
    else:
        await desk.ask_language(svc, person)
    await query.answer()


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(await desk.set_language(services(context), who(update), query.data.removeprefix("lang:")))
