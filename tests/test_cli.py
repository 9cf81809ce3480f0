"""The ``heatbot`` command as an operator meets it (issue 2): each expected failure is one clear
line on stderr and a non-zero exit, never a traceback, and the token never shows.

Every test runs the real command in a child process (``python -m bot.cli``, what the
``heatbot`` console script calls) in an empty working directory, so a developer's ``.env`` or
environment cannot leak in. The emulator runs in this process, on a free loopback port.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tgemu import Emulator, EmulatorClient, Msg

ROOT = Path(__file__).resolve().parent.parent
ORG_FILE = ROOT / "org.example.toml"
GOOD_TOKEN = "123456:TEST-TOKEN"          # what the `emulator` fixture accepts
WRONG_TOKEN = "999999:WRONG-TOKEN-xxxxxxxxxxxxxxxx"
SECRETS = ("TEST-TOKEN", "WRONG-TOKEN")   # the part after the colon is what must never leak


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def assert_one_clear_line(self, *words: str) -> str:
        assert self.code != 0, self
        assert len(self.err_lines) == 1, self.err
        line = self.err_lines[0]
        assert line.startswith("heatbot: ") and "Traceback" not in self.err
        for word in words:
            assert word in line, line
        self.assert_no_token()
        return line

    def assert_no_token(self) -> None:
        for secret in SECRETS:
            assert secret not in self.out and secret not in self.err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory: ``load_config`` reads ``.env`` from the cwd."""
    path = tmp_path / "cwd"
    path.mkdir()
    return path


def child_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HEATBOT_", "WEBHOOK_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(settings)
    return env


def bot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A complete, valid configuration; ``settings`` replace or (with "") drop values."""
    values = {
        "TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "HEATBOT_ORG": str(ORG_FILE), "HEATBOT_DB": str(tmp_path / "heatbot.db"),
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
        # No web server: its default port (8080) may be taken on a shared machine, and a port
        # merely seen free may be taken before the child binds it. Tests of the web server run
        # it in-process on port 0.
        "HEATBOT_HTTP_PORT": "0",
    }
    values.update(settings)
    return child_env(**{k: v for k, v in values.items() if v != ""})


async def heatbot(*args: str, env: dict[str, str], cwd: Path, timeout: float = 20) -> Run:
    """Run ``heatbot ARGS`` to completion without blocking the loop (the emulator lives in it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"heatbot {' '.join(args)} did not finish in {timeout} s") from None
    return Run(proc.returncode, out.decode(), err.decode())


# ---------------------------------------------------------------- heatbot run: start-up failures


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "TEST-TOKEN-but-no-id"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/"}, "TELEGRAM_API_BASE_URL"),
        ({"WEBHOOK_URL": "https://bot.example.com", "WEBHOOK_PORT": "https"}, "WEBHOOK_PORT"),
        ({"HEATBOT_TZ": "Asia/Atlantis"}, "HEATBOT_TZ"),
        ({"HEATBOT_ORG": "missing-org.toml"}, "HEATBOT_ORG"),
        ({"HEATBOT_LOG_LEVEL": "CHATTY"}, "HEATBOT_LOG_LEVEL"),
        ({"HEATBOT_SEND_IN_FLIGHT": "lots"}, "HEATBOT_SEND_IN_FLIGHT"),
        ({"HEATBOT_SEND_GROUP_PER_MIN": "twenty"}, "HEATBOT_SEND_GROUP_PER_MIN"),
    ],
    ids=["token-missing", "token-malformed", "api-url-not-ending-in-bot", "webhook-port", "tz", "org-file", "log-level",
         "send-in-flight", "send-group-budget"],
)
async def test_bad_configuration_stops_heatbot_run_with_one_line_naming_the_setting(tmp_path, workdir, settings, setting):
    run = await heatbot("run", env=bot_env(tmp_path, **settings), cwd=workdir)
    run.assert_one_clear_line(setting)
    assert run.out == ""


async def test_a_malformed_env_file_stops_heatbot_run_naming_the_line(tmp_path, workdir):
    (workdir / ".env").write_text(f"TELEGRAM_BOT_TOKEN={GOOD_TOKEN}\nthis line is wrong\n", encoding="utf-8")
    run = await heatbot("run", env=bot_env(tmp_path, TELEGRAM_BOT_TOKEN=""), cwd=workdir)
    run.assert_one_clear_line(".env", "line 2")


