"""Configuration (issue 2): every missing or malformed setting stops start-up with one line
naming it; the ``.env`` file is read as a shell would; the token never shows in a repr."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import TELEGRAM_API, ConfigError, SendSettings, load_config, load_tool_settings, read_env_file

ROOT = Path(__file__).resolve().parent.parent
ORG_FILE = ROOT / "org.example.toml"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.partition(":")[2]


def base_env(**overrides: str) -> dict[str, str]:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "HEATBOT_ORG": str(ORG_FILE)}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_a_minimal_environment_gives_the_documented_defaults():
    config = load_config(env=base_env(), env_file=None)
    assert config.token == TOKEN
    assert config.api_base_url == TELEGRAM_API
    assert config.file_base_url == "https://api.telegram.org/file/bot"
    assert config.webhook_url is None and config.webhook_port == 8443 and config.webhook_listen == "127.0.0.1"
    assert config.lang == "zh" and config.tz.key == "Asia/Shanghai" and config.log_level == "WARNING"
    assert config.db_path == Path("heatbot.db") and config.policy_path is None


@pytest.mark.parametrize(
    ("api", "file_url"),
    [
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
        ("https://tg.example.com/proxy/bot", "https://tg.example.com/proxy/file/bot"),
    ],
    ids=["local-server", "trailing-slash", "behind-a-path-prefix"],
)
def test_the_file_url_follows_the_api_base_url(api: str, file_url: str):
    config = load_config(env=base_env(TELEGRAM_API_BASE_URL=api), env_file=None)
    assert config.api_base_url == api.rstrip("/")
    assert config.file_base_url == file_url


def test_an_explicit_file_url_wins_over_the_derived_one():
    config = load_config(
        env=base_env(TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot", TELEGRAM_FILE_BASE_URL="http://files.local/file/bot"),
        env_file=None,
    )
    assert config.file_base_url == "http://files.local/file/bot"


def test_webhook_settings_are_read_when_webhook_url_is_set():
    config = load_config(
        env=base_env(WEBHOOK_URL="https://heatbot.example.com", WEBHOOK_PORT="8443", WEBHOOK_LISTEN="0.0.0.0",
                     WEBHOOK_SECRET="s3cret_-X"),
        env_file=None,
    )
    assert (config.webhook_url, config.webhook_port, config.webhook_listen, config.webhook_secret) == (
        "https://heatbot.example.com", 8443, "0.0.0.0", "s3cret_-X")


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"TELEGRAM_BOT_TOKEN": None}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "   "}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "123456:short"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "127.0.0.1:8081/bot"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_API_BASE_URL": "ftp://127.0.0.1/bot"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/api"}, "TELEGRAM_API_BASE_URL"),
        ({"TELEGRAM_FILE_BASE_URL": "files.local/file/bot"}, "TELEGRAM_FILE_BASE_URL"),
        ({"WEBHOOK_URL": "heatbot.example.com"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://"}, "WEBHOOK_URL"),
        ({"WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "0"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "-1"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": "has space"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "密钥"}, "WEBHOOK_SECRET"),
        ({"HEATBOT_LANG": "fr"}, "HEATBOT_LANG"),
        ({"HEATBOT_LANG": "zh-CN"}, "HEATBOT_LANG"),
        ({"HEATBOT_TZ": "Mars/Olympus_Mons"}, "HEATBOT_TZ"),
        ({"HEATBOT_TZ": "../../etc/passwd"}, "HEATBOT_TZ"),
        ({"HEATBOT_TZ": "+08:00"}, "HEATBOT_TZ"),
        ({"HEATBOT_ORG": "/nonexistent/org.toml"}, "HEATBOT_ORG"),
        ({"HEATBOT_ORG": str(ROOT)}, "HEATBOT_ORG"),
        ({"HEATBOT_POLICY": "/nonexistent/policy.toml"}, "HEATBOT_POLICY"),
        ({"HEATBOT_DB": str(ROOT)}, "HEATBOT_DB"),
        ({"HEATBOT_DB": "postgresql+asyncpg://heat:secret@db.example:5432/heatbot"}, "HEATBOT_DB"),
        ({"HEATBOT_DB": "postgresql://heat:secret@db.example:5432/heatbot?sslmode"}, "HEATBOT_DB"),
        ({"HEATBOT_DB": "mysql://heat@db.example/heatbot"}, "HEATBOT_DB"),
        ({"HEATBOT_DB": "sqlite://heatbot.db"}, "HEATBOT_DB"),
        ({"HEATBOT_LOG_LEVEL": "LOUD"}, "HEATBOT_LOG_LEVEL"),
        ({"HEATBOT_LOG_FORMAT": "xml"}, "HEATBOT_LOG_FORMAT"),
    ],
    ids=[
        "token-missing", "token-blank", "token-no-colon", "token-secret-too-short", "token-id-not-digits",
        "api-no-scheme", "api-not-http", "api-not-ending-in-bot", "api-wrong-path",
        "file-url-no-scheme",
        "webhook-url-no-scheme", "webhook-url-no-host",
        "webhook-port-word", "webhook-port-zero", "webhook-port-too-big", "webhook-port-negative",
        "webhook-secret-space", "webhook-secret-too-long", "webhook-secret-not-ascii",
        "lang-unknown", "lang-region",
        "tz-unknown", "tz-path", "tz-offset",
        "org-missing-file", "org-is-a-directory",
        "policy-missing-file",
        "db-is-a-directory", "db-postgresql-driver-url", "db-postgresql-unreadable-url", "db-unknown-scheme", "db-sqlite-url-two-slashes",
        "log-level-unknown", "log-format-unknown",
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(overrides: dict, setting: str):
    with pytest.raises(ConfigError) as caught:
        load_config(env=base_env(**overrides), env_file=None)
    message = str(caught.value)
    assert setting in message
    assert "\n" not in message and message.strip() == message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("heatbot.db", "heatbot.db"),
        ("sqlite:///var/heatbot.db", "var/heatbot.db"),
        ("sqlite:////srv/heatbot/heatbot.db", "/srv/heatbot/heatbot.db"),
        ("SQLITE:///heatbot.db", "heatbot.db"),
    ],
    ids=["plain-path", "sqlite-url-relative", "sqlite-url-absolute", "sqlite-url-any-case"],
)
def test_heatbot_db_takes_a_path_or_a_sqlite_url(value: str, path: str):
    assert load_config(env=base_env(HEATBOT_DB=value), env_file=None).db_path == Path(path)


def test_a_postgresql_url_is_kept_as_a_url_and_its_password_never_shown(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = "postgresql://heat:hunter2pass@db:5432/heatbot"
    config = load_config(env=base_env(HEATBOT_DB=url), env_file=None)
    assert config.db_path == url
    assert config.db_label == "postgresql://heat@db:5432/heatbot"
    assert "hunter2pass" not in repr(config)
    assert list(tmp_path.iterdir()) == []       # no folder named "postgresql:"


def test_the_token_never_appears_in_the_config_repr_or_str():
    config = load_config(env=base_env(WEBHOOK_SECRET="hook_secret_value"), env_file=None)
    for text in (repr(config), str(config), f"{config}", f"{config!r}"):
        assert SECRET not in text and TOKEN not in text
        assert "hook_secret_value" not in text


def test_lang_and_log_level_forgive_case():
    config = load_config(env=base_env(HEATBOT_LANG="EN", HEATBOT_LOG_LEVEL="debug"), env_file=None)
    assert (config.lang, config.log_level) == ("en", "DEBUG")


# ---------------------------------------------------------------- the .env file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("KEY=plain", "plain"),
        ("KEY = spaced ", "spaced"),
        ('KEY="double quoted"', "double quoted"),
        ("KEY='single quoted'", "single quoted"),
        ('KEY="has # inside"', "has # inside"),
        ("KEY=value # trailing comment", "value"),
        ('KEY="quoted" # trailing comment', "quoted"),
        ("KEY=a#b", "a#b"),
        ("export KEY=exported", "exported"),
        ("KEY=", ""),
        ("KEY=a=b=c", "a=b=c"),
    ],
    ids=["plain", "spaces", "double-quotes", "single-quotes", "hash-in-quotes", "trailing-comment",
         "quoted-trailing-comment", "hash-without-space", "export", "empty", "equals-in-value"],
)
def test_the_env_file_reads_a_value_as_a_shell_would(tmp_path: Path, line: str, value: str):
    assert read_env_file(write(tmp_path, f"# a comment\n\n{line}\n")) == {"KEY": value}


@pytest.mark.parametrize(
    "line",
    ["just some words", "=no key", "BAD KEY=x", 'KEY="unterminated', 'KEY="a" b'],
    ids=["no-equals", "no-key", "space-in-key", "unterminated-quote", "text-after-quote"],
)
def test_a_malformed_env_file_line_is_named_by_its_number_without_echoing_it(tmp_path: Path, line: str):
    path = write(tmp_path, f"# comment\nTELEGRAM_BOT_TOKEN={TOKEN}\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, env_file=path)
    message = str(caught.value)
    assert "line 3" in message and str(path) in message and "\n" not in message
    assert SECRET not in message


def test_settings_come_from_the_env_file_when_the_environment_lacks_them(tmp_path: Path):
    path = write(tmp_path, f"export TELEGRAM_BOT_TOKEN='{TOKEN}'\nHEATBOT_ORG=\"{ORG_FILE}\"\nHEATBOT_LANG=en  # English desk\n")
    config = load_config(env={}, env_file=path)
    assert config.token == TOKEN and config.org_path == ORG_FILE and config.lang == "en"


def test_the_environment_overrides_the_env_file(tmp_path: Path):
    path = write(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nHEATBOT_ORG={ORG_FILE}\nHEATBOT_LANG=en\nHEATBOT_TZ=UTC\n")
    config = load_config(env={"HEATBOT_LANG": "zh", "HEATBOT_TZ": ""}, env_file=path)
    assert config.lang == "zh"
    # An empty variable (a compose placeholder) does not hide the file's value.
    assert config.tz.key == "UTC"


def test_a_missing_env_file_is_not_an_error(tmp_path: Path):
    config = load_config(env=base_env(), env_file=tmp_path / "absent.env")
    assert config.token == TOKEN


def test_a_bad_value_in_the_env_file_is_named_like_one_from_the_environment(tmp_path: Path):
    path = write(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nHEATBOT_ORG={ORG_FILE}\nWEBHOOK_PORT=eighty\n")
    with pytest.raises(ConfigError, match="WEBHOOK_PORT"):
        load_config(env={}, env_file=path)


# ---------------------------------------------------------------- the sender's settings


def test_the_senders_budgets_default_to_telegrams_published_limits():
    send = load_config(env=base_env(), env_file=None).send
    assert send == SendSettings()
    assert (send.private_per_s, send.group_per_min, send.global_per_s) == (1.0, 20.0, 30.0)
    assert (send.in_flight, send.new_in_flight, send.pace_private_always) == (8, 8, False)


def test_the_senders_settings_are_read_with_the_others():
    send = load_config(env=base_env(
        HEATBOT_SEND_PRIVATE_PER_S="0.5", HEATBOT_SEND_GROUP_PER_MIN="15", HEATBOT_SEND_GLOBAL_PER_S="25",
        HEATBOT_SEND_MARGIN="0", HEATBOT_SEND_PRIVATE_PACING="Always", HEATBOT_SEND_IN_FLIGHT="4",
        HEATBOT_SEND_NEW_IN_FLIGHT="2"), env_file=None).send
    assert send == SendSettings(private_per_s=0.5, group_per_min=15, global_per_s=25, margin=0,
                                pace_private_always=True, in_flight=4, new_in_flight=2)


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"HEATBOT_SEND_IN_FLIGHT": "lots"}, "HEATBOT_SEND_IN_FLIGHT"),
        ({"HEATBOT_SEND_IN_FLIGHT": "0"}, "HEATBOT_SEND_IN_FLIGHT"),
        ({"HEATBOT_SEND_IN_FLIGHT": "2.5"}, "HEATBOT_SEND_IN_FLIGHT"),
        ({"HEATBOT_SEND_NEW_IN_FLIGHT": "-1"}, "HEATBOT_SEND_NEW_IN_FLIGHT"),
        ({"HEATBOT_SEND_NEW_IN_FLIGHT": "9"}, "HEATBOT_SEND_NEW_IN_FLIGHT"),
        ({"HEATBOT_SEND_PRIVATE_PER_S": "0"}, "HEATBOT_SEND_PRIVATE_PER_S"),
        ({"HEATBOT_SEND_GROUP_PER_MIN": "twenty"}, "HEATBOT_SEND_GROUP_PER_MIN"),
        ({"HEATBOT_SEND_GLOBAL_PER_S": "inf"}, "HEATBOT_SEND_GLOBAL_PER_S"),
        ({"HEATBOT_SEND_GLOBAL_PER_S": "nan"}, "HEATBOT_SEND_GLOBAL_PER_S"),
        ({"HEATBOT_SEND_MARGIN": "-0.1"}, "HEATBOT_SEND_MARGIN"),
        ({"HEATBOT_SEND_MARGIN": "3"}, "HEATBOT_SEND_MARGIN"),
        ({"HEATBOT_SEND_PRIVATE_PACING": "sometimes"}, "HEATBOT_SEND_PRIVATE_PACING"),
    ],
    ids=["in-flight-word", "in-flight-zero", "in-flight-fraction", "new-in-flight-negative",
         "new-in-flight-over-in-flight", "private-zero", "group-word", "global-infinite", "global-nan",
         "margin-negative", "margin-percent", "pacing-unknown"],
)
def test_a_bad_sender_setting_stops_start_up_with_one_line_naming_it(overrides: dict, setting: str):
    with pytest.raises(ConfigError) as caught:
        load_config(env=base_env(**overrides), env_file=None)
    message = str(caught.value)
    assert setting in message and "\n" not in message


# ---------------------------------------------------------------- the tools' settings


def test_the_tools_default_to_the_bots_language_and_time_zone():
    settings = load_tool_settings(env={}, env_file=None)
    assert settings.lang == load_config(env=base_env(), env_file=None).lang == "zh"
    assert settings.tz.key == "Asia/Shanghai" and settings.policy_path is None


def test_the_tools_read_the_env_file_as_the_bot_does_without_needing_a_token(tmp_path: Path):
    path = write(tmp_path, "HEATBOT_LANG=en\nHEATBOT_TZ=UTC\n")
    settings = load_tool_settings(env={}, env_file=path)
    assert (settings.lang, settings.tz.key) == ("en", "UTC")


def test_a_bad_language_stops_the_tools_with_one_line_naming_it():
    with pytest.raises(ConfigError, match="HEATBOT_LANG"):
        load_tool_settings(env={"HEATBOT_LANG": "fr"}, env_file=None)
