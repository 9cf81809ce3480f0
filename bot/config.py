"""Configuration from environment variables and an optional ``.env`` file.

A missing or malformed setting raises :class:`ConfigError` with one line naming it; the CLI
prints that line and exits, so an operator never sees a traceback for a typo.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Config", "ConfigError", "load_config", "read_env_file", "TELEGRAM_API"]

TELEGRAM_API = "https://api.telegram.org/bot"
LANGUAGES = ("zh", "en")
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$|^\d+:TEST-[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """One line that names the setting at fault."""


@dataclass(frozen=True)
class Config:
    token: str
    api_base_url: str
    file_base_url: str
    webhook_url: str | None
    webhook_listen: str
    webhook_port: int
    webhook_secret: str | None
    db_path: Path
    org_path: Path
    policy_path: Path | None
    lang: str
    tz: ZoneInfo
    log_level: str

    def __repr__(self) -> str:  # never let the token reach a log through repr()
        return f"Config(api_base_url={self.api_base_url!r}, db_path={str(self.db_path)!r}, webhook={bool(self.webhook_url)})"


_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL_RE = re.compile(r"^https?://[^/\s]+\S*$")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as a shell would read them for a deployment's secrets: ``#`` comment
    lines and `` # trailing`` comments, an optional ``export``, single or double quotes.

    A line that is not ``KEY=VALUE`` raises :class:`ConfigError` naming the file and line (never
    echoing the line: it may hold the token).
    """
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the settings file ({type(e).__name__})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export"):].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.match(key):
            raise ConfigError(f"{path}: line {number} is not KEY=VALUE")
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            rest = value[end + 1:].strip() if end > 0 else ""
            if end < 0 or (rest and not rest.startswith("#")):
                raise ConfigError(f"{path}: line {number} ({key}) has an unterminated or misplaced quote")
            value = value[1:end]
        else:
            # An unquoted value ends where a `` #`` comment starts, as in a shell.
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key] = value
    return values


def _file_url_for(api_base_url: str) -> str:
    # Telegram serves files at /file/bot<token>/<path> beside /bot<token>/<method>, and so does
    # any Bot API server (the local one, our emulator): the file URL follows the API URL.
    base = api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot"


def load_config(env: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Config:
    """Settings from ``env`` (default: the process environment) over those in ``env_file``.

    An empty environment variable does not hide the file's value (compose files and CI often
    export empty placeholders). Raises :class:`ConfigError`, one line naming the setting.
    """
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))
    merged.update({k: v for k, v in (os.environ if env is None else env).items() if v.strip()})

    def get(name: str, default: str | None = None) -> str | None:
        value = merged.get(name, "").strip()
        return value if value else default

    token = get("TELEGRAM_BOT_TOKEN")
    if token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather and put it in .env)")
    if not _TOKEN_RE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN is malformed (expected <digits>:<secret> as BotFather gives it)")

    api = get("TELEGRAM_API_BASE_URL", TELEGRAM_API) or TELEGRAM_API
    if not _URL_RE.match(api):
        raise ConfigError("TELEGRAM_API_BASE_URL is not an http(s) URL (e.g. http://127.0.0.1:8081/bot)")
    api = api.rstrip("/")
    if not api.endswith("/bot"):
        # python-telegram-bot appends the token straight after it: <base><token>/<method>.
        raise ConfigError("TELEGRAM_API_BASE_URL must end with /bot (e.g. http://127.0.0.1:8081/bot)")
    file_url = get("TELEGRAM_FILE_BASE_URL") or _file_url_for(api)
    if not _URL_RE.match(file_url):
        raise ConfigError("TELEGRAM_FILE_BASE_URL is not an http(s) URL (e.g. http://127.0.0.1:8081/file/bot)")

    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None and not _URL_RE.match(webhook_url):
        raise ConfigError("WEBHOOK_URL is not an http(s) URL (e.g. https://heatbot.example.com)")
    port_text = get("WEBHOOK_PORT", "8443") or "8443"
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise ConfigError(f"WEBHOOK_PORT must be a port number (1-65535), not {port_text!r}")
    secret = get("WEBHOOK_SECRET")
    if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 characters)")

    lang = (get("HEATBOT_LANG", "zh") or "zh").lower()
    if lang not in LANGUAGES:
        raise ConfigError(f"HEATBOT_LANG must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    tz_name = get("HEATBOT_TZ", "Asia/Shanghai") or "Asia/Shanghai"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"HEATBOT_TZ is not a known time zone: {tz_name!r}") from None

    org = Path(get("HEATBOT_ORG", "org.example.toml") or "org.example.toml")
    if not org.is_file():
        raise ConfigError(f"HEATBOT_ORG file not found: {org}")
    policy = get("HEATBOT_POLICY")
    if policy is not None and not Path(policy).is_file():
        raise ConfigError(f"HEATBOT_POLICY file not found: {policy}")
    db_path = Path(get("HEATBOT_DB", "heatbot.db") or "heatbot.db")
    if db_path.is_dir():
        raise ConfigError(f"HEATBOT_DB is a directory, not a database file: {db_path}")
    level = (get("HEATBOT_LOG_LEVEL", "WARNING") or "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"HEATBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")

    return Config(
        token=token,
        api_base_url=api,
        file_base_url=file_url.rstrip("/"),
        webhook_url=webhook_url,
        webhook_listen=get("WEBHOOK_LISTEN", "127.0.0.1") or "127.0.0.1",
        webhook_port=int(port_text),
        webhook_secret=secret,
        db_path=db_path,
        org_path=org,
        policy_path=Path(policy) if policy else None,
        lang=lang,
        tz=tz,
        log_level=level,
    )
