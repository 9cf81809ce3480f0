"""``heatbot status``, ``backup`` and ``restore``: the database, read or copied without Telegram."""
from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from bot.cliutil import db_arg, db_label, existing_db, fail, first_line, reason
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


def add_commands(sub) -> None:
    """The ``status``, ``backup`` and ``restore`` subcommands, for bot.cli.build_parser."""
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
