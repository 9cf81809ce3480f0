"""The deployment kit in deploy/: each file says what the README says it does (no Docker daemon
or systemd needed to check it)."""
from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
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


def test_the_nightly_dump_unit_runs_pg_dump_in_the_postgres_container_into_a_new_file():
    service = unit("heatbot-pgdump.service")["Service"]
    assert service["Type"] == "oneshot" and service["UMask"] == "0077"
    assert "docker compose -f /opt/heatbot/deploy/compose.yaml exec -T postgres pg_dump -U heatbot -Fc heatbot" \
        in service["ExecStart"]
    assert "/var/backups/heatbot/heatbot-$(date +%%Y%%m%%d-%%H%%M).dump" in service["ExecStart"]
    timer = unit("heatbot-pgdump.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


# Docker stands in for the machine the unit runs on (no daemon in the tests): `docker compose -f
# FILE exec -T postgres pg_dump ...` runs the real pg_dump here against the test's database.
_DOCKER = """#!/bin/sh
[ "$1 $2 $4 $5 $6 $7" = "compose -f exec -T postgres pg_dump" ] || { echo "unexpected: $*" >&2; exit 64; }
if [ -n "${FAIL_AFTER_SOME:-}" ]; then printf 'PGDMP half'; exit 1; fi
exec pg_dump -Fc "$DUMPED_DATABASE"
"""


def run_dump_unit(tmp_path: Path, **env: str) -> Path:
    """Runs heatbot-pgdump.service's ExecStart as systemd would (``%%`` is ``%``, its UMask set),
    its folder moved under ``tmp_path``; gives the folder."""
    backups, bin_dir = tmp_path / "backups", tmp_path / "bin"
    backups.mkdir(parents=True)
    bin_dir.mkdir(parents=True)
    (bin_dir / "docker").write_text(_DOCKER, encoding="utf-8")
    (bin_dir / "docker").chmod(0o755)
    service = unit("heatbot-pgdump.service")["Service"]
    command = shlex.split(service["ExecStart"].replace("%%", "%"))
    command = [part.replace("/var/backups/heatbot", str(backups)) for part in command]
    umask = int(service["UMask"], 8)
    subprocess.run(command, env={"PATH": f"{bin_dir}:{os.environ['PATH']}", **env}, timeout=60,
                   preexec_fn=lambda: os.umask(umask))     # as systemd sets it
    return backups


def table_counts(url: str) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0] for t in tables}


def test_the_nightly_dump_restores_with_the_readmes_pg_restore_and_a_failed_one_leaves_no_file(tmp_path, pg_database, pg_url):
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:          # something to carry over
        conn.execute("INSERT INTO org_settings(key, value) VALUES ('dump-test', 'kept')")
    [dump] = run_dump_unit(tmp_path / "good", DUMPED_DATABASE=pg_database).iterdir()
    assert re.fullmatch(r"heatbot-\d{8}-\d{4}\.dump", dump.name) and dump.stat().st_mode & 0o077 == 0
    # README, "Backups and upgrades": pg_restore --clean --if-exists --single-transaction, from stdin.
    with dump.open("rb") as stdin:
        subprocess.run(["pg_restore", "-d", pg_url, "--clean", "--if-exists", "--single-transaction"],
                       stdin=stdin, check=True, timeout=60)
    assert table_counts(pg_url) == table_counts(pg_database)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT value FROM org_settings WHERE key = 'dump-test'").fetchone() == ("kept",)

    assert list(run_dump_unit(tmp_path / "bad", DUMPED_DATABASE=pg_database, FAIL_AFTER_SOME="1").iterdir()) == []


def test_the_image_is_slim_runs_as_a_non_root_user_and_checks_health():
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert [arg for op, arg in steps if op == "CMD"][-1] == '["heatbot", "run"]'
    # The entrypoint (deploy/entrypoint.sh) runs CMD with PGPASSWORD from a compose secret.
    assert [arg for op, arg in steps if op == "ENTRYPOINT"][-1] == '["heatbot-entrypoint"]'
    assert ("COPY", "--chmod=0755 deploy/entrypoint.sh /usr/local/bin/heatbot-entrypoint") in steps
    [health] = [arg for op, arg in steps if op == "HEALTHCHECK"]
    assert "/healthz" in health
    for op, arg in steps:                                  # everything copied exists in the repository
        if op == "COPY":
            *sources, _target = [word for word in arg.split() if not word.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), source


def compose(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))


def heatbots(services: dict) -> dict[str, dict]:
    """The services that run the bot: those built from deploy/Dockerfile."""
    return {name: s for name, s in services.items() if s.get("build", {}).get("dockerfile") == "deploy/Dockerfile"}


def caddy_site(name: str) -> tuple[list[str], list[str], str]:
    """The Caddyfile's public path patterns, the upstreams they are proxied to, and the whole text
    (heatbot's Caddyfiles have one site: one `@public path` matcher handed to one reverse_proxy,
    and a catch-all `handle` for the rest)."""
    lines = (DEPLOY / name).read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    [public] = re.findall(r"^\s*@public path (.+)$", text, re.M)
    [upstreams] = re.findall(r"^\s*reverse_proxy (.+?)(?: \{)?$", text, re.M)
    assert re.search(r"handle @public \{\s+reverse_proxy ", text)
    return public.split(), upstreams.split(), text


def reachable(patterns: list[str], path: str) -> bool:
    """Whether Caddy's path matcher with ``patterns`` matches ``path`` (exact, or a prefix before
    a trailing ``*``: the only forms these Caddyfiles use)."""
    assert all("*" not in p[:-1] for p in patterns)
    return any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in patterns)


