"""``heatbot report`` and ``heatbot seed``: the assessment report from a database, and a
synthetic season to make one from. Failures end with one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

from bot.cliutil import db_label, existing_db, fail
from storage.db import DatabaseUnreachable
from storage.dialect import DATABASE_ERRORS

__all__ = ["add_commands", "cmd_report", "cmd_seed", "FORMATS"]

log = logging.getLogger(__name__)

FORMATS = ("html", "csv", "xlsx")
# The report reads what migration 0010 added (households, the ledger's indexes).
_REPORT_SCHEMA = 10


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{flag} must be a date like 2026-01-31, got {text!r}") from None


def _settings(args: argparse.Namespace):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from bot.config import load_tool_settings
    settings = load_tool_settings()
    tz = settings.tz
    if getattr(args, "tz", None):
        try:
            tz = ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"--tz is not a known time zone: {args.tz!r} (e.g. Asia/Shanghai)") from None
    return settings, tz


def cmd_report(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from bot.report import build_report, to_csv, to_html, to_xlsx
    from bot.texts import Texts
    from rules.assessment import period_between
    from rules.errors import RulesError
    from rules.policy import load_policy
    from storage.db import open_database

    try:
        first, last = _day(args.from_, "--from"), _day(args.to, "--to")
        settings, tz = _settings(args)
        period = period_between(first, last, tz)
        policy = load_policy(args.policy or settings.policy_path)
    except (ConfigError, RulesError, ValueError, argparse.ArgumentTypeError) as e:
        return fail(str(e))
    lang = args.lang or settings.lang
    try:
        path = existing_db(args)
    except ConfigError as e:
        return fail(str(e))

    async def make():
        from storage.figures import tune_for_reading

        db = await open_database(path, migrate=False)
        try:
            await tune_for_reading(db.conn)
            version = await db.user_version()
            if version < _REPORT_SCHEMA:
                raise ValueError(f"{db_label(path)} is at schema version {version}; start the bot once (or `heatbot seed`) to bring it "
                                 f"to {_REPORT_SCHEMA}")
            if args.centre:
                async with db.conn.execute("SELECT 1 FROM centres WHERE id = ?", (args.centre,)) as cur:
                    if await cur.fetchone() is None:
                        raise ValueError(f"--centre {args.centre!r} is not a centre in {db_label(path)}")
            return await build_report(db.conn, period, tz=tz, rules=policy.assessment, made_at=datetime.now(tz),
                                      centre_id=args.centre, complaints_threshold=policy.followup.complaints_to_dispatch,
                                      with_tickets=args.format == "xlsx")
        finally:
            await db.close()

    began = time.perf_counter()
    try:
        report = asyncio.run(make())
    except (*DATABASE_ERRORS, DatabaseUnreachable, OSError, ValueError) as e:
        return fail(f"cannot make the report: {str(e).splitlines()[0]}")
    out = Path(args.out)
    try:
        if args.format == "csv":
            # With a byte-order mark, so a spreadsheet opened by double-click reads the Chinese names.
            out.write_text(to_csv(report, lang), encoding="utf-8-sig")
        elif args.format == "xlsx":
            out.write_bytes(to_xlsx(report, tz, lang))
        else:
            from bot.stats import report_charts     # matplotlib: only for the page that shows charts
            texts = Texts(tz)
            out.write_text(to_html(report, texts, lang, charts=report_charts(texts, lang, report)), encoding="utf-8")
    except OSError as e:
        return fail(f"cannot write {out}: {e.strerror or e}")
    print(f"heatbot: {args.format} report {period.first} to {period.last}, {len(report.centres)} centres, "
          f"{sum(c.received for c in report.centres)} tickets received, written to {out} in {time.perf_counter() - began:.2f} s",
          file=sys.stderr)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, database_path
    from bot.orgfile import OrgFileError, load_org
    from bot.seed import SeedPlan, seed
    from rules.errors import RulesError
    from rules.policy import load_policy
    from storage.db import MigrationError, open_database
    from storage.org import replace_org

    if args.tickets < 0 or args.days < 1:
        return fail("--tickets must be 0 or more and --days 1 or more")
    try:
        settings, tz = _settings(args)
        policy = load_policy(args.policy or settings.policy_path)
        start = _day(args.start, "--start")
        org_path = args.org or os.environ.get("HEATBOT_ORG") or str(Path(__file__).resolve().parent.parent / "org.example.toml")
        org = load_org(org_path)
    except (ConfigError, RulesError, ValueError, argparse.ArgumentTypeError) as e:
        return fail(str(e))
    except OrgFileError as e:
        return fail(f"organisation file {e.path}: {e.issues[0] if e.issues else 'cannot be used'}")

    try:
        target = database_path(args.db)
    except ConfigError as e:
        return fail(str(e))

    async def fill() -> int:
        db = await open_database(target)
        try:
            async with db.transaction() as conn:
                await replace_org(conn, org)
            return await seed(db, policy, SeedPlan(args.tickets, args.days, args.seed, start), tz)
        finally:
            await db.close()

    began = time.perf_counter()
    try:
        written = asyncio.run(fill())
    except (*DATABASE_ERRORS, DatabaseUnreachable, OSError, ValueError, MigrationError) as e:
        return fail(f"cannot seed {db_label(target)}: {str(e).splitlines()[0]}")
    print(f"heatbot: {written} tickets over {args.days} days from {start} seeded into {db_label(target)} "
          f"in {time.perf_counter() - began:.1f} s (seed {args.seed})", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """The ``report`` and ``seed`` subcommands, for bot.cli.build_parser."""
    p = sub.add_parser("report", help="the centres' assessment figures for a period, as HTML, CSV or XLSX")
    p.add_argument("--from", dest="from_", required=True, metavar="DATE", help="first local day, e.g. 2026-01-01")
    p.add_argument("--to", required=True, metavar="DATE", help="last local day (included), e.g. 2026-01-31")
    p.add_argument("--centre", metavar="ID", help="one centre only")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--db", help="database file or postgresql:// URL (default: HEATBOT_DB)")
    p.add_argument("--lang", choices=("zh", "en"), help="language of the HTML page and names (default: HEATBOT_LANG)")
    p.add_argument("--tz", help="time zone of the dates (default: HEATBOT_TZ, else Asia/Shanghai)")
    p.add_argument("--policy", help="policy file for the points (default: HEATBOT_POLICY, else rules/policy.toml)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("seed", help="fill a database with a synthetic, deterministic heating season")
    p.add_argument("--db", required=True, help="database file (created and migrated if new) or postgresql:// URL")
    p.add_argument("--tickets", type=int, required=True)
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default="2025-11-15", help="first local day of the season (default: %(default)s)")
    p.add_argument("--org", help="organisation file (default: HEATBOT_ORG, else org.example.toml)")
    p.add_argument("--tz", help="time zone (default: HEATBOT_TZ, else Asia/Shanghai)")
    p.add_argument("--policy", help="policy file (default: HEATBOT_POLICY, else rules/policy.toml)")
    p.set_defaults(func=cmd_seed)
