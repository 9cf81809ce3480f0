"""A pytest plugin: the suite always exits, and whatever would have kept it alive is named.

Python waits for every non-daemon thread before it exits, and aiosqlite runs each connection on
one. A connection that a failing test never closed is kept reachable by the failure's traceback
(pytest keeps the last one in ``sys.last_traceback``), so its thread outlives the session and
pytest hangs after printing its summary. A child process left running holds CI's output pipe
open, which hangs the job just the same.

After each test this plugin notes any non-daemon thread or child process that the test started
and that is still alive after a short grace (a closed connection's thread ends a moment after
``close()`` returns). At session end it lists what is still alive, with the test that started
it, and fails the run. Then it makes sure the process exits anyway: leftover children are
killed, and if a leaked thread is still alive the interpreter leaves with ``os._exit`` after
flushing its output instead of waiting for that thread forever.

Enabled from tests/conftest.py (``pytest_plugins``).
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["alive_children", "alive_threads"]

_GRACE = 1.0        # seconds a thread or child gets to finish after its test's teardown
_STASH = pytest.StashKey["_Guard"]()


def alive_threads() -> set[threading.Thread]:
    """Non-daemon threads other than this one: each would keep the interpreter from exiting."""
    main = threading.main_thread()
    return {t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not main}


def alive_children() -> set[int]:
    """Process ids of this process's children that are still running (not zombies). Linux only."""
    pids: set[int] = set()
    for path in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        try:
            pids.update(int(p) for p in path.read_text().split())
        except OSError:       # the task ended while we looked
            continue
    return {pid for pid in pids if _running(pid) and pid != _resource_tracker_pid()}


def _resource_tracker_pid() -> int | None:
    """multiprocessing's resource tracker: one helper per interpreter that ends on its own
    when this process exits (its pipe closes), so it is not a leak."""
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    return getattr(getattr(tracker, "_resource_tracker", None), "_pid", None)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself contain ") ".
    return stat.rpartition(")")[2].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:160]


def _thread_label(t: threading.Thread) -> str:
    # Since Python 3.10 the default name carries the target, e.g. "Thread-3 (_connection_worker_thread)".
    return t.name


@dataclass
class _Guard:
    threads: dict[threading.Thread, str]      # leaked thread -> the test that started it
    children: dict[int, str]                  # leaked child pid -> the test that started it
    session: pytest.Session | None = None
    report: list[str] | None = None           # set when something outlived the session

    @property
    def leaked(self) -> bool:
        return self.report is not None


def _settle(threads: set[threading.Thread], children: set[int], deadline: float) -> tuple[set[threading.Thread], set[int]]:
    """Wait until ``deadline`` for the given threads and children to end; return those still alive."""
    while True:
        threads = {t for t in threads if t.is_alive()}
        children = {pid for pid in children if _running(pid)}
        if (not threads and not children) or time.monotonic() >= deadline:
            return threads, children
        for t in threads:
            t.join(max(0.0, min(0.05, deadline - time.monotonic())))
        if children:
            time.sleep(0.02)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STASH] = _Guard({}, {})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    threads_before, children_before = alive_threads(), alive_children()
    yield
    new_threads = alive_threads() - threads_before
    new_children = alive_children() - children_before
    if not new_threads and not new_children:
        return
    new_threads, new_children = _settle(new_threads, new_children, time.monotonic() + _GRACE)
    guard = item.config.stash[_STASH]
    for t in new_threads:
        guard.threads.setdefault(t, item.nodeid)
    for pid in new_children:
        guard.children.setdefault(pid, item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    guard = session.config.stash[_STASH]
    guard.session = session
    threads = alive_threads()
    children = alive_children()
    if not threads and not children:
        return
    # Something started outside any test (a fixture of wider scope, a plugin) is named too.
    threads, children = _settle(threads, children, time.monotonic() + _GRACE)
    if not threads and not children:
        return
    lines = ["still alive at the end of the session (each would keep the test run from exiting):"]
    for t in sorted(threads, key=lambda t: t.name):
        lines.append(f"  thread {_thread_label(t)!r}, started during {guard.threads.get(t, 'no single test')}")
    for pid in sorted(children):
        lines.append(f"  child process {pid} ({_cmdline(pid)}), started during {guard.children.get(pid, 'no single test')}")
    lines.append("close every connection and stop every process on every path, failing ones included")
    guard.report = lines
    if session.config.pluginmanager.get_plugin("terminalreporter") is None:
        print("\n".join(lines), file=sys.stderr)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    guard = config.stash[_STASH]
    if guard.report:
        terminalreporter.write_sep("=", "leaked threads or processes", red=True)
        for line in guard.report:
            terminalreporter.write_line(line, red=True)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_STASH, None)
    if guard is None or not guard.leaked:
        return
    # Dropping the last failure's traceback lets a leaked connection be collected, which stops
    # its thread; if a thread still lives, leave without waiting for it (pytest's exit status).
    sys.last_type = sys.last_value = sys.last_traceback = None  # type: ignore[assignment]
    if hasattr(sys, "last_exc"):
        sys.last_exc = None  # type: ignore[attr-defined]
    gc.collect()
    remaining, _ = _settle(alive_threads(), set(), time.monotonic() + _GRACE)
    if remaining:
        sys.stdout.flush()
        sys.stderr.flush()
        status = guard.session.exitstatus if guard.session is not None else pytest.ExitCode.TESTS_FAILED
        os._exit(int(status))
