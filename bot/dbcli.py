"""``heatbot status``, ``backup``, ``restore`` and ``db copy``: the database, read or copied without Telegram."""
from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from bot.cliutil import db_arg, db_label, existing_db, fail, first_line, help_for, reason
from bot.config import ConfigError

__all__ = ["add_commands"]


def cmd_status(args: argparse.Namespace) -> int:
    """The outbox at a glance, read straight from HEATBOT_DB (no Telegram needed)."""
    from bot.clock import SystemClock
    from bot.status import format_report, outbox_report, report_json
    from storage.db import DatabaseUnreachable, open_database
    from storage.dialect import DATABASE_ERRORS

    def refuse(message: str) -> int:
        if args.json:       # a script reading --json gets JSON, failure or not
            print(json.dumps({"error": message}, ensure_ascii=False))
            return 2
        return fail(message)

    try:
        path = existing_db(args)
    except ConfigError as e:
        return refuse(str(e))

    async def read():
        db = await open_database(path, migrate=False)
        try:
            if await db.user_version() == 0:
                return None         # an empty file: `heatbot run` creates the tables
            return await outbox_report(db.conn, SystemClock().now())
        finally:
            await db.close()

    try:
        report = asyncio.run(read())
    except (*DATABASE_ERRORS, DatabaseUnreachable) as e:
        return refuse(f"cannot read the outbox in {db_label(path)}: {first_line(e)}")
    except OSError as e:
        return refuse(f"cannot read the outbox in {db_label(path)}: {reason(e)}")
    if report is None:
        return refuse(f"{db_label(path)} is not a heatbot database yet (no tables; `heatbot run` creates them)")
    print(json.dumps(report_json(report), ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the database while the bot runs (SQLite's online backup API)."""
    from storage.backup import BackupError, backup

    try:
        info = backup(_sqlite_file(args, "backup"), Path(args.out))
    except (ConfigError, BackupError) as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot write {args.out}: {reason(e)}")
    print(f"{info.path}: {info.tickets} tickets, schema version {info.schema_version}, {info.size} bytes; integrity ok")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a backup back (the bot stopped); the database it replaces is kept beside it."""
    from bot.clock import SystemClock
    from storage.backup import BackupError, restore
    from storage.db import InstanceLocked

    try:
        db = _sqlite_file(args, "restore")
        info, kept = restore(Path(args.file), db, SystemClock().now())
    except (ConfigError, BackupError, InstanceLocked) as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot restore into {args.db or 'HEATBOT_DB'}: {reason(e)}")
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    print(f"{db}: restored from {info.path} ({info.tickets} tickets, schema version {info.schema_version}); "
          f"start the bot to bring the schema up to date")
    return 0


def _sqlite_file(args: argparse.Namespace, command: str) -> Path:
    """The SQLite file ``backup`` and ``restore`` work on; PostgreSQL has its own tools."""
    db = db_arg(args)
    if not isinstance(db, Path):
        raise ConfigError(f"`heatbot {command}` works on a SQLite file; {db_label(db)} is PostgreSQL: use "
                          f"{'pg_dump' if command == 'backup' else 'pg_restore'} (README, 'Backups')")
    return db


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Copy a SQLite database into an empty PostgreSQL one (storage/copy.py), verified."""
    from bot.config import database_path
    from storage.copy import CopyError, copy_database

    try:
        source = database_path(args.source)
    except ConfigError as e:
        return fail(str(e))
    if not isinstance(source, Path):
        return fail("--from must be a SQLite database file (the database to move to PostgreSQL)")
    try:
        report = copy_database(source, args.to)
    except CopyError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot copy {source}: {reason(e)}")
    width = max(len(name) for name, _ in report.rows)
    digits = len(f"{report.total:,}")
    print(f"copied {report.source} (schema version {report.schema_version}) to {report.target}")
    for name, rows in sorted(report.rows):
        print(f"  {name:<{width}}  {rows:>{digits},}")
    print(f"  {'total':<{width}}  {report.total:>{digits},}")
    print(f"verified: rows per table and the ledgers' checksums match; {report.seconds:.1f} s")
    if report.bot_running:
        print(f"note: a bot was running on {report.source}; what it wrote after the copy began is not in the copy. "
              f"Stop it and copy again into a new database before switching HEATBOT_DB.")
    return 0


def add_commands(sub) -> None:
    """The ``status``, ``backup``, ``restore`` and ``db`` subcommands, for bot.cli.build_parser."""
    p = sub.add_parser("status", help="outbox depth by priority, oldest waiting message, permanent failures")
    p.add_argument("--db", help="database file (default: HEATBOT_DB)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("backup", help="copy the database to a new file, consistent while the bot runs")
    p.add_argument("--out", required=True, metavar="FILE", help="the backup file to write (must not exist)")
    p.add_argument("--db", help="database file (default: HEATBOT_DB)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="put a backup back into the database (stop the bot first)")
    p.add_argument("file", help="a file written by `heatbot backup`")
    p.add_argument("--db", help="database file (default: HEATBOT_DB)")
    p.set_defaults(func=cmd_restore)

    db_parser = sub.add_parser("db", help="move the database: copy a SQLite database into PostgreSQL")
    db_parser.set_defaults(func=help_for(db_parser))
    db = db_parser.add_subparsers(dest="db_command", metavar="SUBCOMMAND")
    p = db.add_parser("copy", help="copy a SQLite database into a new, empty PostgreSQL database, verified")
    p.add_argument("--from", dest="source", required=True, metavar="FILE", help="the SQLite database (heatbot.db)")
    p.add_argument("--to", required=True, metavar="URL", help="the PostgreSQL database, postgresql://user@host/db (must be empty)")
    p.set_defaults(func=cmd_db_copy)
