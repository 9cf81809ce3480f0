"""Bot API parameters from any encoding.

PTB sends POST bodies that are either ``application/x-www-form-urlencoded`` (nested objects
such as reply_markup are JSON strings) or ``multipart/form-data`` when a file is uploaded (the
file part is named after the parameter, or after an ``attach://<name>`` reference). Plain JSON
bodies and GET query strings are accepted too, as Telegram does.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..markup import parse_json_param
from ..models import bad_request

logger = logging.getLogger(__name__)

__all__ = ["Upload", "Params", "read_params"]


@dataclass
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Typed access to Bot API parameters from any encoding."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: str, empty_desc: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if empty_desc:
                raise bad_request(empty_desc)
            return None
        if isinstance(value, bool):
            raise bad_request(f"field \"{name}\" must be of type Integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Integer") from None

    def float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Number") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).lower() in ("true", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None:
            return None
        return parse_json_param(value, name)

    def input_file(self, name: str) -> Upload | str | None:
        """An uploaded file (direct field or attach://), or a file_id/URL string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"{name} must be attached: file with name "
                                  f"\"{value[len('attach://'):]}\" not found in the request")
            return upload
        if isinstance(value, str):
            return value
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, str) and len(value) > 1000:
                value = value[:1000] + "…"
            out[key] = value
        for key, up in self.uploads.items():
            out[key] = f"<upload {up.filename or '?'} {len(up.data)} bytes>"
        return out


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value
    return Params(values, uploads)

