"""The deployment kit in deploy/: each file says what the README says it does (no Docker daemon
or systemd needed to check it)."""
from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str            # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_the_systemd_unit_runs_the_installed_heatbot_as_its_own_user():
    service = unit("heatbot.service")["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/bin/heatbot") and command[1:] == ["run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["heatbot"] == "bot.cli:main"           # the name ExecStart calls exists
    assert service["User"] == "heatbot" and service["Restart"] == "on-failure"
    assert service["Environment"].startswith("HEATBOT_DB=/var/lib/heatbot/")
    assert service["StateDirectory"] == "heatbot" and service["UMask"] == "0077"
    assert unit("heatbot.service")["Install"]["WantedBy"] == "multi-user.target"


def test_the_backup_timer_runs_heatbot_backup_into_a_new_file_each_night():
    service = unit("heatbot-backup.service")["Service"]
    assert service["Type"] == "oneshot" and service["User"] == "heatbot"
    assert re.search(r"/bin/heatbot backup --out /var/lib/heatbot/backups/heatbot-\$\(date \+%%Y%%m%%d-%%H%%M\)\.db",
                     service["ExecStart"])
    timer = unit("heatbot-backup.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_image_is_slim_runs_as_a_non_root_user_and_checks_health():
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [arg for op, arg in steps if op == "CMD"][-1] == '["heatbot", "run"]'
    [health] = [arg for op, arg in steps if op == "HEALTHCHECK"]
    assert "/healthz" in health
    for op, arg in steps:                                  # everything copied exists in the repository
        if op == "COPY":
            *sources, _target = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_compose_file_puts_a_tls_proxy_in_front_of_the_webhook_and_keeps_metrics_inside():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot, proxy = compose["services"]["heatbot"], compose["services"]["proxy"]
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile" and (DEPLOY / bot["env_file"]).with_suffix(".env.example").exists()
    port = bot["environment"]["WEBHOOK_PORT"]
    assert "ports" not in bot and port in bot["expose"]     # only the proxy faces the network
    assert bot["environment"]["WEBHOOK_URL"].startswith("https://")
    assert any(v.endswith(":/var/lib/heatbot") for v in bot["volumes"])
    assert "443:443" in proxy["ports"]
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert f"reverse_proxy heatbot:{port}" in caddy
    assert re.search(r"@internal path /metrics\s+respond @internal 404", caddy)


def test_the_example_environment_file_names_only_settings_the_bot_reads():
    from bot.config import read_env_file

    settings = read_env_file(DEPLOY / "heatbot.env.example")
    config_source = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    for key in settings:
        assert f'"{key}"' in config_source, key
