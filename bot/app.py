"""The one wiring module: builds the python-telegram-bot Application and starts and stops it.

:func:`start` is the one start path: ``heatbot run``, the demo, the benchmarks and the tests all
go through it, so they receive exactly the updates production does.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import BotCommand, MenuButtonWebApp, WebAppInfo
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

import handlers
from handlers.clock import sweep_job
from bot.clock import Clock, SystemClock
from bot.config import LANGUAGES, Config
from bot.orgapply import STARTUP, apply_org
from bot.orgfile import load_org
from bot import chatmove, desk, handover, outages
from bot.delivery import DeliveryHooks
from bot.sender import OutboxSender
from bot.vitals import start_vitals, vitals_of
from bot.telegram_api import AnsweredRequest
from bot.updates import ChatOrderedProcessor
from bot.services import Services
from bot.texts import Texts
from bot.web import Listen, WebServer
from rules.policy import load_policy
from storage.db import open_database
from storage.dialect import DATABASE_ERRORS
from storage.board import staff_languages

__all__ = [
    "ALLOWED_UPDATES", "Webhook", "webhook_for", "http_for", "build_application", "start", "stop",
    "StartupError", "DatabaseUnusable", "CannotListen", "WebhookRefused",
]

log = logging.getLogger(__name__)

# Only what handlers/ answers; other updates (edits, member changes, reactions) would wake the
# bot for nothing. Channel posts: /whoami in a channel (handlers/registry.py).
ALLOWED_UPDATES = ["message", "callback_query", "channel_post"]
# Updates handled at once (of different chats; see bot/updates.py). Beyond a few dozen they only
# queue on the database's one writer.
CONCURRENT_UPDATES = 64


class StartupError(Exception):
    """A start-up step failed for a reason outside the code; ``cause`` says which."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class DatabaseUnusable(StartupError):
    """Opening or migrating HEATBOT_DB failed (permissions, a locked or broken file)."""


class CannotListen(StartupError):
    """The web server's port could not be bound; ``settings`` names the ones that chose it."""

    def __init__(self, cause: BaseException, settings: str = "WEBHOOK_LISTEN/WEBHOOK_PORT") -> None:
        super().__init__(cause)
        self.settings = settings


class WebhookRefused(StartupError):
    """Telegram refused setWebhook (a URL it cannot reach, a port it does not allow)."""


@dataclass(frozen=True)
class Webhook:
    """Where the bot listens for Telegram's POSTs and the public URL Telegram posts to."""
    listen: str
    port: int
    url: str                    # the public URL, path included
    secret: str | None = None
    path: str = "telegram"


def webhook_for(config: Config) -> Webhook | None:
    """The webhook ``config`` asks for, or None for long polling."""
    if not config.webhook_url:
        return None
    return Webhook(listen=config.webhook_listen, port=config.webhook_port,
                   url=config.webhook_url.rstrip("/") + "/telegram", secret=config.webhook_secret)


def http_for(config: Config) -> Listen | None:
    """Where the web server listens when there is no webhook (HEATBOT_HTTP_*; None when the
    port is 0). With a webhook the server listens where Telegram posts: see :func:`start`."""
    return Listen(config.http_listen, config.http_port) if config.http_port else None


def _durations_as_timedelta() -> None:
    # python-telegram-bot 22 announces that durations (RetryAfter.retry_after and others) become
    # datetime.timedelta in its next major version and warns on every read until a program opts
    # in with PTB_TIMEDELTA. We opt in and read them as timedelta (bot/sender.py accepts both, so
    # a deployment that sets PTB_TIMEDELTA=false keeps working, with PTB's warnings).
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def build_application(config: Config, *, clock: Clock | None = None, sender_batch: int = 16,
                      sweep_interval: float = 5.0) -> Application:
    clock = clock or SystemClock()
    _durations_as_timedelta()
    # Loaded before the network is touched so a bad policy or org file stops start-up at once.
    policy = load_policy(config.policy_path)
    org = load_org(config.org_path)
    org_text = config.org_path.read_text(encoding="utf-8")
    texts = Texts(config.tz)

    async def post_init(app: Application) -> None:
        texts.warm()
        db = await open_database(config.db_path)
        try:
            async with db.transaction() as conn:
                # The database is the organisation's source of truth while the bot runs (`heatbot
                # org apply` changes it there). A HEATBOT_ORG that differs from the file applied
                # last is applied as by "start-up": logged field by field and reported to
                # dispatch, never a silent revert of an applied change.
                applied = await apply_org(conn, texts, config.lang, org, org_text, by=STARTUP,
                                          path=str(config.org_path), now=clock.now(), report_first=False)
                for old, new in applied.moved.items():
                    log.warning("HEATBOT_ORG %s names chat %s, which Telegram upgraded to supergroup %s: using %s; "
                                "change it in the file", config.org_path, old, new, new)
                if applied.apply_id is not None and not applied.first:
                    log.warning("HEATBOT_ORG %s differs from the organisation applied last: %d change(s) applied "
                                "and reported to dispatch (see /staff log)", config.org_path, len(applied.changes))
        except BaseException:
            # Nothing else owns the connection yet; left open, its thread would keep a failed
            # start-up alive forever.
            await db.close()
            raise
        svc = Services(db=db, clock=clock, policy=policy, texts=texts, tz=config.tz, default_lang=config.lang)
        app.bot_data["svc"] = svc
        await handover.note_running_shifts(svc)     # before the first sweep (bot/handover.py)
        sender = OutboxSender(app.bot, svc, _delivery_hooks(svc), batch=sender_batch, settings=config.send)
        app.bot_data["sender"] = sender
        sender.start()
        await _set_commands(app, svc)
        start_vitals(app.bot_data, sweep_interval)
        if config.public_url:
            await _board_menu_buttons(app, svc, config.public_url)
        # First sweep at once: a bot that was down fires what it missed (marked late).
        app.job_queue.run_repeating(sweep_job, interval=sweep_interval, first=0, name="sweeper")

    async def post_stop(app: Application) -> None:
        sender = app.bot_data.pop("sender", None)
        if sender is not None:
            await sender.stop()

    async def post_shutdown(app: Application) -> None:
        svc = app.bot_data.pop("svc", None)
        if svc is not None:
            await svc.db.close()

    app = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.file_base_url)
        .request(AnsweredRequest(connection_pool_size=256, connect_timeout=5, read_timeout=15, write_timeout=15))
        .get_updates_request(HTTPXRequest(read_timeout=30))
        # Chats at once, each chat in order (bot/updates.py).
        .concurrent_updates(ChatOrderedProcessor(CONCURRENT_UPDATES))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    handlers.register(app)
    app.bot_data["public_url"] = config.public_url
    return app


