"""The test run always exits, pass or fail, and names what would have kept it alive.

A test run that stays alive after its summary fails CI by its time limit and hides which test
failed. This runs pytest in a child process on a small generated test file whose tests fail on
purpose in each kind of fixture: a bare database left open, the emulator with the bot
application, and the bot's own process (as tests/test_crash_restart.py starts it) left running.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

FAILING_TESTS = '''
from pathlib import Path

from storage.db import open_database
from tests.conftest import bot, clock, database, db_path, world  # noqa: F401  (fixtures)
from tests.test_crash_restart import _spawn


async def test_fails_with_a_database_left_open(tmp_path: Path):
    db = await open_database(tmp_path / "left-open.db")
    assert db is None


async def test_fails_inside_the_bot_fixture(bot):
    assert bot is None


async def test_fails_with_the_bot_process_left_running(emulator, tg, world, tmp_path: Path):
    proc = _spawn(emulator, tmp_path / "heatbot.db", tmp_path)
    resident = await tg.user("resident")
    await resident.send("/start")
    await resident.next_message(timeout=30)       # it is up and serving
    assert proc is None
'''


def test_a_run_whose_tests_fail_in_every_kind_of_fixture_exits_and_names_what_it_leaked(tmp_path: Path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
                                         encoding="utf-8")
    (tmp_path / "test_failing.py").write_text(FAILING_TESTS, encoding="utf-8")
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-p", "tgemu.pytest_plugin", "-p", "tests.leak_guard", "test_failing.py"],
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=90,
    )
    took = time.monotonic() - started
    out = run.stdout + run.stderr
    assert run.returncode == 1, out[-3000:]
    assert "3 failed" in out, out[-3000:]
    section = out[out.index("leaked threads or processes"):]
    leaks = section[:section.index("short test summary")]
    assert "_connection_worker_thread" in leaks and "test_fails_with_a_database_left_open" in leaks
    assert "bot.cli run" in leaks and "test_fails_with_the_bot_process_left_running" in leaks
    assert "test_fails_inside_the_bot_fixture" not in leaks         # its teardown closed everything
    # A few seconds of start-up and grace; a hang would run into the timeout above instead.
    assert took < 60
