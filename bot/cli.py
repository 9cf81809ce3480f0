"""``heatbot``: run the bot, the emulator, and the company's checking tools.

Every expected failure (bad configuration, a bad file, an unreachable API server, a wrong
token) ends with one clear line on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import Config

__all__ = ["main"]

log = logging.getLogger("heatbot")


def _fail(message: str, code: int = 2) -> int:
    print(f"heatbot: {message}", file=sys.stderr)
    return code


class _RedactToken(logging.Filter):
    """Belt and braces: httpx logs request URLs, and Telegram URLs carry the token.

    Sits on the handler, so it sees every record (ours and libraries'), including the text of
    an attached traceback, which is rendered and redacted here before the formatter sees it.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        # The secret half alone is as bad to leak as the whole token.
        self.secrets = [t for t in (token, token.partition(":")[2]) if len(t) >= 8]

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


class _QuietStartup(logging.Filter):
    """python-telegram-bot logs a failed start-up call with a full traceback ("Network Retry
    Loop (...) Aborting") and then raises; we turn what it raises into one line ourselves, so
    those records are dropped while the bot is starting."""

    def __init__(self) -> None:
        super().__init__()
        self.starting = True

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.starting and "Aborting" in str(record.msg))


def setup_logging(level: str, token: str = "") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request with its URL (and so the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# Only what handlers/ answers; other updates would wake the bot for nothing.
ALLOWED_UPDATES = ["message", "callback_query"]


class _StartupError(Exception):
    """A start-up step failed; the message is the one line for the operator."""


async def _serve(app: Application, config: Config, quiet: _QuietStartup) -> None:
    """What ``Application.run_polling``/``run_webhook`` do, but letting start-up failures reach
    us as exceptions (they log a traceback and wrap them) and stopping cleanly on SIGINT/SIGTERM."""
    from bot import app as heatbot_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    from telegram.error import InvalidToken, NetworkError, TelegramError

    try:
        # initialize() calls getMe: a wrong token or an unreachable server fails here, at once.
        await app.initialize()
        if app.post_init:
            try:
                await app.post_init(app)     # opens and migrates the database
            except (OSError, sqlite3.Error) as e:
                raise _StartupError(f"cannot use the database HEATBOT_DB={config.db_path}: {_reason(e)}") from e
        if config.webhook_url:
            webhook_url = config.webhook_url.rstrip("/") + "/telegram"
            try:
                await app.updater.start_webhook(
                    listen=config.webhook_listen, port=config.webhook_port, url_path="telegram",
                    webhook_url=webhook_url, secret_token=config.webhook_secret, allowed_updates=ALLOWED_UPDATES,
                )
            except OSError as e:
                raise _StartupError(
                    f"cannot listen on {config.webhook_listen}:{config.webhook_port} "
                    f"(WEBHOOK_LISTEN/WEBHOOK_PORT): {_reason(e)}"
                ) from e
            except (InvalidToken, NetworkError):
                raise
            except TelegramError as e:
                raise _StartupError(f"Telegram refused the webhook {webhook_url} (WEBHOOK_URL): {_reason(e)}") from e
        else:
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await app.start()
        quiet.starting = False
        log.info("heatbot is running (%s)", "webhook" if config.webhook_url else "long polling")
        await stop.wait()
    finally:
        try:
            await heatbot_app.stop(app)
        except Exception:
            # Do not let a failing shutdown hide why we are stopping.
            log.warning("shutdown did not finish cleanly", exc_info=True)


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import build_application
    from bot.config import ConfigError, load_config
    from bot.orgfile import OrgFileError
    from rules.errors import PolicyError
    from storage.db import MigrationError

    try:
        config = load_config()
    except ConfigError as e:
        return _fail(str(e))
    setup_logging(config.log_level, config.token)
    quiet = _QuietStartup()
    logging.getLogger("telegram.ext").addFilter(quiet)
    try:
        app = build_application(config)
    except OrgFileError as e:
        # Its message lists every problem on its own line; the operator gets the first one and
        # is pointed at the checker for the rest.
        first = str(e.issues[0]) if e.issues else "cannot be used"
        more = f" (+{len(e.issues) - 1} more: run `heatbot org check {e.path}`)" if len(e.issues) > 1 else ""
        return _fail(f"HEATBOT_ORG {e.path}: {first}{more}")
    except PolicyError as e:
        return _fail(f"HEATBOT_POLICY: {_first_line(e)}")
    try:
        asyncio.run(_serve(app, config, quiet))
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized): check the token from @BotFather")
    except NetworkError as e:
        # TimedOut is a NetworkError too. The message names the server, never the token.
        return _fail(f"cannot reach the Bot API server at {config.api_base_url} (TELEGRAM_API_BASE_URL): {_first_line(e)}")
    except TelegramError as e:
        return _fail(f"Telegram refused a start-up call: {_first_line(e)}")
    except (_StartupError, MigrationError) as e:
        return _fail(_first_line(e))
    except KeyboardInterrupt:
        pass
    return 0


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _reason(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else _first_line(e)


def cmd_emulator(args: argparse.Namespace) -> int:
    from bot.emulator.server import run_standalone

    logging.basicConfig(level=logging.INFO)
    # `kill` (SIGTERM) stops it as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(run_standalone(args.host, args.port, args.token))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        return _fail(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
    return 0


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from rules.errors import RulesError
    from rules.policy import explain, format_explain, load_policy, parse_local_time, parse_source

    try:
        tz = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return _fail(f"--tz is not a known time zone: {args.tz!r} (e.g. Asia/Shanghai)")
    try:
        policy = load_policy(args.policy)
        source = parse_source(args.source)
        received = parse_local_time(args.received, tz) if args.received else datetime.now(tz)
        result = explain(policy, args.category, source, received, tz, lang=args.lang)
    except (RulesError, ValueError) as e:
        return _fail(str(e))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_explain(result))
    return 0


