"""``heatbot``: run the bot, the emulator, and the company's checking tools.

Every expected failure (bad configuration, a bad file, an unreachable API server, a wrong
token) ends with one clear line on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import datetime
from pathlib import Path

__all__ = ["main"]

log = logging.getLogger("heatbot")


def _fail(message: str, code: int = 2) -> int:
    print(f"heatbot: {message}", file=sys.stderr)
    return code


class _RedactToken(logging.Filter):
    """Belt and braces: httpx logs request URLs, and Telegram URLs carry the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = ()
        return True


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


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import build_application
    from bot.config import ConfigError, load_config
    from bot.orgfile import OrgFileError
    from rules.errors import PolicyError

    try:
        config = load_config()
    except ConfigError as e:
        return _fail(str(e))
    setup_logging(config.log_level, config.token)
    try:
        app = build_application(config)
    except (OrgFileError, PolicyError) as e:
        return _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    try:
        if config.webhook_url:
            app.run_webhook(
                listen=config.webhook_listen, port=config.webhook_port, url_path="telegram",
                webhook_url=config.webhook_url.rstrip("/") + "/telegram", secret_token=config.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
        else:
            app.run_polling(allowed_updates=["message", "callback_query"])
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized): check the token from @BotFather")
    except NetworkError as e:
        return _fail(f"cannot reach the Bot API server at {config.api_base_url} ({type(e).__name__}: {e})")
    except TelegramError as e:
        return _fail(f"Telegram error at start-up: {e}")
    return 0


def cmd_emulator(args: argparse.Namespace) -> int:
    from bot.emulator.server import run_standalone

    logging.basicConfig(level=logging.INFO)
    try:
        asyncio.run(run_standalone(args.host, args.port, args.token))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        return _fail(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
    return 0


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from rules.errors import RulesError
    from rules.policy import explain, format_explain, load_policy, parse_local_time, parse_source

    tz = ZoneInfo(args.tz)
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
