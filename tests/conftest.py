"""Fixtures: a strict emulator, the real Application polling it, a real SQLite file, a fake clock.

Only the edges are fake: Telegram (the emulator) and time (FakeClock). Everything of ours is
the real code.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Application

from bot import app as heatbot_app
from bot.app import build_application
from bot.web import Listen
from bot.clock import FakeClock
from bot.config import Config
from tgemu import Emulator, EmulatorClient
from demo.world import World, build_world
from storage.dialect import POSTGRESQL, SQLITE

# leak_guard: the run fails, naming the test, if a thread or child process outlives the session.
# pg: the throwaway PostgreSQL server scripts/test started, and a fresh database per test.
pytest_plugins = ["tgemu.pytest_plugin", "tests.leak_guard", "tests.pg"]

ROOT = Path(__file__).resolve().parent.parent
ORG_FILE = ROOT / "org.example.toml"
# 09:00 in Shanghai on a winter morning.
TOKEN = "123456:TEST-TOKEN"
START = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_config(emulator: Emulator, db_path: Path | str, **overrides) -> Config:
    values = dict(
        token=TOKEN, api_base_url=emulator.api_base_url, file_base_url=emulator.file_base_url,
        webhook_url=None, webhook_listen="127.0.0.1", webhook_port=0, webhook_secret=None,
        db_path=db_path, org_path=ORG_FILE, policy_path=None, lang="zh", tz=ZoneInfo("Asia/Shanghai"),
        log_level="WARNING",
    )
    values.update(overrides)
    return Config(**values)


@pytest.fixture
async def world(tg: EmulatorClient) -> World:
    return await build_world(tg, ORG_FILE)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "heatbot.db"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test is about the SQLite file itself (backups, "
                                       "WAL, file locks); it runs on SQLite only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test about the SQLite file (marked sqlite_only, or asking for ``db_path``, the file the
    bot writes on SQLite) is not run a second time on PostgreSQL, rather than skipped there."""
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        on_pg = spec is not None and spec.params.get("database") == POSTGRESQL
        about_file = item.get_closest_marker("sqlite_only") or "db_path" in getattr(item, "fixturenames", ())
        (drop if on_pg and about_file else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=[SQLITE, POSTGRESQL])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """The bot's database, once a SQLite file and once a fresh PostgreSQL database (skipped,
    saying why, when no PostgreSQL server is given)."""
    if request.param == SQLITE:
        yield tmp_path / "heatbot.db"
        return
    yield request.getfixturevalue("pg_database")


@pytest.fixture
async def bot(emulator: Emulator, world: World, database: Path | str, clock: FakeClock) -> AsyncIterator[Application]:
    app = build_application(make_config(emulator, database), clock=clock)
    await heatbot_app.start(app)
    yield app
    await heatbot_app.stop(app)


@pytest.fixture
async def web_bot(emulator: Emulator, world: World, database: Path | str, clock: FakeClock) -> AsyncIterator[Application]:
    """The bot with its web server, on a port the system picks as it binds (a port merely seen
    free can be taken by another process first): ``app.bot_data["web"].port``."""
    app = build_application(make_config(emulator, database), clock=clock)
    await heatbot_app.start(app, http=Listen("127.0.0.1", 0))
    yield app
    await heatbot_app.stop(app)