async def _board_menu_buttons(app: Application, svc: Services, public_url: str) -> None:
    """The dispatch board as a Mini App on the menu button of each staff member's private chat
    (a private chat's id is the user's); a failure must not keep the bot from serving."""
    async with svc.db.transaction() as conn:
        people = await staff_languages(conn, svc.default_lang)
    for user_id, lang in people:
        button = MenuButtonWebApp(svc.texts.label(lang, "board_menu_button"), WebAppInfo(f"{public_url}/board/"))
        try:
            await app.bot.set_chat_menu_button(chat_id=user_id, menu_button=button)
        except TelegramError as e:
            log.warning("setChatMenuButton for a staff member failed (%s); the board stays reachable by /board", e)


def _delivery_hooks(svc: Services) -> DeliveryHooks:
    """The sender knows messages, not tickets or outages: what a failure means, and how to
    render a printable page, is the desk's and the outages' business."""
    return DeliveryHooks(
        resident_unreachable=lambda conn, ticket_id, error: desk.resident_unreachable(conn, svc, ticket_id, error),
        group_unreachable=lambda conn, chat_id, ticket_id, error: desk.group_unreachable(conn, svc, chat_id, ticket_id, error),
        render_document=lambda conn, spec: outages.render_document(conn, svc, spec),
        group_moved=lambda conn, old, new: chatmove.record_move(conn, svc, old, new),
    )


async def _set_commands(app: Application, svc: Services) -> None:
    """The command menu in both languages; a failure here must not keep the bot from serving."""
    try:
        names = ("report", "my", "cancel", "outages", "subscribe", "unsubscribe", "language", "help")
        for lang in LANGUAGES:
            await app.bot.set_my_commands([BotCommand(c, svc.texts.label(lang, f"cmd_{c}")) for c in names], language_code=lang)
        await app.bot.set_my_commands([BotCommand(c, svc.texts.label(svc.default_lang, f"cmd_{c}")) for c in names])
    except TelegramError as e:
        log.warning("setMyCommands failed (%s); continuing without a command menu", e)


async def start(app: Application, *, webhook: Webhook | None = None, http: Listen | None = None,
                poll_timeout: int = 1, on_conflict: Callable[[], None] | None = None) -> None:
    """Initialise (``getMe``), run ``post_init`` (database, sender, sweeper), start the web
    server, then receive updates by long polling, or on ``webhook`` when given; returns once the
    bot is serving.

    One web server (bot/web/) serves the Open311 API and ``/healthz``, and the Telegram webhook
    when ``webhook`` is given: it then listens on the webhook's address (the port Telegram
    posts to); otherwise on ``http``, or not at all when ``http`` is None.

    What ``run_polling``/``run_webhook`` do, for callers that own the event loop, with start-up
    failures raised to the caller instead of logged and wrapped: python-telegram-bot's own errors
    (``InvalidToken``, ``NetworkError``, ...) as they are, and the ones the operator can fix as a
    :class:`StartupError`. On failure it stops what it had started (calling :func:`stop`
    again is harmless).
    ``poll_timeout`` is getUpdates' long-poll timeout in whole seconds (the Bot API takes an integer).
    ``on_conflict`` is called (once) when another process was already polling with the same
    token: long polling is single-instance, and the newcomer gives way (see :func:`_polling_errors`).
    """
    await app.initialize()
    try:
        await _begin_serving(app, webhook, http, poll_timeout, on_conflict)
    except BaseException:
        # A half-started application may hold the database, the sender and the updater: undo
        # what was started, or a failed start-up would stay alive on their threads and tasks.
        await stop(app)
        raise