async def test_a_bad_organisation_file_stops_heatbot_run_with_one_line(tmp_path, workdir):
    org = tmp_path / "org.toml"
    org.write_text("dispatch_chat_id = = 1\n", encoding="utf-8")
    run = await heatbot("run", env=bot_env(tmp_path, HEATBOT_ORG=str(org)), cwd=workdir)
    run.assert_one_clear_line("HEATBOT_ORG", "line 1")


async def test_an_unreachable_api_server_gives_one_clear_line(tmp_path, workdir):
    url = f"http://127.0.0.1:{free_port()}/bot"     # nothing listens there
    run = await heatbot("run", env=bot_env(tmp_path, TELEGRAM_API_BASE_URL=url), cwd=workdir)
    run.assert_one_clear_line("cannot reach the Bot API server", url, "TELEGRAM_API_BASE_URL")


async def test_a_wrong_token_against_a_local_server_names_the_emulators_token(tmp_path, workdir, emulator: Emulator):
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=WRONG_TOKEN, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    run = await heatbot("run", env=env, cwd=workdir)
    assert run.code != 0 and len(run.err_lines) == 1 and "Traceback" not in run.err, run.err
    line = run.err_lines[0]
    assert "rejected TELEGRAM_BOT_TOKEN" in line and emulator.api_base_url in line
    # The hint names the emulator's one token; the token that was tried never shows.
    assert GOOD_TOKEN in line and "WRONG-TOKEN" not in run.out + run.err


async def test_a_database_from_a_newer_heatbot_gives_one_clear_line(tmp_path, workdir, emulator: Emulator):
    import sqlite3

    db = tmp_path / "newer.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    db.chmod(0o600)         # an older, world-readable file would add a warning line
    env = bot_env(tmp_path, HEATBOT_DB=str(db), TELEGRAM_API_BASE_URL=emulator.api_base_url)
    run = await heatbot("run", env=env, cwd=workdir)
    run.assert_one_clear_line("schema version 999", "upgrade heatbot")


async def test_an_unusable_database_path_gives_one_clear_line_naming_heatbot_db(tmp_path, workdir, emulator: Emulator):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    env = bot_env(tmp_path, HEATBOT_DB=str(blocker / "heatbot.db"), TELEGRAM_API_BASE_URL=emulator.api_base_url)
    run = await heatbot("run", env=env, cwd=workdir)
    run.assert_one_clear_line("HEATBOT_DB", str(blocker))


async def test_a_webhook_port_in_use_gives_one_clear_line(tmp_path, workdir, emulator: Emulator):
    taken = emulator.port
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url,
                  WEBHOOK_URL=f"http://127.0.0.1:{taken}", WEBHOOK_PORT=str(taken))
    run = await heatbot("run", env=env, cwd=workdir)
    run.assert_one_clear_line("WEBHOOK_PORT", str(taken))


# ---------------------------------------------------------------- heatbot run: serving