def cmd_org_check(args: argparse.Namespace) -> int:
    from bot.orgfile import check_org

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    org, issues = check_org(path.read_text(encoding="utf-8"))
    for issue in issues:
        print(f"{path}:{issue}")
    if org is None or issues:
        return 1
    print(f"{path}: OK ({len(org.centres)} centres, {len(org.communities)} communities, {len(org.staff)} staff)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The outbox at a glance, read straight from HEATBOT_DB (no Telegram needed)."""
    import os
    import sqlite3

    from bot.clock import SystemClock
    from bot.status import format_report, outbox_report, report_json
    from storage.db import open_database

    path = Path(args.db or os.environ.get("HEATBOT_DB") or "heatbot.db")
    if not path.is_file():
        return _fail(f"no database at {path} (set HEATBOT_DB)")

    async def read():
        db = await open_database(path, migrate=False)
        try:
            return await outbox_report(db.conn, SystemClock().now())
        finally:
            await db.close()

    try:
        report = asyncio.run(read())
    except sqlite3.Error as e:
        return _fail(f"cannot read the outbox in {path}: {e}")
    print(json.dumps(report_json(report), ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    import os

    parser = argparse.ArgumentParser(prog="heatbot", description="Telegram service desk for a district-heating company")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("emulator", help="run the local Telegram Bot API emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--token", default="123456:TEST-TOKEN", help="the bot token the emulator accepts")
    p.set_defaults(func=cmd_emulator)

    rules = sub.add_parser("rules", help="inspect the service policy").add_subparsers(dest="rules_command", required=True)
    p = rules.add_parser("explain", help="print a ticket's level and deadlines")
    p.add_argument("--category", required=True)
    p.add_argument("--source", default="resident")
    p.add_argument("--received", help="ISO time; without an offset it is the company's local time")
    p.add_argument("--policy", default=os.environ.get("HEATBOT_POLICY"))
    p.add_argument("--tz", default=os.environ.get("HEATBOT_TZ", "Asia/Shanghai"))
    p.add_argument("--lang", default=os.environ.get("HEATBOT_LANG", "en"), choices=("zh", "en"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_explain)

    p = sub.add_parser("status", help="outbox depth by priority, oldest waiting message, permanent failures")
    p.add_argument("--db", help="database file (default: HEATBOT_DB)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    org = sub.add_parser("org", help="check the organisation file").add_subparsers(dest="org_command", required=True)
    p = org.add_parser("check", help="validate an organisation file")
    p.add_argument("file")
    p.set_defaults(func=cmd_org_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
