"""Residents in a private chat: greeting, language, the report conversation, their tickets."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import desk, intake, outages, replies
from bot.callbacks import IntakeStep, LanguageChoice, Menu, MenuItem
from handlers import fallback
from handlers.common import private_only, services, who

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
        return intake.Input("photo", photo=msg.photo[-1].file_id, text=msg.caption)
    if msg.voice is not None:
        return intake.Input("voice", voice=msg.voice.file_id)
    if msg.text is not None:
        return intake.Input("text", text=msg.text)
    return intake.Input("other")


async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, person, text = services(context), who(update), update.effective_message.text
    # A dispatcher's /new or /register waiting in this chat takes the answer; otherwise it is a resident's.
    if text is not None and await replies.on_private_text(svc, person, text):
        return
    await intake.handle(svc, person, _input(update))


async def intake_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if await private_only(update, context):
        return
    alert = await intake.handle(services(context), who(update), intake.Input("button", button=IntakeStep.parse(query.data)))
    await query.answer(alert)


async def menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if await private_only(update, context):
        return
    menu = Menu.parse(query.data)
    svc, person = services(context), who(update)
    if menu is None:
        await fallback.unknown_button(update, context)
        return
    if menu.item == MenuItem.COLD:
        await intake.start_report(svc, person, category="not_warm")
    elif menu.item == MenuItem.REPORT:
        await intake.start_report(svc, person)
    elif menu.item == MenuItem.MY:
        await desk.my_tickets(svc, person)
    elif menu.item == MenuItem.OUTAGES:
        await outages.list_outages(svc, person)
    else:
        await desk.ask_language(svc, person)
    await query.answer()


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if await private_only(update, context):
        return
    await query.answer(await desk.set_language(services(context), who(update), LanguageChoice.parse(query.data)))