async def run_until_greeted(env: dict[str, str], workdir: Path, tg: EmulatorClient) -> tuple[Run, Msg]:
    """``heatbot run`` until a resident's /start is answered, then SIGTERM (a clean stop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=workdir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        resident = await tg.user("张三", language_code="zh")
        await resident.send("/start")
        greeting = await resident.next_message(timeout=15)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
    return Run(proc.returncode, out.decode(), err.decode()), greeting


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_heatbot_run_greets_a_resident_and_logs_no_token_even_at_debug(tmp_path, workdir, emulator: Emulator,
                                                                             tg: EmulatorClient, mode: str):
    settings = {"TELEGRAM_API_BASE_URL": emulator.api_base_url, "HEATBOT_LOG_LEVEL": "DEBUG"}
    if mode == "webhook":
        port = free_port()
        settings.update(WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_PORT=str(port), WEBHOOK_SECRET="cli_secret")
    run, greeting = await run_until_greeted(bot_env(tmp_path, **settings), workdir, tg)
    assert "📝 我要报修" in greeting.button_texts()
    if mode == "webhook":
        [call] = await tg.calls("setWebhook")
        assert call.params["url"] == f"http://127.0.0.1:{port}/telegram"
        assert call.params["secret_token"] == "cli_secret"
    assert run.code == 0, run.err[-2000:]                 # SIGTERM is a clean stop
    assert "DEBUG bot.app" in run.err                     # it really logged at DEBUG
    assert "Traceback" not in run.err
    run.assert_no_token()


async def test_heatbot_run_logs_one_redacted_json_object_per_line_when_asked(tmp_path, workdir, emulator: Emulator,
                                                                            tg: EmulatorClient):
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_LOG_LEVEL="DEBUG",
                  HEATBOT_LOG_FORMAT="json")
    run, _ = await run_until_greeted(env, workdir, tg)
    assert run.code == 0, run.err[-2000:]
    entries = [json.loads(line) for line in run.err.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["level"] == "DEBUG" and e["logger"].startswith("bot.") for e in entries)
    run.assert_no_token()


def test_a_json_log_line_carries_the_redacted_traceback():
    from bot.logs import JsonFormatter, Redact

    try:
        raise ValueError(f"resident 13912345678 and token {GOOD_TOKEN}")
    except ValueError:
        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed for %s", ("13912345678",), sys.exc_info())
    assert Redact(GOOD_TOKEN).filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed for <phone>" and entry["level"] == "ERROR"
    assert "ValueError" in entry["exception"]
    assert "13912345678" not in entry["exception"] and GOOD_TOKEN.partition(":")[2] not in entry["exception"]


# ---------------------------------------------------------------- heatbot rules explain


async def test_rules_explain_prints_json_with_local_time_deadlines(workdir):
    run = await heatbot("rules", "explain", "--category", "not_warm", "--received", "2026-01-15T09:00", "--json",
                        env=child_env(), cwd=workdir)
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert result["level"] == "major"
    assert result["received"] == "2026-01-15T09:00:00+08:00"
    assert result["deadlines"] == {                          # Art. 12, Art. 13 limits (1) and (3)
        "accept": "2026-01-15T09:30:00+08:00",
        "onsite": "2026-01-15T10:00:00+08:00",
        "close": "2026-01-15T21:00:00+08:00",
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--category", "warm_beer"], ["warm_beer"]),
        (["--category", "not_warm", "--tz", "Mars/Olympus"], ["--tz", "Mars/Olympus"]),
        (["--category", "not_warm", "--received", "yesterday"], ["yesterday"]),
        (["--category", "not_warm", "--source", "pigeon"], ["pigeon"]),
        (["--category", "not_warm", "--policy", "no-such-policy.toml"], ["no-such-policy.toml"]),
    ],
    ids=["unknown-category", "unknown-tz", "bad-time", "unknown-source", "missing-policy-file"],
)
async def test_rules_explain_answers_bad_input_with_one_clear_line(workdir, args, words):
    run = await heatbot("rules", "explain", *args, env=child_env(), cwd=workdir)
    run.assert_one_clear_line(*words)
    assert run.out == ""


# ---------------------------------------------------------------- heatbot org check


async def test_org_check_accepts_the_example_file(workdir):
    run = await heatbot("org", "check", str(ORG_FILE), env=child_env(), cwd=workdir)
    assert run.code == 0, run.out + run.err
    assert "OK" in run.out and run.err == ""


async def test_org_check_names_the_line_of_a_broken_file(tmp_path, workdir):
    org = tmp_path / "org.toml"
    good = ORG_FILE.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(good, start=1) if text.startswith("dispatch_chat_id"))
    good[line - 1] = 'dispatch_chat_id = "dispatch"'
    org.write_text("\n".join(good) + "\n", encoding="utf-8")
    run = await heatbot("org", "check", str(org), env=child_env(), cwd=workdir)
    assert run.code == 1
    assert f"line {line}" in run.out and "dispatch_chat_id" in run.out
    assert "Traceback" not in run.out + run.err


async def test_org_check_of_a_missing_file_is_one_clear_line(workdir):
    run = await heatbot("org", "check", "nowhere.toml", env=child_env(), cwd=workdir)
    run.assert_one_clear_line("nowhere.toml")


# ---------------------------------------------------------------- heatbot emulator


async def test_heatbot_emulator_serves_the_bot_api_standalone(workdir):
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "emulator", "--port", str(port), env=child_env(), cwd=workdir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(100):
                try:
                    response = await http.post(f"http://127.0.0.1:{port}/bot{GOOD_TOKEN}/getMe")
                    break
                except httpx.TransportError:
                    if proc.returncode is not None:
                        break
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the emulator did not start listening within 10 s")
            assert proc.returncode is None, (await proc.stderr.read()).decode()
            assert response.status_code == 200
            body = response.json()
            assert body["ok"] is True and body["result"]["is_bot"] is True
            wrong = await http.post(f"http://127.0.0.1:{port}/bot{WRONG_TOKEN}/getMe")
            assert wrong.status_code == 401 and wrong.json()["ok"] is False
    finally:
        if proc.returncode is None:
            proc.terminate()
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    run = Run(proc.returncode, out.decode(), err.decode())
    assert run.code == 0, run.err[-2000:]
    assert f"http://127.0.0.1:{port}/bot" in run.out and "Traceback" not in run.err
    run.assert_no_token()


async def test_heatbot_emulator_on_a_busy_port_is_one_clear_line(workdir, emulator: Emulator):
    run = await heatbot("emulator", "--port", str(emulator.port), env=child_env(), cwd=workdir)
    run.assert_one_clear_line(str(emulator.port))


# ---------------------------------------------------------------- a newcomer's first commands


@pytest.mark.parametrize(("args", "subcommands"), [([], ["run", "rules", "org"]), (["rules"], ["explain", "codes"]),
                                                   (["org"], ["check"])], ids=["heatbot", "rules", "org"])
async def test_a_command_without_its_subcommand_prints_the_subcommands(workdir, args, subcommands):
    run = await heatbot(*args, env=child_env(), cwd=workdir)
    assert run.code == 2 and "required" not in run.err and "Traceback" not in run.err
    for name in subcommands:
        assert name in run.err


async def test_rules_explain_help_lists_every_category_code_of_the_policy(workdir):
    from rules.policy import Source, load_policy

    run = await heatbot("rules", "explain", "--help", env=child_env(), cwd=workdir)
    assert run.code == 0, run.err
    for code in load_policy().categories:
        assert f"  {code} " in run.out, code
    assert all(source.value in run.out for source in Source)


def test_the_readmes_table_of_codes_is_what_rules_codes_prints():
    from bot.cli import codes_table
    from rules.policy import load_policy

    table = codes_table(load_policy(), markdown=True)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, "regenerate the README table with `heatbot rules codes --markdown`"


@pytest.mark.parametrize(("settings", "label"), [({}, "家中不热"), ({"HEATBOT_LANG": "en"}, "Home not warm")],
                         ids=["default-chinese", "heatbot-lang-en"])
async def test_rules_explain_speaks_the_bots_language(workdir, settings, label):
    run = await heatbot("rules", "explain", "--category", "not_warm", "--json", env=child_env(**settings), cwd=workdir)
    assert run.code == 0, run.err
    assert json.loads(run.out)["category_label"] == label


async def test_a_bad_heatbot_lang_stops_rules_explain_with_one_line(workdir):
    run = await heatbot("rules", "explain", "--category", "not_warm", env=child_env(HEATBOT_LANG="fr"), cwd=workdir)
    run.assert_one_clear_line("HEATBOT_LANG")


# ---------------------------------------------------------------- heatbot run says it runs


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_heatbot_run_says_once_that_it_runs_as_which_bot_in_which_mode_on_which_database(
        tmp_path, workdir, emulator: Emulator, tg: EmulatorClient, mode: str):
    settings = {"TELEGRAM_API_BASE_URL": emulator.api_base_url}
    if mode == "webhook":
        port = free_port()
        settings.update(WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_PORT=str(port))   # no WEBHOOK_SECRET
    env = bot_env(tmp_path, **settings)
    run, _ = await run_until_greeted(env, workdir, tg)
    assert run.code == 0, run.err
    [running] = [line for line in run.err_lines if "running" in line]
    assert "@heatbot_bot" in running and env["HEATBOT_DB"] in running
    assert ("webhook" in running) == (mode == "webhook") and ("polling" in running) == (mode == "polling")
    warnings = [line for line in run.err_lines if "WEBHOOK_SECRET" in line]
    assert len(warnings) == (1 if mode == "webhook" else 0)
    assert len(run.err_lines) == 1 + len(warnings)        # nothing else at the default log level
    run.assert_no_token()


# ---------------------------------------------------------------- logs without residents' data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("phone 13912345678 given", "phone <phone> given"),
        ("+86 139 1234 5678", "<phone>"),
        ("0086-13912345678", "<phone>"),
        ("landline 010-12345678.", "landline <phone>."),
        ("0371 87654321", "<phone>"),
        ("group -1001000000101 held", "group -1001000000101 held"),
        ("user 5001, ticket 0001, at 1768438800123 ms", "user 5001, ticket 0001, at 1768438800123 ms"),
    ],
    ids=["mobile", "mobile-spaced-plus86", "mobile-0086", "landline-dash", "landline-space", "group-id", "other-numbers"],
)
def test_phone_numbers_are_masked_in_logs_and_ids_are_not(text, masked):
    from bot.logs import Redact

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "%s", (text,), None)
    assert Redact("").filter(record)
    assert record.getMessage() == masked


async def test_a_whole_story_logged_at_debug_carries_no_residents_phone_or_address(tmp_path, workdir, emulator: Emulator,
                                                                                  tg: EmulatorClient, world):
    from bot.orgfile import load_org
    from tests.story import report_cold_flat

    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_LOG_LEVEL="DEBUG")
    # The log goes to a file, not a pipe: a pipe nobody reads while the story runs fills up and
    # stalls the bot, as soon as the log is as chatty as it was when it carried the payloads.
    log_file = tmp_path / "heatbot.log"
    with log_file.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=workdir, stdout=sink, stderr=sink,
        )
    try:
        resident = await tg.user("张三", language_code="zh")
        await resident.send("/start")
        await resident.next_message(timeout=15)            # serving
        receipt = await report_cold_flat(resident, phone="139 1234 5678", address="7-1-302")
        assert "0001" in receipt.text
        group, crew = world.groups["repair-north"], world.crew(5001)
        card = await group.next_message()
        assert "13912345678" in card.text                 # the crew sees the phone; the log must not
        for button in ("受理", "已到场", "处理完成"):
            await crew.press(card, button)
            card = await group.wait_edited(card)
        await crew.send("更换了堵塞的阀门", chat=group, reply_to=card)
        await group.wait_edited(card)
        await crew.send("/ticket 1", chat=group)
        await group.next_message_where(lambda m: "0001" in (m.text or ""))
        await resident.send("/my")
        await resident.next_message_where(lambda m: "0001" in (m.text or ""))
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
    log = log_file.read_text(encoding="utf-8")
    run = Run(proc.returncode, "", log)
    assert run.code == 0, log[-2000:]
    assert "DEBUG" in log and "ticket 1 created" in log    # it logged, at DEBUG, while the story ran
    staff_phones = [s.phone for s in load_org(ORG_FILE).staff if s.phone]
    for secret in ["13912345678", "1234 5678", "7-1-302", *staff_phones]:
        assert secret not in log, secret
    run.assert_no_token()

# ---------------------------------------------------------------- failed start-ups exit; one instance


async def heatbot_until_exit(*args: str, env: dict[str, str], cwd: Path, after_error: float = 5.0, timeout: float = 30) -> Run:
    """Run ``heatbot ARGS`` and require it to exit within ``after_error`` seconds of printing its
    error line: a process that reports a failure and stays alive is never restarted."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    err: list[bytes] = []
    try:
        while line := await asyncio.wait_for(proc.stderr.readline(), max(0.1, give_up - loop.time())):
            err.append(line)
            if line.startswith(b"heatbot: "):
                give_up = min(give_up, loop.time() + after_error)
        out = await asyncio.wait_for(proc.stdout.read(), max(0.1, give_up - loop.time()))
        await asyncio.wait_for(proc.wait(), max(0.1, give_up - loop.time()))
    except TimeoutError:
        proc.kill()
        await proc.wait()
        said = b"".join(err).decode(errors="replace")
        raise AssertionError(f"heatbot {' '.join(args)} was still running {after_error} s after its error "
                             f"(or {timeout} s in all); it said: {said!r}") from None
    return Run(proc.returncode, out.decode(), b"".join(err).decode())


