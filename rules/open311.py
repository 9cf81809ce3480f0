"""What the Open311 GeoReport v2 API accepts (Art. 4, 5): the form a platform posts, read
strictly, and the limits that keep one client from flooding the desk.

Pure: the web layer (bot/web/open311.py) hands in the raw body and renders what comes back.
Every refusal is an :class:`ApiRefusal` naming a template key (``templates/<lang>/open311.html``)
and the HTTP status the standard gives it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from rules.desk import EXTERNAL_REF_MAX, NAME_MAX
from rules.errors import RulesError
from rules.intake import InvalidInput, is_visible, parse_phone

__all__ = [
    "BODY_MAX", "DESCRIPTION_MAX", "ADDRESS_MAX", "IDS_MAX", "ApiRefusal", "OpenRequest", "parse_form", "parse_request",
    "parse_ids", "parse_request_id",
]

BODY_MAX = 64 * 1024
DESCRIPTION_MAX = 2000
ADDRESS_MAX = 200
# service_request_id=a,b,...: more than this in one GET is a scan, not a follow-up.
IDS_MAX = 100


class ApiRefusal(RulesError):
    """``reason`` is the template macro's key; ``status`` the HTTP status."""

    def __init__(self, status: int, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class OpenRequest:
    service_code: str
    address: str
    description: str
    name: str | None
    phone: str | None
    external_id: str | None


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as the standard's POST sends it: UTF-8,
    every pair ``key=value``, each key once. Anything else is malformed (400)."""
    if len(body) > BODY_MAX:
        raise ApiRefusal(413, "too_large", limit=BODY_MAX)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ApiRefusal(400, "malformed") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise ApiRefusal(400, "repeated", field=key[:40])
        form[key] = value
    return form


def _text(form: dict[str, str], key: str, limit: int, *, required: bool) -> str | None:
    value = " ".join(form.get(key, "").split()) if key != "description" else form.get(key, "").strip()
    if not value or not is_visible(value):
        if required:
            raise ApiRefusal(400, "missing", field=key)
        return None
    if "\x00" in value:
        raise ApiRefusal(400, "malformed")
    if len(value) > limit:
        raise ApiRefusal(400, "too_long", field=key, limit=limit, length=len(value))
    return value


def parse_request(form: dict[str, str], service_codes: frozenset[str]) -> OpenRequest:
    """``POST requests.json``: service_code (a category code, exactly), address_string,
    description, first_name/last_name, phone, and the extension external_id."""
    code = form.get("service_code", "").strip()
    if not code:
        raise ApiRefusal(400, "missing", field="service_code")
    if code not in service_codes:
        raise ApiRefusal(400, "unknown_service", code=code[:40])
    address = _text(form, "address_string", ADDRESS_MAX, required=True)
    description = _text(form, "description", DESCRIPTION_MAX, required=True)
    first = _text(form, "first_name", NAME_MAX, required=False)
    last = _text(form, "last_name", NAME_MAX, required=False)
    phone = None
    raw_phone = _text(form, "phone", 40, required=False)
    if raw_phone is not None:
        try:
            phone = parse_phone(raw_phone)
        except InvalidInput:
            raise ApiRefusal(400, "bad_phone") from None
    external = _text(form, "external_id", EXTERNAL_REF_MAX, required=False)
    if external is not None and not external.isprintable():
        raise ApiRefusal(400, "malformed")
    name = " ".join(p for p in (last, first) if p) or None     # Chinese order: family name first
    return OpenRequest(code, address, description, name, phone, external)


def parse_ids(text: str) -> list[int]:
    """``0001,12`` → [1, 12]; a part that is not a ticket number is a 400, not an empty answer."""
    parts = [p.strip() for p in text.split(",")]
    if not parts or len(parts) > IDS_MAX:
        raise ApiRefusal(400, "bad_id", id=text[:40])
    ids = []
    for part in parts:
        number = parse_request_id(part)
        if number is None:
            raise ApiRefusal(400, "bad_id", id=part[:40])
        ids.append(number)
    return ids


def parse_request_id(text: str) -> int | None:
    """A ticket number as the API shows it (``0001``): ASCII digits only, at most 18 of them
    (SQLite's INTEGER), not zero. ``"１"`` or ``"1e3"`` are no ticket numbers."""
    if not text or len(text) > 18 or not all("0" <= c <= "9" for c in text):
        return None
    value = int(text)
    return value or None