# Until it has handled an update or polled this long, an instance counts as the newcomer.
NEWCOMER_FOR = 60.0


def _polling_errors(app: Application, on_conflict: Callable[[], None] | None) -> Callable[[TelegramError], None]:
    """getUpdates errors. Telegram answers 409 Conflict to the older of two concurrent long polls
    of one token ("terminated by other getUpdates request"); each retry then ends the other's
    poll, and the two would take turns handling about half the updates each. The instance that
    was there first keeps the token: a newcomer (no update handled yet, polling for less than a
    minute; the first instance's retry ends its poll within seconds) gives way through
    ``on_conflict``, so a test copy started with the production token cannot knock the
    production bot out. The established one logs once a minute while the conflict lasts.
    Two instances started at the same moment may both give way: each says why.
    """
    started = time.monotonic()
    last_logged: float | None = None
    gave_way = False

    def callback(error: TelegramError) -> None:
        nonlocal last_logged, gave_way
        now = time.monotonic()
        if not isinstance(error, Conflict):
            log.warning("getUpdates failed (%s: %s); retrying", type(error).__name__, error.message)
        elif vitals_of(app.bot_data).updates == 0 and now - started <= NEWCOMER_FOR:
            if not gave_way:
                gave_way = True
                log.error("another process already polls Telegram with this bot's token (%s); giving way", error.message)
                if on_conflict is not None:
                    on_conflict()
        elif last_logged is None or now - last_logged >= 60:
            last_logged = now
            log.error("another process polls Telegram with this bot's token (%s): each takes some of the updates; "
                      "this instance was first and keeps polling: stop the other one", error.message)

    return callback


async def _begin_serving(app: Application, webhook: Webhook | None, http: Listen | None, poll_timeout: int,
                         on_conflict: Callable[[], None] | None) -> None:
    if app.post_init:
        try:
            await app.post_init(app)
        except (OSError, *DATABASE_ERRORS) as e:
            raise DatabaseUnusable(e) from e
    if webhook is not None:
        server = WebServer(app, Listen(webhook.listen, webhook.port), webhook_path=webhook.path, webhook_secret=webhook.secret)
        settings = "WEBHOOK_LISTEN/WEBHOOK_PORT"
    elif http is not None:
        server = WebServer(app, http)
        settings = "HEATBOT_HTTP_LISTEN/HEATBOT_HTTP_PORT"
    else:
        server = None
    if server is not None:
        try:
            await server.start()
        except OSError as e:
            raise CannotListen(e, settings) from e
        app.bot_data["web"] = server
        app.bot_data["board_url"] = app.bot_data.get("public_url") or server.url
    if webhook is None:
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES,
                                        error_callback=_polling_errors(app, on_conflict))
    else:
        try:
            await app.bot.set_webhook(url=webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES)
        except (InvalidToken, NetworkError):
            raise
        except TelegramError as e:
            raise WebhookRefused(e) from e
        if webhook.secret is None:
            log.warning("the webhook on %s:%s has no WEBHOOK_SECRET: anyone who can reach that port can forge "
                        "updates (set WEBHOOK_SECRET to make the bot refuse them)", webhook.listen, webhook.port)
    await app.start()
    log.debug("serving by %s; updates asked for: %s", "webhook" if webhook else "long polling", ", ".join(ALLOWED_UPDATES))


async def stop(app: Application, step_timeout: float = 15.0) -> None:
    """Stop in the order ``run_polling`` does. Each step is bounded: a stop that hangs would keep
    a restart (or a deploy) from happening, so a stuck step is logged with what it waits on."""

    async def step(name: str, coro) -> None:
        try:
            await asyncio.wait_for(coro, step_timeout)
        except TimeoutError:
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
            log.error("stopping: %s took over %.0f s; pending tasks:\n%s", name, step_timeout,
                      "\n".join(f"{t.get_name()}: {t.get_stack(limit=3)}" for t in pending))
        except Exception:
            # The later steps close the database; skipping them would leave its thread alive.
            log.exception("stopping: %s failed; going on with the rest", name)

    server = app.bot_data.pop("web", None)
    if server is not None:          # first: nothing new comes in while the rest stops
        await step("web server stop", server.stop())
    if app.updater.running:
        await step("updater.stop", app.updater.stop())
    if app.running:
        await step("application.stop", app.stop())
    # Also after a start that failed before the application ran: post_init may have started
    # the sender already. It is a no-op when there is none.
    if app.post_stop:
        await step("post_stop", app.post_stop(app))
    await step("application.shutdown", app.shutdown())
    if app.post_shutdown:
        await step("post_shutdown", app.post_shutdown(app))
