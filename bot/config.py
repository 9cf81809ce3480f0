"""Configuration from environment variables and an optional ``.env`` file.

A missing or malformed setting raises :class:`ConfigError` with one line naming it; the CLI
prints that line and exits, so an operator never sees a traceback for a typo.
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.postgres import describe_url

__all__ = [
    "database_path",
    "Config", "ConfigError", "SendSettings", "ToolSettings", "load_config", "load_tool_settings", "read_env_file",
    "TELEGRAM_API", "LANGUAGES", "DEFAULT_LANG",
]

TELEGRAM_API = "https://api.telegram.org/bot"
# The languages the bot speaks (templates/<lang>/); the first is the company's default.
LANGUAGES = ("zh", "en")
DEFAULT_LANG = LANGUAGES[0]
DEFAULT_TZ = "Asia/Shanghai"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$|^\d+:TEST-[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """One line that names the setting at fault."""


@dataclass(frozen=True)
class SendSettings:
    """The outbox sender's budgets (Telegram's published flood limits, each window stretched by
    ``margin``) and how many sends may be on the wire at once; see bot/sender.py for why."""
    private_per_s: float = 1.0
    group_per_min: float = 20.0
    global_per_s: float = 30.0
    margin: float = 0.03
    pace_private_always: bool = False
    in_flight: int = 8
    # New messages sent and not yet recorded, across chats: each is one possible duplicate after
    # a crash, never two in one chat (a chat has one send in flight at a time). One per chat at
    # once is what lets a city's surge through (README, "Crash safety and the duplicates").
    new_in_flight: int = 8


@dataclass(frozen=True)
class Config:
    token: str
    api_base_url: str
    file_base_url: str
    webhook_url: str | None
    webhook_listen: str
    webhook_port: int
    webhook_secret: str | None
    db_path: Path | str         # a SQLite file, or a postgresql:// URL (which may hold a password)
    org_path: Path
    policy_path: Path | None
    lang: str
    tz: ZoneInfo
    log_level: str
    send: SendSettings = field(default_factory=SendSettings)
    # The bot's one web server (the Open311 API, /healthz; the Telegram webhook when
    # WEBHOOK_URL is set, on WEBHOOK_LISTEN:WEBHOOK_PORT). Off (0) unless load_config reads
    # HEATBOT_HTTP_PORT, so a Config built in code never takes a port by surprise.
    http_listen: str = "127.0.0.1"
    http_port: int = 0
    log_format: str = "text"        # or "json": one object per line, for log shippers
    # HEATBOT_ALLOW_EXAMPLE_ORG=1: `heatbot run` may serve org.example.toml (the demo's made-up
    # groups and staff); otherwise it refuses, so a deployment never goes live on it by mistake.
    allow_example_org: bool = False
    # HEATBOT_PUBLIC_URL: where people reach the web server (https behind a proxy). With it the
    # board's links use it and staff get the board as a Mini App on the bot's menu button.
    public_url: str | None = None

    @property
    def db_label(self) -> str:
        """The database for messages and logs: the file, or the URL without its password."""
        return describe_url(self.db_path) if isinstance(self.db_path, str) else str(self.db_path)

    def __repr__(self) -> str:  # never let the token or a database password reach a log through repr()
        return f"Config(api_base_url={self.api_base_url!r}, db_path={self.db_label!r}, webhook={bool(self.webhook_url)})"


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


_Getter = Callable[..., str | None]


def _settings(env: Mapping[str, str] | None, env_file: Path | None) -> _Getter:
    """A lookup over ``env`` (default: the process environment) laid over ``env_file``.

    An empty environment variable does not hide the file's value (compose files and CI often
    export empty placeholders)."""
    merged: dict[str, str] = {}
    if env_file is not None:
        merged.update(read_env_file(env_file))
    merged.update({k: v for k, v in (os.environ if env is None else env).items() if v.strip()})

    def get(name: str, default: str | None = None) -> str | None:
        value = merged.get(name, "").strip()
        return value if value else default

    return get


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def database_path(value: str) -> Path | str:
    """``HEATBOT_DB``: a SQLite file (a path, or ``sqlite:///relative`` / ``sqlite:////absolute``,
    SQLAlchemy's spelling), or PostgreSQL (``postgresql://user:password@host:port/name``, given
    back as it is). Any other URL stops start-up with one line rather than becoming a folder named
    after its scheme; the URL itself is not repeated, as it may carry a password."""
    scheme = _SCHEME_RE.match(value)
    if scheme and len(scheme.group(1)) > 1:     # "C:" is a Windows drive, not a scheme
        name = scheme.group(1).lower()
        if name == "sqlite":
            if not value.lower().startswith("sqlite:///") or len(value) == len("sqlite:///"):
                raise ConfigError("HEATBOT_DB: a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
            value = value[len("sqlite:///"):]
        elif name in ("postgresql", "postgres"):
            try:
                describe_url(value, strict=True)
            except ValueError:
                raise ConfigError("HEATBOT_DB: not a PostgreSQL URL psycopg can read; the form is "
                                  "postgresql://user:password@host:5432/heatbot") from None
            return value
        elif name.startswith("postgresql+"):
            raise ConfigError(f"HEATBOT_DB: {name}:// names a driver; heatbot brings its own (psycopg): "
                              f"write postgresql://user:password@host:5432/heatbot")
        else:
            raise ConfigError(f"HEATBOT_DB: unknown database URL scheme {name!r}; give a SQLite file path "
                              f"(e.g. heatbot.db or sqlite:////var/lib/heatbot/heatbot.db) or a postgresql:// URL")
    path = Path(value)
    if path.is_dir():
        raise ConfigError(f"HEATBOT_DB is a directory, not a database file: {path}")
    return path


def _lang(get: _Getter) -> str:
    lang = (get("HEATBOT_LANG", DEFAULT_LANG) or DEFAULT_LANG).lower()
    if lang not in LANGUAGES:
        raise ConfigError(f"HEATBOT_LANG must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return lang


def _tz(get: _Getter) -> ZoneInfo:
    tz_name = get("HEATBOT_TZ", DEFAULT_TZ) or DEFAULT_TZ
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"HEATBOT_TZ is not a known time zone: {tz_name!r}") from None


def _policy(get: _Getter) -> Path | None:
    policy = get("HEATBOT_POLICY")
    if policy is not None and not Path(policy).is_file():
        raise ConfigError(f"HEATBOT_POLICY file not found: {policy}")
    return Path(policy) if policy else None


def _number(get: _Getter, name: str, default: float, *, zero_ok: bool = False) -> float:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        kind = "a number of 0 or more" if zero_ok else "a positive number"
        raise ConfigError(f"{name} must be {kind}, not {raw!r}")
    return value


def _count(get: _Getter, name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of 1 or more, not {raw!r}")
    return int(raw)


def _send(get: _Getter) -> SendSettings:
    d = SendSettings()
    pacing = (get("HEATBOT_SEND_PRIVATE_PACING", "auto") or "auto").lower()
    if pacing not in ("auto", "always"):
        raise ConfigError(f"HEATBOT_SEND_PRIVATE_PACING must be auto or always, not {pacing!r}")
    margin = _number(get, "HEATBOT_SEND_MARGIN", d.margin, zero_ok=True)
    if margin >= 1:
        # A margin is a few per cent; 1 or more doubles every window, surely a typo for a percentage.
        raise ConfigError(f"HEATBOT_SEND_MARGIN is a fraction (0.03 = 3 %), not {margin!r}")
    in_flight = _count(get, "HEATBOT_SEND_IN_FLIGHT", d.in_flight)
    new_in_flight = _count(get, "HEATBOT_SEND_NEW_IN_FLIGHT", d.new_in_flight)
    if new_in_flight > in_flight:
        raise ConfigError(f"HEATBOT_SEND_NEW_IN_FLIGHT ({new_in_flight}) cannot exceed HEATBOT_SEND_IN_FLIGHT ({in_flight})")
    return SendSettings(
        private_per_s=_number(get, "HEATBOT_SEND_PRIVATE_PER_S", d.private_per_s),
        group_per_min=_number(get, "HEATBOT_SEND_GROUP_PER_MIN", d.group_per_min),
        global_per_s=_number(get, "HEATBOT_SEND_GLOBAL_PER_S", d.global_per_s),
        margin=margin,
        pace_private_always=pacing == "always",
        in_flight=in_flight,
        new_in_flight=new_in_flight,
    )


@dataclass(frozen=True)
class ToolSettings:
    """What the checking tools (``heatbot rules``) share with the bot, read the same way, so a
    tool's answer matches what the running bot would do."""
    lang: str
    tz: ZoneInfo
    policy_path: Path | None


