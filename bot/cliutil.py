"""What every ``heatbot`` subcommand shares: one clear line on failure, the database setting."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.config import ConfigError, database_path
from storage.postgres import describe_url

__all__ = ["fail", "first_line", "reason", "db_arg", "db_label", "existing_db", "help_for"]


def fail(message: str, code: int = 2) -> int:
    print(f"heatbot: {message}", file=sys.stderr)
    return code


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def reason(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else first_line(e)


def db_arg(args: argparse.Namespace) -> Path | str:
    """``--db``, else ``HEATBOT_DB``, else heatbot.db; raises ConfigError as start-up would."""
    return database_path(getattr(args, "db", None) or os.environ.get("HEATBOT_DB") or "heatbot.db")


def existing_db(args: argparse.Namespace) -> Path | str:
    """:func:`db_arg` for a command that reads the database: a file must exist (ConfigError, one
    line); a PostgreSQL URL is checked when it is opened."""
    path = db_arg(args)
    if isinstance(path, Path) and not path.is_file():
        raise ConfigError(f"no database at {path} (--db or HEATBOT_DB; `heatbot run` creates it)")
    return path


def db_label(target: Path | str) -> str:
    """A database for a message: the file, or the PostgreSQL URL without its password."""
    return str(target) if isinstance(target, Path) else describe_url(target)


def help_for(parser: argparse.ArgumentParser):
    """For a command given without its subcommand: its help instead of argparse's terse
    "the following arguments are required", and the exit code of a usage error."""
    def show(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2
    return show