@contextlib.contextmanager
def write_locked(path: Path, *, wal: bool):
    """Another program holds the database's write lock: in WAL mode readers may go on (the bot
    fails at its first write); without WAL nobody may even read it (opening fails)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE" if wal else "BEGIN EXCLUSIVE")
        if not wal:
            conn.execute("CREATE TABLE IF NOT EXISTS held (x)")
        yield
    finally:
        conn.close()


async def make_migrated(path: Path) -> None:
    from storage.db import open_database

    db = await open_database(path)
    await db.close()


@contextlib.contextmanager
def read_only(path: Path):
    """The database file cannot be written, even by root (an immutable file); skipped where
    that cannot be arranged."""
    immutable = False
    if os.geteuid() == 0:
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    else:
        path.chmod(0o444)
    try:
        try:
            with open(path, "r+b"):
                pytest.skip("cannot make a file read-only here (root without chattr)")
        except OSError:
            pass
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o600)


async def test_a_locked_database_stops_heatbot_run_with_one_line_and_the_process_exits(tmp_path, workdir, emulator: Emulator):
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    db = Path(env["HEATBOT_DB"])
    await make_migrated(db)
    with write_locked(db, wal=True):          # start-up fails writing the organisation file
        run = await heatbot_until_exit("run", env=env, cwd=workdir)
    run.assert_one_clear_line("HEATBOT_DB", "locked")


async def test_a_database_locked_against_reading_stops_run_and_status_with_one_line_each(tmp_path, workdir, emulator: Emulator):
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    db = Path(env["HEATBOT_DB"])
    sqlite3.connect(db).close()
    db.chmod(0o600)
    with write_locked(db, wal=False):         # opening the database fails
        run = await heatbot_until_exit("run", env=env, cwd=workdir)
        status = await heatbot_until_exit("status", env=env, cwd=workdir)
    run.assert_one_clear_line("HEATBOT_DB", "locked")
    status.assert_one_clear_line(str(db), "locked")


async def test_a_read_only_database_stops_run_and_status_with_one_line_each(tmp_path, workdir, emulator: Emulator):
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    db = Path(env["HEATBOT_DB"])
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x)")     # a rollback-journal file: opening it must switch it to WAL
    conn.close()
    db.chmod(0o600)
    with read_only(db):
        run = await heatbot_until_exit("run", env=env, cwd=workdir)
        status = await heatbot_until_exit("status", env=env, cwd=workdir)
    run.assert_one_clear_line("HEATBOT_DB", "readonly")
    status.assert_one_clear_line(str(db), "readonly")


async def test_heatbot_status_on_an_empty_file_says_it_is_not_a_heatbot_database_yet(tmp_path, workdir):
    db = tmp_path / "empty.db"
    db.touch(mode=0o600)
    run = await heatbot("status", "--db", str(db), env=child_env(), cwd=workdir)
    line = run.assert_one_clear_line(str(db), "heatbot run")
    assert "no such table" not in line


async def test_heatbot_status_json_answers_in_json_even_without_a_database(tmp_path, workdir):
    empty = tmp_path / "empty.db"
    empty.touch(mode=0o600)
    for db in (tmp_path / "nowhere.db", empty):
        run = await heatbot("status", "--json", "--db", str(db), env=child_env(), cwd=workdir)
        assert run.code == 2 and "Traceback" not in run.err
        assert str(db) in json.loads(run.out)["error"]


async def _serving(tg: EmulatorClient, name: str) -> None:
    resident = await tg.user(name, language_code="zh")
    await resident.send("/start")
    assert "📝 我要报修" in (await resident.next_message(timeout=20)).button_texts()


async def test_a_second_heatbot_run_on_the_same_database_exits_with_one_line_and_the_first_keeps_serving(
        tmp_path, workdir, emulator: Emulator, tg: EmulatorClient):
    env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    first = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, cwd=workdir,
                                                 stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await _serving(tg, "张一")
        second = await heatbot_until_exit("run", env=env, cwd=workdir)
        second.assert_one_clear_line("another heatbot instance", env["HEATBOT_DB"], str(first.pid))
        await _serving(tg, "张二")                       # the first one was not disturbed
        assert len(await tg.calls("getMe")) == 1          # the second never reached Telegram
        first.kill()                                      # a crash leaves no stale lock behind
        await first.wait()
        first = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, cwd=workdir,
                                                     stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await _serving(tg, "张三")
    finally:
        if first.returncode is None:
            first.kill()
        await first.wait()


async def test_a_second_poller_with_the_same_token_gives_way_with_one_line_and_the_first_keeps_serving(
        tmp_path, workdir, emulator: Emulator, tg: EmulatorClient):
    # Two hosts, two databases, one token: Telegram ends the older long poll with 409 Conflict,
    # and each retry ends the other's. The newcomer gives way; the bot that was there first stays.
    first_env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_DB=str(tmp_path / "a.db"))
    second_env = bot_env(tmp_path, TELEGRAM_API_BASE_URL=emulator.api_base_url, HEATBOT_DB=str(tmp_path / "b.db"))
    first = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=first_env, cwd=workdir,
                                                 stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await _serving(tg, "张一")
        second = await heatbot_until_exit("run", env=second_env, cwd=workdir)
        assert second.code == 3                            # not restarted by systemd (RestartPreventExitStatus=3)
        [line] = [line for line in second.err_lines if line.startswith("heatbot: stopped")]
        assert "409 Conflict" in line and "WEBHOOK_URL" in line
        assert "Traceback" not in second.err
        second.assert_no_token()
        await _serving(tg, "张二")                         # the first one serves on, every update
        assert first.returncode is None
    finally:
        if first.returncode is None:
            first.kill()
        await first.wait()
