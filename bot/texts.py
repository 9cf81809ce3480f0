"""All user-facing text: Jinja2 macros in ``templates/<lang>/*.html`` and button labels in
``templates/<lang>/labels.toml``. HTML parse mode, autoescaped, so a resident's ``<b>`` or
``&`` arrives as text and never breaks a message.
"""
from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket

from bot.config import LANGUAGES as LANGS

__all__ = ["Texts", "TEMPLATES_DIR", "LANGS", "pick_language"]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def pick_language(chosen: str | None, telegram_code: str | None, default: str) -> str:
    """A choice made with /language wins; else the Telegram app's language; else the company's."""
    if chosen in LANGS:
        return chosen
    code = (telegram_code or "").lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return default


class _CompiledOnce(BytecodeCache):
    """Each template compiled once per process, whatever number of Texts it builds (every test
    builds an application); jinja2 checks the file's source against what it compiled."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledOnce()


class Texts:
    def __init__(self, tz: ZoneInfo, directory: Path = TEMPLATES_DIR) -> None:
        self.tz = tz
        self._directory = directory
        self._env = Environment(
            loader=FileSystemLoader(directory),
            bytecode_cache=_COMPILED,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["when"] = self._when
        self._env.filters["when_en"] = self._when_en
        self._modules: dict[tuple[str, str], Any] = {}
        self._labels = {lang: tomllib.loads((directory / lang / "labels.toml").read_text(encoding="utf-8")) for lang in LANGS}

    # One date format for every message and page: local time, month and day; the year only
    # where a page may outlive the season (the printed notices).
    def _when(self, value: datetime | None, year: bool = False) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        return f"{f'{local.year}年' if year else ''}{local.month}月{local.day}日 {local:%H:%M}"

    def _when_en(self, value: datetime | None, year: bool = False) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        return f"{local.day} {_MONTHS_EN[local.month - 1]}{f' {local.year},' if year else ''} {local:%H:%M}"

    def warm(self) -> None:
        """Compile every template now (start-up), not while the first residents wait for an
        answer: a few hundred milliseconds otherwise spent inside the first updates."""
        for lang in LANGS:
            for path in sorted((self._directory / lang).glob("*.html")):
                self._env.get_template(f"{lang}/{path.name}")

    def render(self, lang: str, name: str, /, **ctx: Any) -> str:
        """``name`` is ``file.macro``, e.g. ``resident.greeting``."""
        file, _, macro = name.partition(".")
        key = (lang, file)
        module = self._modules.get(key)
        if module is None:
            module = self._env.get_template(f"{lang}/{file}.html").make_module()
            self._modules[key] = module
        text = str(getattr(module, macro)(**ctx))
        # Macros are indented for reading; lines are trimmed and blank runs folded.
        lines = [line.strip() for line in text.strip().splitlines()]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip()

    def page(self, lang: str, name: str, /, **ctx: Any) -> str:
        """A whole document, e.g. the printable notice ``outage_print``, as written."""
        return self._env.get_template(f"{lang}/{name}.html").render(**ctx)

    def label(self, lang: str, key: str, /, **params: Any) -> str:
        text = self._labels[lang][key]
        return text.format(**params) if params else text
