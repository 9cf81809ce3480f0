"""Backups of the SQLite database while the bot runs, and their restore.

SQLite's online backup API copies the database page by page inside one read transaction, so the
copy is consistent (every committed transaction in it or none of it, WAL included) while the bot
keeps writing: in WAL mode readers do not block the writer. Copying the file with ``cp`` is not
safe: the last transactions may still be in ``-wal`` only.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.db import InstanceLock, available_migrations

__all__ = ["BackupError", "BackupInfo", "backup", "restore"]


class BackupError(Exception):
    """A backup or restore that cannot go ahead (one line, for the CLI)."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    schema_version: int
    tickets: int
    size: int


def _check(conn: sqlite3.Connection, path: Path) -> BackupInfo:
    """A heatbot database this code can run, whole: or :class:`BackupError`."""
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not a SQLite database ({e})") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged (integrity check: {verdict})")
    latest = available_migrations()[-1][0]
    if version == 0:
        raise BackupError(f"{path} is not a heatbot database (no schema)")
    if version > latest:
        raise BackupError(f"{path} is at schema version {version}, newer than this heatbot (knows up to {latest})")
    tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    return BackupInfo(path, version, tickets, path.stat().st_size)


def _private(path: Path) -> None:
    # Residents' names, phones and addresses: readable by the bot's user alone, like the database.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))


def backup(db_path: Path, out: Path) -> BackupInfo:
    """Copy ``db_path`` to ``out`` (a new file), consistent while the bot writes, then check it."""
    info = _copy(db_path, out, check=True)
    assert info is not None
    return info


def _copy(db_path: Path, out: Path, *, check: bool) -> BackupInfo | None:
    """``check=False`` copies any SQLite file as it is: the database a restore puts aside."""
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    if out.exists():
        raise BackupError(f"{out} exists already; give a new file name")
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    _private(partial)
    try:
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)       # all pages in one step: one read transaction, one snapshot
                info = _check(target, partial) if check else None
                target.execute("PRAGMA journal_mode=DELETE")    # one self-contained file
            finally:
                target.close()
        finally:
            source.close()
        partial.rename(out)                 # a reader never sees a half-written backup under its name
    except sqlite3.Error as e:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {db_path}: {e}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return None if info is None else BackupInfo(out, info.schema_version, info.tickets, out.stat().st_size)


def restore(backup_file: Path, db_path: Path, now: datetime) -> tuple[BackupInfo, Path | None]:
    """Put ``backup_file``'s content into ``db_path``; the bot must be stopped. The database it
    replaces is kept beside it first (returned), so a restore of the wrong file loses nothing."""
    if not backup_file.is_file():
        raise BackupError(f"no backup file at {backup_file}")
    with InstanceLock(db_path):     # raises InstanceLocked while a bot serves this database
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        try:
            info = _check(source, backup_file)
            kept: Path | None = None
            if db_path.exists() and db_path.stat().st_size > 0:
                kept = db_path.with_name(f"{db_path.name}.before-restore-{now:%Y%m%d-%H%M%S}")
                _copy(db_path, kept, check=False)
            else:
                db_path.parent.mkdir(parents=True, exist_ok=True)
                if not db_path.exists():
                    _private(db_path)
            target = sqlite3.connect(db_path, timeout=30)
            try:
                source.backup(target)       # replaces every page in one write transaction
            finally:
                target.close()
        except sqlite3.Error as e:
            raise BackupError(f"cannot restore into {db_path}: {e}") from None
        finally:
            source.close()
    return info, kept