def load_tool_settings(env: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> ToolSettings:
    """``HEATBOT_LANG``, ``HEATBOT_TZ`` and ``HEATBOT_POLICY`` as :func:`load_config` reads them,
    without requiring the token. Raises :class:`ConfigError`, one line naming the setting."""
    get = _settings(env, env_file)
    return ToolSettings(lang=_lang(get), tz=_tz(get), policy_path=_policy(get))


def load_config(env: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Config:
    """Settings from ``env`` (default: the process environment) over those in ``env_file``.

    Raises :class:`ConfigError`, one line naming the setting.
    """
    get = _settings(env, env_file)

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

    lang = _lang(get)
    tz = _tz(get)
    org = Path(get("HEATBOT_ORG", "org.example.toml") or "org.example.toml")
    if not org.is_file():
        raise ConfigError(f"HEATBOT_ORG file not found: {org}")
    policy = _policy(get)
    db_path = database_path(get("HEATBOT_DB", "heatbot.db") or "heatbot.db")
    level = (get("HEATBOT_LOG_LEVEL", "WARNING") or "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"HEATBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    log_format = (get("HEATBOT_LOG_FORMAT", "text") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"HEATBOT_LOG_FORMAT must be text or json, not {log_format!r}")
    send = _send(get)
    http_port_text = get("HEATBOT_HTTP_PORT", "8080") or "8080"
    if not (http_port_text.isascii() and http_port_text.isdigit()) or not 0 <= int(http_port_text) < 65536:
        raise ConfigError(f"HEATBOT_HTTP_PORT must be a port number (1-65535, or 0 for no web server), not {http_port_text!r}")
    http_listen = get("HEATBOT_HTTP_LISTEN", "127.0.0.1") or "127.0.0.1"
    if not re.match(r"^[0-9A-Za-z.:\-]{1,253}$", http_listen):
        raise ConfigError(f"HEATBOT_HTTP_LISTEN must be an address to listen on (e.g. 127.0.0.1 or 0.0.0.0), not {http_listen!r}")

    public_url = get("HEATBOT_PUBLIC_URL") or None
    if public_url is not None and not _URL_RE.match(public_url):
        raise ConfigError(f"HEATBOT_PUBLIC_URL must be an http(s) URL, not {public_url!r}")

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
        policy_path=policy,
        lang=lang,
        tz=tz,
        log_level=level,
        log_format=log_format,
        send=send,
        http_listen=http_listen,
        http_port=int(http_port_text),
        allow_example_org=(get("HEATBOT_ALLOW_EXAMPLE_ORG") or "").strip() == "1",
        public_url=public_url.rstrip("/") if public_url else None,
    )
