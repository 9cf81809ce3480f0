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
import sys
from pathlib import Path
from datetime import datetime
from typing import TYPE_CHECKING

from bot import dbcli, orgcli, reportcli
from bot.cliutil import fail, first_line, help_for, reason
from bot.config import LANGUAGES, ConfigError
from bot.logs import JsonFormatter, setup_logging

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import Config

__all__ = ["main"]

log = logging.getLogger("heatbot")


class _QuietStartup(logging.Filter):
    """python-telegram-bot logs a failed start-up call with a full traceback ("Network Retry
    Loop (...) Aborting") and then raises; we turn what it raises into one line ourselves, so
    those records are dropped while the bot is starting."""

    def __init__(self) -> None:
        super().__init__()
        self.starting = True

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.starting and "Aborting" in str(record.msg))


EXAMPLE_ORG = "org.example.toml"

# getUpdates' long-poll timeout in production: an idle bot asks Telegram every 10 s.
POLL_TIMEOUT = 10


async def _serve(app: Application, config: Config, quiet: _QuietStartup) -> None:
    """Start through the one start path (:func:`bot.app.start`), say once that we run, and stop
    cleanly on SIGINT/SIGTERM. Start-up failures reach :func:`cmd_run` as exceptions."""
    from bot import app as heatbot_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    webhook = heatbot_app.webhook_for(config)
    conflict = False

    def give_way() -> None:
        nonlocal conflict
        conflict = True
        stop.set()

    try:
        # initialize() calls getMe: a wrong token or an unreachable server fails here, at once.
        await heatbot_app.start(app, webhook=webhook, http=heatbot_app.http_for(config), poll_timeout=POLL_TIMEOUT,
                                on_conflict=give_way)
        quiet.starting = False
        # Said on stderr whatever the log level: an operator who starts the bot sees it serving.
        mode = f"webhook {webhook.url}, listening on {webhook.listen}:{webhook.port}" if webhook else "long polling"
        if webhook is None and config.http_port:
            mode += f", web server on {config.http_listen}:{config.http_port}"
        banner = f"running as @{app.bot.username} ({mode}), database {config.db_label}; Ctrl-C stops"
        if config.log_format == "json":     # a log shipper reads every stderr line as JSON
            record = logging.LogRecord(__name__, logging.INFO, __file__, 0, banner, (), None)
            print(JsonFormatter().format(record), file=sys.stderr, flush=True)
        else:
            print(f"heatbot: {banner}", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        try:
            await heatbot_app.stop(app)
        except Exception:
            # Do not let a failing shutdown hide why we are stopping.
            log.warning("shutdown did not finish cleanly", exc_info=True)
    if conflict:
        raise _PollingConflict


class _PollingConflict(Exception):
    """Another process already polled Telegram with this token; this one gave way (exit code 3)."""


# Distinct, so a service manager can be told not to restart into the same fight
# (deploy/heatbot.service: RestartPreventExitStatus=3).
EXIT_CONFLICT = 3


def _is_local(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import CannotListen, DatabaseUnusable, WebhookRefused, build_application, webhook_for
    from bot.config import load_config
    from bot.orgfile import OrgFileError
    from rules.errors import PolicyError
    from storage.db import DatabaseUnreachable, InstanceLock, InstanceLocked, MigrationError

    try:
        config = load_config()
    except ConfigError as e:
        return fail(str(e))
    if config.org_path.name == EXAMPLE_ORG and not config.allow_example_org:
        return fail(f"HEATBOT_ORG is {config.org_path}, the example organisation (made-up groups and staff): "
                     f"write your own (README, 'Setting up') or set HEATBOT_ALLOW_EXAMPLE_ORG=1 to run on it anyway")
    setup_logging(config.log_level, config.token, config.log_format)
    quiet = _QuietStartup()
    logging.getLogger("telegram.ext").addFilter(quiet)
    try:
        app = build_application(config)
    except OrgFileError as e:
        # Its message lists every problem on its own line; the operator gets the first one and
        # is pointed at the checker for the rest.
        first = str(e.issues[0]) if e.issues else "cannot be used"
        more = f" (+{len(e.issues) - 1} more: run `heatbot org check {e.path}`)" if len(e.issues) > 1 else ""
        return fail(f"HEATBOT_ORG {e.path}: {first}{more}")
    except PolicyError as e:
        return fail(f"HEATBOT_POLICY: {first_line(e)}")
    # One process per SQLite file. Instances on one PostgreSQL database share the work instead
    # (their transactions take turns; one sends at a time): README, "Several instances".
    instance = InstanceLock(config.db_path) if isinstance(config.db_path, Path) else None
    try:
        if instance is not None:
            instance.acquire()       # before the database is touched; held until we exit
    except InstanceLocked as e:
        return fail(f"{e} (HEATBOT_DB)")
    except OSError as e:
        return fail(f"cannot use the database HEATBOT_DB={config.db_label}: {reason(e)}")
    try:
        asyncio.run(_serve(app, config, quiet))
    except InvalidToken:
        if _is_local(config.api_base_url):
            # A local URL is most often the emulator, whose one token is easy to miss.
            return fail(f"the Bot API server at {config.api_base_url} rejected TELEGRAM_BOT_TOKEN (Unauthorized); "
                         f"the emulator (`heatbot emulator`) accepts only 123456:TEST-TOKEN unless started with --token")
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized): check the token from @BotFather")
    except NetworkError as e:
        # TimedOut is a NetworkError too. The message names the server, never the token.
        return fail(f"cannot reach the Bot API server at {config.api_base_url} (TELEGRAM_API_BASE_URL): {first_line(e)}")
    except TelegramError as e:
        return fail(f"Telegram refused a start-up call: {first_line(e)}")
    except DatabaseUnusable as e:
        return fail(f"cannot use the database HEATBOT_DB={config.db_label}: {reason(e.cause)}")
    except CannotListen as e:
        where = (f"{config.webhook_listen}:{config.webhook_port}" if webhook_for(config)
                 else f"{config.http_listen}:{config.http_port}")
        return fail(f"cannot listen on {where} ({e.settings}): {reason(e.cause)}")
    except WebhookRefused as e:
        hook = webhook_for(config)
        return fail(f"Telegram refused the webhook {hook.url if hook else ''} (WEBHOOK_URL): {reason(e.cause)}")
    except DatabaseUnreachable as e:
        return fail(f"HEATBOT_DB: {first_line(e)}")
    except MigrationError as e:
        return fail(first_line(e))
    except _PollingConflict:
        return fail("stopped: another process already polls Telegram with this bot's token (409 Conflict). Long "
                     "polling serves one instance: stop the other one, or run behind a webhook (WEBHOOK_URL)",
                     EXIT_CONFLICT)
    except KeyboardInterrupt:
        pass
    finally:
        if instance is not None:
            instance.release()
    return 0


def cmd_emulator(args: argparse.Namespace) -> int:
    from tgemu import run_standalone

    logging.basicConfig(level=logging.INFO)
    # `kill` (SIGTERM) stops it as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(run_standalone(args.host, args.port, args.token))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        return fail(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
    return 0


def _tool_settings():
    """HEATBOT_LANG, HEATBOT_TZ and HEATBOT_POLICY read as the bot reads them (environment over
    ``.env``), so a tool's defaults match the running bot's."""
    from bot.config import load_tool_settings

    return load_tool_settings()


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from rules.errors import RulesError
    from rules.policy import explain, format_explain, load_policy, parse_local_time, parse_source

    try:
        # Only what the command line leaves open is read from the settings, so a bad setting
        # the command line overrides does not stop the tool.
        settings = None if None not in (args.tz, args.lang, args.policy) else _tool_settings()
    except ConfigError as e:
        return fail(str(e))
    if args.tz is None:
        tz = settings.tz
    else:
        try:
            tz = ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return fail(f"--tz is not a known time zone: {args.tz!r} (e.g. Asia/Shanghai)")
    lang = args.lang or settings.lang
    try:
        policy = load_policy(args.policy if args.policy is not None else settings.policy_path)
        source = parse_source(args.source)
        received = parse_local_time(args.received, tz) if args.received else datetime.now(tz)
        result = explain(policy, args.category, source, received, tz, lang=lang)
    except (RulesError, ValueError) as e:
        return fail(str(e))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_explain(result))
    return 0


