"""``heatbot org check`` and ``heatbot org apply``: the organisation file (Art. 9-12)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cliutil import db_label, existing_db, fail, first_line, help_for, reason

__all__ = ["add_commands"]


def cmd_org_check(args: argparse.Namespace) -> int:
    from bot.orgfile import check_org

    path = Path(args.file)
    if not path.is_file():
        return fail(f"no such file: {path}")
    org, issues = check_org(path.read_text(encoding="utf-8"))
    for issue in issues:
        print(f"{path}:{issue}")
    if org is None or issues:
        return 1
    print(f"{path}: OK ({len(org.centres)} centres, {len(org.communities)} communities, {len(org.staff)} staff)")
    return 0


def cmd_org_apply(args: argparse.Namespace) -> int:
    """Check a new organisation file and apply it to the bot's database in one transaction
    (the running bot picks it up without a restart); print the diff. A broken file changes
    nothing. Two applies at once: the second waits for the first and is diffed against it."""
    import getpass
    import sqlite3

    from storage.db import DatabaseUnreachable
    from storage.dialect import DATABASE_ERRORS

    from bot.clock import SystemClock
    from bot.config import ConfigError, load_tool_settings
    from bot.orgapply import apply_org
    from bot.orgfile import check_org
    from bot.texts import Texts
    from storage.db import available_migrations, open_database

    path = Path(args.file)
    if not path.is_file():
        return fail(f"no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return fail(f"cannot read {path}: {reason(e)}")
    org, issues = check_org(text)
    for issue in issues:
        print(f"{path}:{issue}")
    if org is None:
        print(f"{path}: not applied, nothing changed", file=sys.stderr)
        return 1
    try:
        settings = load_tool_settings()
    except ConfigError as e:
        return fail(str(e))
    try:
        db_path = existing_db(args)
    except ConfigError as e:
        return fail(str(e))
    by = args.by or getpass.getuser()
    where = db_label(db_path)

    class _DryRun(Exception):
        pass

    class _NotCurrent(Exception):
        pass

    async def apply():
        db = await open_database(db_path, migrate=False)
        try:
            if await db.user_version() != available_migrations()[-1][0]:
                raise _NotCurrent("its schema is not this heatbot's version: run `heatbot run` with this "
                                            "version once, then apply")
            waited = 0.0
            while True:
                try:
                    async with db.transaction() as conn:
                        result = await apply_org(conn, Texts(settings.tz), settings.lang, org, text, by=by,
                                                 path=str(path.resolve()), now=SystemClock().now())
                        if args.dry_run:
                            raise _DryRun(result)
                    return result
                except sqlite3.OperationalError as e:
                    # The running bot's transactions are short; another apply may take longer.
                    if "locked" not in str(e) or waited >= 30:
                        raise
                    waited += 5     # busy_timeout waited 5 s already
        finally:
            await db.close()

    try:
        result = asyncio.run(apply())
        dry = False
    except _DryRun as e:
        result, dry = e.args[0], True
    except sqlite3.OperationalError as e:
        if "locked" in str(e):
            return fail(f"{where} stayed busy for over 30 s (another `org apply`?); nothing was changed")
        return fail(f"cannot apply to {where}: {first_line(e)}; nothing was changed")
    except (*DATABASE_ERRORS, DatabaseUnreachable, _NotCurrent) as e:
        return fail(f"cannot apply to {where}: {first_line(e)}; nothing was changed")
    for old, new in result.moved.items():
        print(f"{path}: chat {old} was upgraded to supergroup {new}; applied as {new} (change it in the file)")
    if not result.changes:
        print(f"{path}: no changes")
        return 0
    for c in result.changes:
        print(_change_line(c))
    for h in result.held:
        print(f"  ticket {h.number} was accepted by {h.held_by}, now removed: it stays with centre {h.centre_id}; its lead is told")
    count = f"{len(result.changes)} change{'s' if len(result.changes) != 1 else ''}"
    if dry:
        print(f"{path}: {count} (dry run: nothing applied)")
    else:
        print(f"{path}: applied, {count}, by {by}; the change report is queued for dispatch")
    return 0


def _change_line(c) -> str:
    name = f"{c.item} ({c.label})" if c.label and c.label != c.item else c.item
    if c.change == "changed":
        return f"~ {c.section} {name}: {c.field}: {c.old if c.old is not None else '(none)'} -> {c.new if c.new is not None else '(none)'}"
    return f"{'+' if c.change == 'added' else '-'} {c.section} {name}: {c.new if c.change == 'added' else c.old}"


def add_commands(sub) -> None:
    """The ``org`` subcommands, for bot.cli.build_parser."""
    org_parser = sub.add_parser("org", help="check or apply the organisation file")
    org_parser.set_defaults(func=help_for(org_parser))
    org = org_parser.add_subparsers(dest="org_command", metavar="SUBCOMMAND")
    p = org.add_parser("check", help="validate an organisation file")
    p.add_argument("file")
    p.set_defaults(func=cmd_org_check)
    p = org.add_parser("apply", help="apply an organisation file to the bot's database (running or not) and print the diff")
    p.add_argument("file")
    p.add_argument("--db", help="database file (default: HEATBOT_DB)")
    p.add_argument("--by", help="who applies it, for the change log (default: your login name)")
    p.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    p.set_defaults(func=cmd_org_apply)