def test_caddy_lets_the_internet_reach_the_webhook_the_board_and_the_api_and_nothing_else():
    from bot.app import Webhook
    from bot.web.open311 import PREFIX

    hook = "/" + Webhook(listen="", port=0, url="").path
    for name in ("Caddyfile", "Caddyfile.sqlite"):
        public, _upstreams, text = caddy_site(name)
        for path in (hook, "/board", "/board/", "/board/login", "/board/t/17/photo", "/board/static/board.js",
                     f"{PREFIX}/services.json", f"{PREFIX}/requests/4.json"):
            assert reachable(public, path), (name, path)
        for path in ("/metrics", "/metrics/", "/healthz", "/", "/telegramx", "/boardroom"):
            assert not reachable(public, path), (name, path)
        # Everything else gets Caddy's own 404: it never reaches the bot.
        assert re.search(r"handle \{\s+respond 404\s+\}", text), name


def test_the_postgresql_compose_file_runs_postgres_two_instances_and_caddy_in_front_of_both():
    import psycopg

    from bot.config import database_path

    services = compose("compose.yaml")["services"]
    volumes, secrets = compose("compose.yaml")["volumes"], compose("compose.yaml")["secrets"]
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    [data] = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert data.split(":")[0] in volumes                   # a named volume, not a folder in the container
    # The password is a compose secret read from a file: nowhere in the compose file itself.
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    secret = postgres["environment"]["POSTGRES_PASSWORD_FILE"].removeprefix("/run/secrets/")
    assert secret in postgres["secrets"] and set(secrets[secret]) == {"file"}

    bots = heatbots(services)
    assert len(bots) == 2
    for name, bot in bots.items():
        env = bot["environment"]
        url = database_path(env["HEATBOT_DB"])            # read as the bot reads it: a PostgreSQL URL
        assert isinstance(url, str)
        info = psycopg.conninfo.conninfo_to_dict(url)
        assert info["host"] == "postgres" and "password" not in info, name
        assert "PGPASSWORD" not in env and env["PGPASSWORD_FILE"] == f"/run/secrets/{secret}", name
        assert secret in bot["secrets"], name
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert env["WEBHOOK_URL"].startswith("https://") and env["HEATBOT_LOG_FORMAT"] == "json", name
        assert "ports" not in bot and env["WEBHOOK_PORT"] in bot["expose"], name   # only Caddy faces the network
        assert (DEPLOY / bot["env_file"]).with_suffix(".env.example").exists(), name
    assert len({yaml.safe_dump(bot, sort_keys=True) for bot in bots.values()}) == 1     # the same instance twice

    proxy = services["proxy"]
    assert "443:443" in proxy["ports"] and "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert set(proxy["depends_on"]) == set(bots)
    _public, upstreams, text = caddy_site("Caddyfile")
    assert sorted(upstreams) == sorted(f"{name}:{bot['environment']['WEBHOOK_PORT']}" for name, bot in bots.items())
    assert re.search(r"^\s*health_uri /healthz$", text, re.M)


def test_the_sqlite_compose_file_keeps_one_instance_on_its_file_behind_caddy():
    from bot.config import database_path

    services = compose("compose.sqlite.yaml")["services"]
    [(name, bot)] = heatbots(services).items()
    env = bot["environment"]
    assert isinstance(database_path(env["HEATBOT_DB"]), Path)
    assert any(v.endswith(":/var/lib/heatbot") for v in bot["volumes"])
    assert "ports" not in bot and env["WEBHOOK_PORT"] in bot["expose"]
    assert env["WEBHOOK_URL"].startswith("https://")
    proxy = services["proxy"]
    assert "443:443" in proxy["ports"] and "./Caddyfile.sqlite:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    _public, upstreams, _text = caddy_site("Caddyfile.sqlite")
    assert upstreams == [f"{name}:{env['WEBHOOK_PORT']}"]


def entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), *command], env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=10)


def test_the_image_entrypoint_hands_the_secret_file_to_libpq_as_pgpassword(tmp_path):
    secret = tmp_path / "postgres_password"
    secret.write_text("s3cret pass\n", encoding="utf-8")
    shown = entrypoint({"PGPASSWORD_FILE": str(secret)}, "sh", "-c", 'printf "%s|%s" "$PGPASSWORD" "${PGPASSWORD_FILE-unset}"')
    assert shown.returncode == 0 and shown.stdout == "s3cret pass|unset"
    untouched = entrypoint({"PGPASSWORD": "given"}, "sh", "-c", 'printf %s "$PGPASSWORD"')
    assert untouched.returncode == 0 and untouched.stdout == "given"


def test_the_image_entrypoint_refuses_a_missing_empty_or_doubled_password_with_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    secret = tmp_path / "secret"
    secret.write_text("s3cret", encoding="utf-8")
    for env in ({"PGPASSWORD_FILE": str(tmp_path / "missing")}, {"PGPASSWORD_FILE": str(empty)},
                {"PGPASSWORD_FILE": str(secret), "PGPASSWORD": "other"}):
        refused = entrypoint(env, "sh", "-c", "echo ran")
        assert refused.returncode == 2 and "ran" not in refused.stdout, env
        assert len(refused.stderr.splitlines()) == 1 and "s3cret" not in refused.stderr, env


def test_the_example_environment_file_names_only_settings_the_bot_reads():
    from bot.config import read_env_file

    settings = read_env_file(DEPLOY / "heatbot.env.example")
    config_source = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    for key in settings:
        assert f'"{key}"' in config_source, key