_CODES_HEADER = ("code", "中文", "English", "level", "centre", "accept", "on site", "close", "articles")


def codes_table(policy, markdown: bool = False) -> str:
    """The policy's category codes with their level, centre and limits: for the terminal, or
    as the Markdown table the README carries (a test keeps the two equal)."""
    rows = []
    for c in policy.categories.values():
        articles = "; ".join(a for a in (c.article, c.limits_article) if a)
        rows.append((f"`{c.code}`" if markdown else c.code, c.label_zh, c.label_en, str(c.level), str(c.centre_kind),
                     f"{c.accept_minutes} min", f"{c.onsite_minutes} min", f"{policy.close_hours[c.level]} h", articles))
    if markdown:
        lines = ["| " + " | ".join(_CODES_HEADER) + " |", "|" + " --- |" * len(_CODES_HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    # The terminal gets the columns that fit a line; the labels are in --markdown and the README.
    keep = (0, 3, 4, 5, 6, 7, 2)
    table = [[_CODES_HEADER[i] for i in keep]] + [[row[i] for i in keep] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(keep) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1] for r in table)


def cmd_rules_codes(args: argparse.Namespace) -> int:
    from rules.errors import RulesError
    from rules.policy import load_policy

    try:
        policy = load_policy(args.policy if args.policy is not None else _tool_settings().policy_path)
    except (ConfigError, RulesError) as e:
        return fail(str(e))
    print(codes_table(policy, markdown=args.markdown))
    return 0


def _codes_epilog() -> str:
    """The category codes and sources for ``rules explain --help``, read from the policy the bot
    would use; help must print even when that policy cannot be read."""
    from rules.errors import RulesError
    from rules.policy import Source, load_policy

    try:
        policy = load_policy(_tool_settings().policy_path)
    except (ConfigError, RulesError) as e:
        return f"category codes: cannot read the policy ({first_line(e)})"
    width = max(len(code) for code in policy.categories)
    lines = ["category codes (`heatbot rules codes` lists their limits):"]
    lines += [f"  {c.code.ljust(width)}  {str(c.level).ljust(7)}  {c.label_en}" for c in policy.categories.values()]
    lines.append("sources: " + ", ".join(s.value for s in Source))
    return "\n".join(lines)


class _RulesParser(argparse.ArgumentParser):
    """With ``codes_help``, the help ends with the policy's category codes, read only when help
    is shown."""

    def __init__(self, *args, codes_help: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.codes_help = codes_help

    def format_help(self) -> str:
        if self.codes_help:
            self.epilog = _codes_epilog()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heatbot", description="Telegram service desk for a district-heating company")
    parser.set_defaults(func=help_for(parser))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("emulator", help="run the local Telegram Bot API emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--token", default="123456:TEST-TOKEN", help="the bot token the emulator accepts (default: %(default)s)")
    p.set_defaults(func=cmd_emulator)

    rules_parser = sub.add_parser("rules", help="inspect the service policy: category codes, levels, deadlines")
    rules_parser.set_defaults(func=help_for(rules_parser))
    rules = rules_parser.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", parser_class=_RulesParser)
    p = rules.add_parser("explain", help="print a ticket's level and deadlines", codes_help=True,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--category", required=True, metavar="CODE", help="a category code (listed below)")
    p.add_argument("--source", default="resident", help="who reported it (default: %(default)s; listed below)")
    p.add_argument("--received", help="ISO time; without an offset it is the company's local time (default: now)")
    p.add_argument("--policy", help="policy file (default: HEATBOT_POLICY, else rules/policy.toml)")
    p.add_argument("--tz", help="time zone (default: HEATBOT_TZ, else Asia/Shanghai)")
    p.add_argument("--lang", choices=LANGUAGES, help=f"language of the labels (default: HEATBOT_LANG, else {LANGUAGES[0]})")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_explain)
    p = rules.add_parser("codes", help="list the category codes with their level, centre and time limits")
    p.add_argument("--policy", help="policy file (default: HEATBOT_POLICY, else rules/policy.toml)")
    p.add_argument("--markdown", action="store_true", help="as the Markdown table in the README")
    p.set_defaults(func=cmd_rules_codes)

    dbcli.add_commands(sub)         # status, backup, restore
    orgcli.add_commands(sub)        # org check, org apply
    reportcli.add_commands(sub)     # report, seed
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
